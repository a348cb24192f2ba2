package raftstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Multipart uploads (S3): an upload is created, parts are stored one by
// one (each streamed into the store like a put, then recorded by an
// event), and a completion turns a list of them into one object version
// whose payload is the parts in order. Nothing is copied or re-encoded at
// completion: the object's record lists the parts' own payloads.

// MinPartSize is the smallest part (but the last) a completion accepts.
const MinPartSize = 5 << 20

// MaxPartSize is the largest part S3 accepts.
const MaxPartSize = 5 << 30

// CreateMultipart starts an upload of bucket/key with the object's
// content type, metadata, tags and lock taken from hdr, and returns its id.
func (n *Node) CreateMultipart(ctx context.Context, hdr *nodepb.PutObjectHeader) (string, error) {
	if err := validObjectName(hdr.GetBucket(), hdr.GetKey()); err != nil {
		return "", err
	}
	if err := validTags(hdr.GetTags()); err != nil {
		return "", err
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	id := hex.EncodeToString(b[:])
	_, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_MULTIPART_CREATE, Principal: hdr.GetPrincipal(), Body: &journalpb.Event_MultipartCreate{
		MultipartCreate: &journalpb.MultipartCreate{
			Bucket: hdr.GetBucket(), Key: hdr.GetKey(), UploadId: id, ContentType: hdr.GetContentType(),
			Metadata: hdr.GetMetadata(), Tags: hdr.GetTags(), Lock: hdr.GetLock(),
		},
	}})
	return id, err
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number         uint32
	Size           int64
	MD5            []byte
	MtimeUnixNanos int64
}

// UploadPart stores body as part number of an upload; size, when not
// negative, is the length the client declared. A part of the same number
// is replaced.
func (n *Node) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, size int64, body io.Reader, principal string) (PartInfo, error) {
	if err := validObjectName(bucket, key); err != nil {
		return PartInfo{}, err
	}
	if number < 1 || number > MaxParts {
		return PartInfo{}, fmt.Errorf("%w: part number %d is outside 1..%d", ErrInvalidArgument, number, MaxParts)
	}
	if err := validUploadID(uploadID); err != nil {
		return PartInfo{}, err
	}
	// Refuse early a part for an upload that does not exist, before its
	// bytes are stored (the state machine checks again at commit).
	if err := n.linearize(ctx); err != nil {
		return PartInfo{}, err
	}
	if _, _, _, err := n.fsm.index().listParts(bucket, key, uploadID, MaxParts, 1); err != nil {
		return PartInfo{}, err
	}
	pl, err := n.storePayload(ctx, bucket, key, body)
	if err != nil {
		return PartInfo{}, err
	}
	if size >= 0 && pl.size != size {
		return PartInfo{}, fmt.Errorf("%w: part of %d bytes, header said %d", ErrInvalidArgument, pl.size, size)
	}
	part := &journalpb.Part{Number: uint32(number), Size: pl.size, Md5: pl.md5, InlineData: pl.inline, Manifest: pl.manifest}
	c, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_MULTIPART_PART, Principal: principal, Body: &journalpb.Event_MultipartPart{
		MultipartPart: &journalpb.MultipartPart{Bucket: bucket, Key: key, UploadId: uploadID, Part: part},
	}})
	if err != nil {
		return PartInfo{}, err
	}
	return PartInfo{Number: uint32(number), Size: pl.size, MD5: pl.md5, MtimeUnixNanos: c.HLC.GetWallNanos()}, nil
}

// CompleteRequest completes a multipart upload.
type CompleteRequest struct {
	Bucket, Key, UploadID string
	Parts                 []*journalpb.PartRef
	// IfNoneMatchAny / IfMatchMD5: conditions on the current object at
	// commit, as for a put.
	IfNoneMatchAny bool
	IfMatchMD5     []byte
	// MinPartSize overrides MinPartSize when positive (tests).
	MinPartSize int64
	Principal   string
}

// CompleteMultipart turns the parts into the object and ends the upload.
func (n *Node) CompleteMultipart(ctx context.Context, req CompleteRequest) (*nodepb.ObjectInfo, error) {
	minPart := req.MinPartSize
	if minPart <= 0 {
		minPart = MinPartSize
	}
	mc := &journalpb.MultipartComplete{Bucket: req.Bucket, Key: req.Key, UploadId: req.UploadID, Parts: req.Parts, MinPartSize: minPart}
	if req.IfNoneMatchAny || req.IfMatchMD5 != nil {
		mc.Precondition = &journalpb.Precondition{IfNoneMatchAny: req.IfNoneMatchAny, IfMatchMd5: req.IfMatchMD5}
	}
	c, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_MULTIPART_COMPLETE, Principal: req.Principal, Body: &journalpb.Event_MultipartComplete{MultipartComplete: mc}})
	if err != nil {
		return nil, err
	}
	o := c.Outcome
	return &nodepb.ObjectInfo{
		Bucket: req.Bucket, Key: req.Key, Size: o.GetSize(), Md5: o.GetMd5(), Parts: o.GetParts(),
		VersionId: o.GetVersionId(), MtimeUnixNanos: c.HLC.GetWallNanos(), Index: c.RaftIndex, IsLatest: true,
	}, nil
}

