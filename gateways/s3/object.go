package s3

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/gateways/s3/sigv4"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// MaxPutSize is the largest single PUT S3 accepts (5 GiB); larger objects
// need a multipart upload.
const MaxPutSize = 5 << 30

// The object API stores metadata as a string map: user metadata under
// "x-amz-meta-NAME", the standard headers under their canonical names.
var storedHeaders = []string{"Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires", "X-Amz-Website-Redirect-Location", "X-Amz-Storage-Class"}

func metaToMap(m s3api.ObjectMeta) map[string]string {
	out := map[string]string{}
	for k, v := range m.User {
		out["x-amz-meta-"+k] = v
	}
	h := http.Header{}
	m.WriteHeaders(h)
	for _, name := range storedHeaders {
		if v := h.Get(name); v != "" {
			out[name] = v
		}
	}
	return out
}

func metaFromInfo(info *nodepb.ObjectInfo) s3api.ObjectMeta {
	m := s3api.ObjectMeta{ContentType: info.GetContentType()}
	for k, v := range info.GetMetadata() {
		if name, ok := strings.CutPrefix(k, "x-amz-meta-"); ok {
			if m.User == nil {
				m.User = map[string]string{}
			}
			m.User[name] = v
		}
	}
	md := info.GetMetadata()
	m.ContentEncoding, m.ContentDisposition = md["Content-Encoding"], md["Content-Disposition"]
	m.ContentLanguage, m.CacheControl, m.Expires = md["Content-Language"], md["Cache-Control"], md["Expires"]
	m.WebsiteRedirectLocation = md["X-Amz-Website-Redirect-Location"]
	m.StorageClass = s3api.StorageClass(md["X-Amz-Storage-Class"])
	return m
}

// etagOf is the S3 ETag of an object: the MD5 of its content, or for a
// multipart object the MD5 of its parts' MD5s and the number of parts.
func etagOf(info *nodepb.ObjectInfo) string {
	e := hex.EncodeToString(info.GetMd5())
	if info.GetParts() > 0 {
		e += fmt.Sprintf("-%d", info.GetParts())
	}
	return e
}

// md5FromETag returns the MD5 an ETag (quoted or not, single or
// multipart) carries.
func md5FromETag(etag string) ([]byte, bool) {
	e := s3api.UnquoteETag(etag)
	if i := strings.IndexByte(e, '-'); i >= 0 {
		e = e[:i]
	}
	b, err := hex.DecodeString(e)
	return b, err == nil && len(b) == 16
}

// checkedBody wraps the verified payload in the digests the request
// declares (Content-MD5, x-amz-checksum-*): a mismatch is reported when
// the body's end is read, before anything is committed.
func (g *Gateway) checkedBody(q *request) (*sigv4.ChecksumReader, error) {
	spec, err := sigv4.ParseChecksumHeaders(q.r.Header)
	if err != nil {
		return nil, err
	}
	if spec.InTrailer && !q.auth.Chunked {
		return nil, s3err.ErrInvalidRequest.With("x-amz-trailer needs an aws-chunked body.")
	}
	if spec.InTrailer {
		// The trailer's checksum was verified by the chunked decoder; the
		// reader here only needs to compute it for the response.
		spec.Expected = nil
	}
	var extra []sigv4.ChecksumAlgorithm
	if spec.Algorithm != "" {
		extra = append(extra, spec.Algorithm)
	}
	return sigv4.NewChecksumReader(q.auth.Body, spec, extra...), nil
}

// drain reads what is left of a body to its end, where its digests are
// checked.
func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// unsupportedWrite refuses object features this gateway does not have,
// rather than ignoring what the client asked for.
func unsupportedWrite(h http.Header) error {
	if sse := h.Get("X-Amz-Server-Side-Encryption"); sse != "" {
		return s3err.ErrNotImplemented.With("Server-side encryption %q is not implemented by this gateway.", sse)
	}
	return nil
}

