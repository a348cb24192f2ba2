package s3

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Multipart uploads. Parts stream into the store as they arrive (no part
// is ever held whole in memory) and each is recorded by one event;
// completion is one event that turns the parts into the object, so a
// reader sees either no object or all of it.

func (g *Gateway) createMultipartUpload(q *request) error {
	if err := unsupportedWrite(q.r.Header); err != nil {
		return err
	}
	if err := drain(q.auth.Body); err != nil {
		return err
	}
	meta, err := s3api.ParseObjectMeta(q.r.Header)
	if err != nil {
		return err
	}
	hdr := &nodepb.PutObjectHeader{
		Bucket: q.bucket, Key: q.key, ContentType: meta.ContentType, Metadata: metaToMap(meta), Principal: q.principal,
	}
	if err := g.writeAttributes(q, hdr); err != nil {
		return err
	}
	id, err := g.node.CreateMultipart(q.r.Context(), hdr)
	if err != nil {
		return err
	}
	return writeXML(q, s3api.InitiateMultipartUploadResult{Bucket: q.bucket, Key: q.key, UploadID: id})
}

// uploadParams reads uploadId (and partNumber, when wanted).
func uploadParams(q *request, wantPart bool) (string, int, error) {
	id := q.query.Get("uploadId")
	if err := s3api.ValidUploadID(id); err != nil {
		return "", 0, err
	}
	if !wantPart {
		return id, 0, nil
	}
	n, err := s3api.ParsePartNumber(q.query.Get("partNumber"))
	return id, n, err
}

func (g *Gateway) uploadPart(q *request) error {
	if q.r.Header.Get("X-Amz-Copy-Source") != "" {
		return g.uploadPartCopy(q)
	}
	id, number, err := uploadParams(q, true)
	if err != nil {
		return err
	}
	size := q.auth.DecodedLength
	if size < 0 {
		return s3err.ErrMissingContentLength
	}
	if size > raftstore.MaxPartSize {
		return s3err.ErrEntityTooLarge.With("A part is at most 5 GiB.")
	}
	body, err := g.checkedBody(q)
	if err != nil {
		return err
	}
	part, err := g.node.UploadPart(q.r.Context(), q.bucket, q.key, id, number, size, body, q.principal)
	if err != nil {
		return err
	}
	g.writeChecksums(q, body)
	q.w.Header().Set("ETag", s3api.QuoteETag(fmt.Sprintf("%x", part.MD5)))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// uploadPartCopy is UploadPartCopy: a range of a source object streams
// into the part, as CopyObject does.
func (g *Gateway) uploadPartCopy(q *request) error {
	id, number, err := uploadParams(q, true)
	if err != nil {
		return err
	}
	src, err := s3api.ParseCopySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if err := drain(q.auth.Body); err != nil {
		return err
	}
	info, err := g.copySource(q, src)
	if err != nil {
		return err
	}
	off, n := int64(0), info.GetSize()
	if v := q.r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		rng, err := s3api.ParseCopySourceRange(v, info.GetSize())
		if err != nil {
			return err
		}
		off, n = rng.Start, rng.Length
	}
	if n > raftstore.MaxPartSize {
		return s3err.ErrEntityTooLarge.With("A part is at most 5 GiB; copy a range of the source.")
	}
	var part raftstore.PartInfo
	err = g.copyStream(q, src, info, off, n, func(r io.Reader) (err error) {
		part, err = g.node.UploadPart(q.r.Context(), q.bucket, q.key, id, number, n, r, q.principal)
		return err
	})
	if err != nil {
		return err
	}
	if src.VersionID != "" || info.GetVersionId() != raftstore.NullVersion {
		q.w.Header().Set("X-Amz-Copy-Source-Version-Id", info.GetVersionId())
	}
	return writeXML(q, s3api.CopyPartResult{
		ETag: s3api.ETag(fmt.Sprintf("%x", part.MD5)), LastModified: s3api.Timestamp(time.Unix(0, part.MtimeUnixNanos)),
	})
}

func (g *Gateway) completeMultipartUpload(q *request) error {
	id, _, err := uploadParams(q, false)
	if err != nil {
		return err
	}
	c, err := readBody(g, q, s3api.ParseCompleteMultipartUpload)
	if err != nil {
		return err
	}
	req := raftstore.CompleteRequest{Bucket: q.bucket, Key: q.key, UploadID: id, Principal: q.principal, MinPartSize: g.cfg.MinPartSize}
	for _, p := range c.Parts {
		m, ok := md5FromETag(string(p.ETag))
		if !ok {
			return s3err.ErrInvalidPart.With("Part %d has an ETag that no part can have.", p.PartNumber)
		}
		req.Parts = append(req.Parts, &journalpb.PartRef{Number: uint32(p.PartNumber), Md5: m})
	}
	var hdr nodepb.PutObjectHeader
	if err := writePreconditions(q.r.Header, &hdr); err != nil {
		return err
	}
	req.IfNoneMatchAny, req.IfMatchMD5 = hdr.GetIfNoneMatchAny(), hdr.GetIfMatchMd5()
	info, err := g.node.CompleteMultipart(q.r.Context(), req)
	if err != nil {
		return err
	}
	setVersionHeader(q.w.Header(), info.GetVersionId())
	return writeXML(q, s3api.CompleteMultipartUploadResult{
		Location: "/" + q.bucket + "/" + q.key, Bucket: q.bucket, Key: q.key, ETag: s3api.ETag(etagOf(info)),
	})
}

func (g *Gateway) abortMultipartUpload(q *request) error {
	id, _, err := uploadParams(q, false)
	if err != nil {
		return err
	}
	if err := g.node.AbortMultipart(q.r.Context(), q.bucket, q.key, id, q.principal); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (g *Gateway) listParts(q *request) error {
	id, _, err := uploadParams(q, false)
	if err != nil {
		return err
	}
	maxParts, err := s3api.ParseMaxParts(q.query.Get("max-parts"))
	if err != nil {
		return err
	}
	marker, err := s3api.ParsePartNumberMarker(q.query.Get("part-number-marker"))
	if err != nil {
		return err
	}
	res := s3api.ListPartsResult{
		Bucket: q.bucket, Key: q.key, UploadID: id, PartNumberMarker: marker, MaxParts: maxParts,
		StorageClass: s3api.StorageStandard,
	}
	limit := maxParts
	if limit == 0 {
		limit = 1
	}
	up, parts, truncated, err := g.node.ListParts(q.r.Context(), q.bucket, q.key, id, marker, limit)
	if err != nil {
		return err
	}
	owner := &s3api.Owner{ID: up.Principal, DisplayName: up.Principal}
	res.Initiator, res.Owner = owner, owner
	if maxParts == 0 {
		return writeXML(q, res)
	}
	for _, p := range parts {
		res.Parts = append(res.Parts, s3api.Part{
			PartNumber: int(p.Number), LastModified: s3api.Timestamp(time.Unix(0, p.MtimeUnixNanos)),
			ETag: s3api.ETag(fmt.Sprintf("%x", p.MD5)), Size: p.Size,
		})
		res.NextPartNumberMarker = int(p.Number)
	}
	res.IsTruncated = truncated
	return writeXML(q, res)
}

func (g *Gateway) listMultipartUploads(q *request) error {
	enc, err := s3api.ParseEncodingType(q.query.Get("encoding-type"))
	if err != nil {
		return err
	}
	maxUploads, err := s3api.ParseMaxUploads(q.query.Get("max-uploads"))
	if err != nil {
		return err
	}
	prefix, delimiter := q.query.Get("prefix"), q.query.Get("delimiter")
	keyMarker, uploadMarker := q.query.Get("key-marker"), q.query.Get("upload-id-marker")
	if keyMarker == "" {
		uploadMarker = "" // S3 ignores an upload id marker without a key marker
	}
	res := s3api.ListMultipartUploadsResult{
		Bucket: q.bucket, KeyMarker: keyMarker, UploadIDMarker: uploadMarker, Delimiter: delimiter, Prefix: prefix,
		EncodingType: enc, MaxUploads: maxUploads,
	}
	if maxUploads == 0 {
		if err := g.bucketExists(q); err != nil {
			return err
		}
		return writeXML(q, res)
	}
	cursorKey, cursorUpload := resumeAfter(keyMarker, prefix, delimiter), uploadMarker
	count := 0
	for {
		batch, more, err := g.node.ListUploads(q.r.Context(), q.bucket, prefix, cursorKey, cursorUpload, raftstore.MaxListLimit)
		if err != nil {
			return err
		}
		regroup := false
		for _, u := range batch {
			if count == maxUploads {
				res.IsTruncated = true
				return writeXML(q, res)
			}
			if delimiter != "" {
				if i := strings.Index(u.Key[len(prefix):], delimiter); i >= 0 {
					cp := u.Key[:len(prefix)+i+len(delimiter)]
					res.CommonPrefixes = append(res.CommonPrefixes, s3api.CommonPrefix{Prefix: cp})
					count++
					res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
					cursorKey, cursorUpload = skipGroup(cp), ""
					regroup = true
					break
				}
			}
			owner := &s3api.Owner{ID: u.Principal, DisplayName: u.Principal}
			res.Uploads = append(res.Uploads, s3api.Upload{
				Key: u.Key, UploadID: u.UploadID, Initiator: owner, Owner: owner, StorageClass: s3api.StorageStandard,
				Initiated: s3api.Timestamp(time.Unix(0, u.InitiatedUnixNanos)),
			})
			count++
			res.NextKeyMarker, res.NextUploadIDMarker = u.Key, u.UploadID
			cursorKey, cursorUpload = u.Key, u.UploadID
		}
		if !regroup && !more {
			return writeXML(q, res)
		}
	}
}