// AbortMultipart ends an upload and drops its parts.
func (n *Node) AbortMultipart(ctx context.Context, bucket, key, uploadID, principal string) error {
	if err := validUploadID(uploadID); err != nil {
		return err
	}
	_, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_MULTIPART_ABORT, Principal: principal, Body: &journalpb.Event_MultipartAbort{
		MultipartAbort: &journalpb.MultipartAbort{Bucket: bucket, Key: key, UploadId: uploadID},
	}})
	return err
}

// UploadInfo describes an upload in progress.
type UploadInfo struct {
	Bucket, Key, UploadID string
	Principal             string
	InitiatedUnixNanos    int64
	ContentType           string
	Metadata              map[string]string
}

func uploadInfo(ev *journalpb.Event) UploadInfo {
	c := ev.GetMultipartCreate()
	return UploadInfo{
		Bucket: c.GetBucket(), Key: c.GetKey(), UploadID: c.GetUploadId(), Principal: ev.GetPrincipal(),
		InitiatedUnixNanos: ev.GetHlc().GetWallNanos(), ContentType: c.GetContentType(), Metadata: c.GetMetadata(),
	}
}

// ListParts returns an upload and its parts numbered above marker, at
// most limit (1..MaxListLimit; 0 means MaxListLimit).
func (n *Node) ListParts(ctx context.Context, bucket, key, uploadID string, marker, limit int) (UploadInfo, []PartInfo, bool, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if marker < 0 || marker > MaxParts {
		return UploadInfo{}, nil, false, fmt.Errorf("%w: part number marker %d", ErrInvalidArgument, marker)
	}
	if err := validUploadID(uploadID); err != nil {
		return UploadInfo{}, nil, false, err
	}
	if err := n.linearize(ctx); err != nil {
		return UploadInfo{}, nil, false, err
	}
	up, evs, truncated, err := n.fsm.index().listParts(bucket, key, uploadID, uint32(marker), limit)
	if err != nil {
		return UploadInfo{}, nil, false, err
	}
	parts := make([]PartInfo, len(evs))
	for i, ev := range evs {
		p := ev.GetMultipartPart().GetPart()
		parts[i] = PartInfo{Number: p.GetNumber(), Size: p.GetSize(), MD5: p.GetMd5(), MtimeUnixNanos: ev.GetHlc().GetWallNanos()}
	}
	return uploadInfo(up), parts, truncated, nil
}

// ListUploads lists the uploads in progress whose keys start with prefix,
// by key and upload id, after (keyMarker, uploadMarker).
func (n *Node) ListUploads(ctx context.Context, bucket, prefix, keyMarker, uploadMarker string, limit int) ([]UploadInfo, bool, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if err := n.linearize(ctx); err != nil {
		return nil, false, err
	}
	evs, truncated, err := n.fsm.index().listUploads(bucket, prefix, keyMarker, uploadMarker, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]UploadInfo, len(evs))
	for i, ev := range evs {
		out[i] = uploadInfo(ev)
	}
	return out, truncated, nil
}

// PartRange returns where part number (1-based) of a version lies in the
// object: its offset and size. The version must be the one whose raft
// index is index (0: any), so a caller that read the object's description
// does not get the parts of a later write. A single-part object has one
// part, the whole object.
func (n *Node) PartRange(ctx context.Context, bucket, key, versionID string, index uint64, number int) (int64, int64, error) {
	if err := n.linearize(ctx); err != nil {
		return 0, 0, err
	}
	rec, _, err := n.fsm.index().getVersion(bucket, key, versionID)
	if err != nil {
		return 0, 0, err
	}
	if rec.isMarker() || (index != 0 && rec.RaftIndex != index) {
		return 0, 0, fmt.Errorf("%w: %s/%s changed", ErrPrecondition, bucket, key)
	}
	p := rec.put()
	if len(p.GetParts()) == 0 {
		if number != 1 {
			return 0, 0, fmt.Errorf("%w: part %d of a single-part object", ErrInvalidPart, number)
		}
		return 0, p.GetSize(), nil
	}
	if number < 1 || number > len(p.GetParts()) {
		return 0, 0, fmt.Errorf("%w: part %d of an object of %d parts", ErrInvalidPart, number, len(p.GetParts()))
	}
	var off int64
	for _, part := range p.GetParts()[:number-1] {
		off += part.GetSize()
	}
	return off, p.GetParts()[number-1].GetSize(), nil
}