// writePreconditions turns If-None-Match: * and If-Match into conditions
// the state machine checks at commit.
func writePreconditions(h http.Header, hdr *nodepb.PutObjectHeader) error {
	if v := h.Get("If-None-Match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return s3err.ErrNotImplemented.With("If-None-Match on a write accepts only '*'.")
		}
		hdr.IfNoneMatchAny = true
	}
	if v := h.Get("If-Match"); v != "" {
		m, ok := md5FromETag(v)
		if !ok {
			return s3err.ErrPreconditionFailed
		}
		hdr.IfMatchMd5 = m
	}
	return nil
}

func (g *Gateway) putObject(q *request) error {
	if err := unsupportedWrite(q.r.Header); err != nil {
		return err
	}
	size := q.auth.DecodedLength
	if size < 0 {
		return s3err.ErrMissingContentLength
	}
	if size > MaxPutSize {
		return s3err.ErrEntityTooLarge.With("A single PUT is at most 5 GiB; use a multipart upload.")
	}
	meta, err := s3api.ParseObjectMeta(q.r.Header)
	if err != nil {
		return err
	}
	body, err := g.checkedBody(q)
	if err != nil {
		return err
	}
	hdr := &nodepb.PutObjectHeader{
		Bucket: q.bucket, Key: q.key, ContentType: meta.ContentType, Metadata: metaToMap(meta),
		Size: size, Principal: q.principal,
	}
	if err := writePreconditions(q.r.Header, hdr); err != nil {
		return err
	}
	if err := g.writeAttributes(q, hdr); err != nil {
		return err
	}
	info, err := g.node.PutObject(q.r.Context(), hdr, body)
	if err != nil {
		return err
	}
	g.writeChecksums(q, body)
	q.w.Header().Set("ETag", s3api.QuoteETag(etagOf(info)))
	setVersionHeader(q.w.Header(), info.GetVersionId())
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// writeAttributes reads the tagging and object lock headers of a write.
func (g *Gateway) writeAttributes(q *request, hdr *nodepb.PutObjectHeader) error {
	if v := q.r.Header.Get("X-Amz-Tagging"); v != "" {
		tags, err := s3api.ParseTaggingHeader(v)
		if err != nil {
			return err
		}
		hdr.Tags = tagsToMap(tags)
	}
	lh, err := s3api.ParseObjectLockHeaders(q.r.Header)
	if err != nil {
		return err
	}
	if lh.Mode != "" || lh.LegalHold != "" {
		if !lh.RetainUntilDate.IsZero() && !lh.RetainUntilDate.After(g.now()) {
			return s3err.ErrInvalidArgument.With("The retain until date must be in the future!")
		}
		hdr.Lock = &journalpb.ObjectLock{Mode: string(lh.Mode), LegalHold: lh.LegalHold == s3api.LegalHoldOn}
		if lh.Mode != "" {
			hdr.Lock.RetainUntilNanos = lh.RetainUntilDate.UnixNano()
		}
	}
	return nil
}

// setVersionHeader sets x-amz-version-id, except for the null version of
// a bucket that does not version, which S3 does not name.
func setVersionHeader(h http.Header, id string) {
	if id != "" && id != raftstore.NullVersion {
		h.Set("X-Amz-Version-Id", id)
	}
}

func tagsToMap(tags []s3api.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// writeObjectHeaders sets the version, lock, tagging and replication
// headers of a GET or HEAD.
func writeObjectHeaders(h http.Header, info *nodepb.ObjectInfo) {
	setVersionHeader(h, info.GetVersionId())
	if l := info.GetLock(); l != nil {
		lh := s3api.ObjectLockHeaders{Mode: s3api.RetentionMode(l.GetMode())}
		if l.GetMode() != "" {
			lh.RetainUntilDate = time.Unix(0, l.GetRetainUntilNanos()).UTC()
		}
		if l.GetLegalHold() {
			lh.LegalHold = s3api.LegalHoldOn
		}
		lh.WriteHeaders(h)
	}
	if n := len(info.GetTags()); n > 0 {
		h.Set("X-Amz-Tagging-Count", fmt.Sprint(n))
	}
	if rs := info.GetReplicationStatus(); rs != "" {
		h.Set("X-Amz-Replication-Status", rs)
	}
	if p := info.GetParts(); p > 0 {
		h.Set("X-Amz-Mp-Parts-Count", fmt.Sprint(p))
	}
}

// markerError answers a request that met a delete marker: S3 names the
// marker in headers beside the 404 (current) or 405 (by version id).
func markerError(q *request, info *nodepb.ObjectInfo, err error) error {
	if info == nil || !info.GetDeleteMarker() {
		return err
	}
	q.w.Header().Set("X-Amz-Delete-Marker", "true")
	setVersionHeader(q.w.Header(), info.GetVersionId())
	if errors.Is(err, raftstore.ErrDeleteMarker) {
		q.w.Header().Set("Last-Modified", s3api.FormatHTTPTime(time.Unix(0, info.GetMtimeUnixNanos())))
		return s3err.ErrMethodNotAllowed.With("The specified method is not allowed against a delete marker.").Wrap(err)
	}
	return err
}

// versionParam returns the versionId query parameter ("null" included).
func versionParam(q *request) (string, error) {
	if !q.query.Has("versionId") {
		return "", nil
	}
	v := q.query.Get("versionId")
	if err := s3api.ValidVersionID(v); err != nil || v == "" {
		return "", s3err.ErrInvalidArgument.With("Invalid version id specified.")
	}
	return v, nil
}

// writeChecksums echoes the checksum the client asked for.
func (g *Gateway) writeChecksums(q *request, body *sigv4.ChecksumReader) {
	for _, a := range sigv4.ChecksumAlgorithms() {
		if v, ok := body.Checksum(a); ok {
			q.w.Header().Set(a.HeaderName(), v)
		}
	}
}

// errChanged: the object was replaced between reading its description and
// its bytes; the read starts over.
var errChanged = errors.New("s3: object changed during the read")

func (g *Gateway) getObject(q *request) error {
	ctx := q.r.Context()
	version, err := versionParam(q)
	if err != nil {
		return err
	}
	for range 5 {
		info, err := g.node.HeadVersion(ctx, q.bucket, q.key, version)
		if err != nil {
			return markerError(q, info, err)
		}

		etag := etagOf(info)
		mtime := time.Unix(0, info.GetMtimeUnixNanos())
		if err := s3api.EvalConditions(q.r.Method, q.r.Header, etag, mtime); err != nil {
			if errors.Is(err, s3err.ErrNotModified) {
				h := q.w.Header()
				h.Set("ETag", s3api.QuoteETag(etag))
				h.Set("Last-Modified", s3api.FormatHTTPTime(mtime))
				q.w.WriteHeader(http.StatusNotModified)
				return nil
			}
			return err
		}
		size := info.GetSize()
		rng, partial, err := s3api.ParseRange(q.r.Header.Get("Range"), size)
		if err != nil {
			q.w.Header().Set("Content-Range", s3api.UnsatisfiedContentRange(size))
			return err
		}
		if q.query.Has("partNumber") {
			// A part of a multipart object (part 1 of a single-part one
			// is the whole object), answered as the range it covers.
			number, err := s3api.ParsePartNumber(q.query.Get("partNumber"))
			if err != nil {
				return err
			}
			if partial {
				return s3err.ErrInvalidRequest.With("Cannot specify both Range header and partNumber query parameter.")
			}
			start, length, err := g.node.PartRange(ctx, q.bucket, q.key, version, info.GetIndex(), number)
			if errors.Is(err, raftstore.ErrPrecondition) {
				continue // replaced meanwhile: start over
			}
			if err != nil {
				return err
			}
			rng, partial = s3api.ByteRange{Start: start, Length: length}, info.GetParts() > 0
			if info.GetParts() == 0 {
				q.w.Header().Set("X-Amz-Mp-Parts-Count", "1")
			}
		}
		off, n := int64(0), size
		if partial {
			off, n = rng.Start, rng.Length
		}
		meta := metaFromInfo(info)
		meta.ApplyResponseOverrides(q.query)
		writeHeaders := func(cur *nodepb.ObjectInfo) error {
			if cur.GetIndex() != info.GetIndex() {
				return errChanged
			}
			h := q.w.Header()
			meta.WriteHeaders(h)
			writeObjectHeaders(h, info)
			h.Set("ETag", s3api.QuoteETag(etag))
			h.Set("Last-Modified", s3api.FormatHTTPTime(mtime))
			h.Set("Accept-Ranges", "bytes")
			h.Set("Content-Length", fmt.Sprint(n))
			status := http.StatusOK
			if partial {
				h.Set("Content-Range", rng.ContentRange(size))
				status = http.StatusPartialContent
			}
			q.w.WriteHeader(status)
			return nil
		}
		if q.r.Method == http.MethodHead {
			return writeHeaders(info)
		}
		cw := &countingWriter{w: q.w}
		err = g.node.GetVersion(ctx, q.bucket, q.key, version, off, n, cw, writeHeaders)
		switch {
		case errors.Is(err, errChanged):
			continue
		case err != nil && cw.wroteHeader():
			// The status line is out: the only honest signal left is a
			// broken response, never a short one that looks complete.
			g.log.Error("s3 read failed mid-response", "id", q.id, "bucket", q.bucket, "key", q.key, "sent", cw.n, "err", err)
			panic(http.ErrAbortHandler)
		}
		return err
	}
	return s3err.ErrServiceUnavailable.With("The object kept changing while it was being read.")
}

// countingWriter counts what reached the client.
type countingWriter struct {
	w  io.Writer
	mu sync.Mutex
	n  int64
	// started is set once GetObject's info callback wrote the status.
	started bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

// wroteHeader reports whether any byte (and so the status) was sent.
func (c *countingWriter) wroteHeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

func (g *Gateway) deleteObject(q *request) error {
	req := raftstore.DeleteRequest{Bucket: q.bucket, Key: q.key, Principal: q.principal}
	if v := q.r.Header.Get("If-Match"); v != "" {
		m, ok := md5FromETag(v)
		if !ok {
			return s3err.ErrPreconditionFailed
		}
		req.IfMatchMD5 = m
	}
	var err error
	if req.VersionID, err = versionParam(q); err != nil {
		return err
	}
	if req.BypassGovernance, err = g.bypass(q); err != nil {
		return err
	}
	out, err := g.node.DeleteVersion(q.r.Context(), req)
	switch {
	case errors.Is(err, raftstore.ErrNoSuchKey) && req.IfMatchMD5 != nil:
		return s3err.ErrNoSuchKey
	case errors.Is(err, raftstore.ErrNoSuchKey), errors.Is(err, raftstore.ErrNoSuchVersion) && req.VersionID != "":
		// Deleting what is not there succeeds, as in S3.
	case err != nil:
		return err
	default:
		setVersionHeader(q.w.Header(), out.GetVersionId())
		if out.GetVersionId() == raftstore.NullVersion && req.VersionID != "" {
			q.w.Header().Set("X-Amz-Version-Id", raftstore.NullVersion)
		}
		if out.GetDeleteMarker() {
			q.w.Header().Set("X-Amz-Delete-Marker", "true")
		}
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// bypass reads x-amz-bypass-governance-retention; only administrators
// may bypass a GOVERNANCE retention (the permission AWS calls
// s3:BypassGovernanceRetention).
func (g *Gateway) bypass(q *request) (bool, error) {
	lh, err := s3api.ParseObjectLockHeaders(http.Header{"X-Amz-Bypass-Governance-Retention": q.r.Header.Values("X-Amz-Bypass-Governance-Retention")})
	if err != nil || !lh.BypassGovernance {
		return false, err
	}
	admin, err := g.node.IsAdmin(q.r.Context(), q.principal)
	if err != nil {
		return false, err
	}
	if !admin {
		return false, s3err.ErrAccessDenied.With("Only administrators may bypass a GOVERNANCE retention.")
	}
	return true, nil
}

// copyObject is CopyObject: the source's bytes stream into a new put of the
// destination (the node re-encodes them; nothing is buffered whole).
func (g *Gateway) copyObject(q *request) error {
	if err := unsupportedWrite(q.r.Header); err != nil {
		return err
	}
	src, err := s3api.ParseCopySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	directive, err := s3api.ParseDirective(q.r.Header.Get("X-Amz-Metadata-Directive"))
	if err != nil {
		return err
	}
	tagDirective, err := s3api.ParseDirective(q.r.Header.Get("X-Amz-Tagging-Directive"))
	if err != nil {
		return err
	}
	if err := drain(q.auth.Body); err != nil {
		return err
	}
	ctx := q.r.Context()
	info, err := g.copySource(q, src)
	if err != nil {
		return err
	}
	if info.GetSize() > MaxPutSize {
		return s3err.ErrInvalidRequest.With("The source is larger than 5 GiB; copy it with UploadPartCopy.")
	}
	meta := metaFromInfo(info)
	if directive == s3api.DirectiveReplace {
		if meta, err = s3api.ParseObjectMeta(q.r.Header); err != nil {
			return err
		}
	} else if src.Bucket == q.bucket && src.Key == q.key && src.VersionID == "" && tagDirective == s3api.DirectiveCopy {
		return s3err.ErrInvalidRequest.With("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	hdr := &nodepb.PutObjectHeader{
		Bucket: q.bucket, Key: q.key, ContentType: meta.ContentType, Metadata: metaToMap(meta),
		Size: info.GetSize(), Principal: q.principal,
	}
	if err := writePreconditions(q.r.Header, hdr); err != nil {
		return err
	}
	if tagDirective == s3api.DirectiveCopy {
		hdr.Tags = info.GetTags()
	} else if v := q.r.Header.Get("X-Amz-Tagging"); v != "" {
		tags, err := s3api.ParseTaggingHeader(v)
		if err != nil {
			return err
		}
		hdr.Tags = tagsToMap(tags)
	}
	saveTags := hdr.Tags
	if err := g.writeAttributes(q, hdr); err != nil {
		return err
	}
	hdr.Tags = saveTags
	var out *nodepb.ObjectInfo
	err = g.copyStream(q, src, info, 0, -1, func(r io.Reader) (err error) {
		out, err = g.node.PutObject(ctx, hdr, r)
		return err
	})
	if err != nil {
		return err
	}
	setVersionHeader(q.w.Header(), out.GetVersionId())
	if src.VersionID != "" || info.GetVersionId() != raftstore.NullVersion {
		q.w.Header().Set("X-Amz-Copy-Source-Version-Id", info.GetVersionId())
	}
	return writeXML(q, s3api.CopyObjectResult{
		ETag: s3api.ETag(etagOf(out)), LastModified: s3api.Timestamp(time.Unix(0, out.GetMtimeUnixNanos())),
	})
}

// copySource describes the source of a copy and checks the copy-source
// conditions against it.
func (g *Gateway) copySource(q *request, src s3api.CopySource) (*nodepb.ObjectInfo, error) {
	info, err := g.node.HeadVersion(q.r.Context(), src.Bucket, src.Key, src.VersionID)
	if err != nil {
		if info.GetDeleteMarker() {
			return nil, s3err.ErrInvalidRequest.With("The source of a copy cannot be a delete marker.").Wrap(err)
		}
		return nil, err
	}
	etag, mtime := etagOf(info), time.Unix(0, info.GetMtimeUnixNanos())
	if err := s3api.EvalCopySourceConditions(q.r.Header, etag, mtime); err != nil {
		return nil, err
	}
	return info, nil
}

// copyStream streams bytes [off, off+n) of the source version info
// describes into sink (n -1: to the end); nothing is buffered whole. A
// source replaced meanwhile fails the copy.
func (g *Gateway) copyStream(q *request, src s3api.CopySource, info *nodepb.ObjectInfo, off, n int64, sink func(io.Reader) error) error {
	ctx := q.r.Context()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		readErr = g.node.GetVersion(ctx, src.Bucket, src.Key, src.VersionID, off, n, pw, func(cur *nodepb.ObjectInfo) error {
			if cur.GetIndex() != info.GetIndex() {
				return s3err.ErrPreconditionFailed.With("The source object changed during the copy.")
			}
			return nil
		})
		pw.CloseWithError(readErr) // nil closes with EOF
	})
	err := sink(pr)
	pr.CloseWithError(errors.New("s3: copy destination stopped reading"))
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	return err
}
