package raftstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// The internal object API: what the S3 and block gateways and ferryctl
// call. Writes are events through raft; reads are linearizable (they see
// every write acknowledged before they started).

// CreateBucket creates a bucket.
func (n *Node) CreateBucket(ctx context.Context, bucket, principal string) error {
	_, err := n.Propose(ctx, &journalpb.Event{
		Kind: journalpb.Kind_BUCKET_CREATE, Principal: principal,
		Body: &journalpb.Event_BucketCreate{BucketCreate: &journalpb.BucketCreate{Bucket: bucket, Owner: n.cfg.Site}},
	})
	return err
}

// DeleteBucket deletes an empty bucket.
func (n *Node) DeleteBucket(ctx context.Context, bucket, principal string) error {
	_, err := n.Propose(ctx, &journalpb.Event{
		Kind: journalpb.Kind_BUCKET_DELETE, Principal: principal,
		Body: &journalpb.Event_BucketDelete{BucketDelete: &journalpb.BucketDelete{Bucket: bucket}},
	})
	return err
}

// ListBuckets lists the site's buckets.
func (n *Node) ListBuckets(ctx context.Context) ([]*nodepb.BucketInfo, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	recs, err := n.fsm.index().listBuckets()
	if err != nil {
		return nil, err
	}
	out := make([]*nodepb.BucketInfo, len(recs))
	for i, r := range recs {
		out[i] = &nodepb.BucketInfo{Bucket: r.Name, CreatedUnixNanos: r.Created.UnixNano()}
	}
	return out, nil
}

// payload is a body as stored: inline, or erasure coded.
type payload struct {
	inline   []byte
	manifest *journalpb.Manifest
	size     int64
	md5      []byte
}

// storePayload reads body to its end. Up to the inline limit it is kept
// for the event; larger bodies are erasure-coded into the active pool,
// streaming, before anything is proposed.
func (n *Node) storePayload(ctx context.Context, bucket, key string, body io.Reader) (payload, error) {
	// Read up to the inline limit; one more byte says the body is larger.
	head := make([]byte, n.cfg.InlineBytes+1)
	got, err := io.ReadFull(body, head)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		sum := md5.Sum(head[:got])
		return payload{inline: head[:got], size: int64(got), md5: sum[:]}, nil
	case err != nil:
		return payload{}, fmt.Errorf("raftstore: put %s/%s: read body: %w", bucket, key, err)
	}
	// See every pool change acknowledged before this put, so a pool just
	// created takes the write.
	if err := n.linearize(ctx); err != nil {
		return payload{}, err
	}
	pool, err := n.fsm.index().activePool()
	if err != nil {
		return payload{}, err
	}
	spec := ecstore.PoolSpec{
		Name:       pool.Def.GetPool(),
		Profile:    ecstore.Profile{K: int(pool.Def.GetDataShards()), M: int(pool.Def.GetParityShards())},
		StripeSize: int(pool.Def.GetStripeSize()),
		IDKey:      pool.Def.GetIdKey(),
	}
	for _, d := range pool.Disks {
		spec.Disks = append(spec.Disks, ecstore.Location{Node: d.GetNode(), Disk: d.GetDisk()})
	}
	placementKey := []byte(bucket + "/" + key + "/" + n.clock.Now().Proto().String())
	// The MD5 (the ETag S3 clients check) is S3's concern, not the
	// store's: it is computed here, on the goroutine that feeds the store,
	// while the store codes the previous stripe.
	release, err := acquireSlot(ctx, n.writeSlots)
	if err != nil {
		return payload{}, err
	}
	defer release()
	h := md5.New()
	m, size, err := n.store.Write(ctx, spec, placementKey, io.TeeReader(io.MultiReader(bytes.NewReader(head), body), h))
	if err != nil {
		return payload{}, classify(fmt.Errorf("raftstore: put %s/%s: %w", bucket, key, err))
	}
	return payload{manifest: m, size: size, md5: h.Sum(nil)}, nil
}

// PutObject stores body as bucket/key. Small bodies ride inside the event;
// larger ones are erasure-coded into the active pool first, streaming, and
// the event carries the manifest. It returns once the event is committed
// and applied. Shards of a put that fails to commit become garbage and are
// collected after the grace period.
func (n *Node) PutObject(ctx context.Context, hdr *nodepb.PutObjectHeader, body io.Reader) (*nodepb.ObjectInfo, error) {
	if err := validObjectName(hdr.GetBucket(), hdr.GetKey()); err != nil {
		return nil, err
	}
	put := &journalpb.ObjectPut{
		Bucket: hdr.GetBucket(), Key: hdr.GetKey(), ContentType: hdr.GetContentType(), Metadata: hdr.GetMetadata(),
		Tags: hdr.GetTags(), Lock: hdr.GetLock(),
	}
	if err := validTags(put.Tags); err != nil {
		return nil, err
	}
	if err := validLock(put.Lock); err != nil {
		return nil, err
	}
	if hdr.GetIfNoneMatchAny() || hdr.GetIfMatchMd5() != nil {
		put.Precondition = &journalpb.Precondition{IfNoneMatchAny: hdr.GetIfNoneMatchAny(), IfMatchMd5: hdr.GetIfMatchMd5()}
	}
	pl, err := n.storePayload(ctx, hdr.GetBucket(), hdr.GetKey(), body)
	if err != nil {
		return nil, err
	}
	put.InlineData, put.Manifest, put.Size, put.Md5 = pl.inline, pl.manifest, pl.size, pl.md5
	if hdr.GetSize() > 0 && put.Size != hdr.GetSize() {
		return nil, fmt.Errorf("%w: body of %d bytes, header said %d", ErrInvalidArgument, put.Size, hdr.GetSize())
	}
	ev := &journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, Principal: hdr.GetPrincipal(), Body: &journalpb.Event_ObjectPut{ObjectPut: put}}
	c, err := n.Propose(ctx, ev)
	if err != nil {
		return nil, err
	}
	return &nodepb.ObjectInfo{
		Bucket: put.Bucket, Key: put.Key, Size: put.Size, Md5: put.Md5, ContentType: put.ContentType,
		Metadata: put.Metadata, Index: c.RaftIndex, ErasureCoded: put.Manifest != nil,
		MtimeUnixNanos: c.HLC.GetWallNanos(), VersionId: c.Outcome.GetVersionId(), IsLatest: true, Tags: put.Tags,
	}, nil
}

func objectInfo(r *objectRecord, latest bool) *nodepb.ObjectInfo {
	if r.isMarker() {
		d := r.Event.GetObjectDelete()
		return &nodepb.ObjectInfo{
			Bucket: d.GetBucket(), Key: d.GetKey(), VersionId: r.versionID(), DeleteMarker: true,
			MtimeUnixNanos: r.Event.GetHlc().GetWallNanos(), Index: r.RaftIndex, IsLatest: latest,
		}
	}
	p := r.put()
	return &nodepb.ObjectInfo{
		Bucket: p.GetBucket(), Key: p.GetKey(), Size: p.GetSize(), Md5: p.GetMd5(), ContentType: p.GetContentType(),
		Metadata: p.GetMetadata(), MtimeUnixNanos: r.Event.GetHlc().GetWallNanos(), VersionId: r.versionID(),
		Index: r.RaftIndex, ErasureCoded: p.GetManifest() != nil || len(p.GetParts()) > 0,
		Parts: uint32(len(p.GetParts())), Tags: p.GetTags(), Lock: p.GetLock(),
		ReplicationStatus: p.GetReplicationStatus(), IsLatest: latest,
	}
}

// HeadObject returns an object's description.
func (n *Node) HeadObject(ctx context.Context, bucket, key string) (*nodepb.ObjectInfo, error) {
	return n.HeadVersion(ctx, bucket, key, "")
}

// HeadVersion describes a version of an object (versionID "": the current
// one). For a delete marker it returns the marker's description together
// with ErrNoSuchKey (current) or ErrDeleteMarker (named by version id).
func (n *Node) HeadVersion(ctx context.Context, bucket, key, versionID string) (*nodepb.ObjectInfo, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	rec, latest, err := n.fsm.index().getVersion(bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	info := objectInfo(rec, latest)
	if rec.isMarker() {
		if versionID == "" {
			return info, fmt.Errorf("%w: %s/%s (a delete marker is current)", ErrNoSuchKey, bucket, key)
		}
		return info, fmt.Errorf("%w: %s/%s version %s", ErrDeleteMarker, bucket, key, versionID)
	}
	return info, nil
}

// GetObject writes bytes [off, off+length) of bucket/key to w (length -1:
// to the end). info, when not nil, is called with the object's description
// before any byte is written.
func (n *Node) GetObject(ctx context.Context, bucket, key string, off, length int64, w io.Writer, info func(*nodepb.ObjectInfo) error) error {
	return n.GetVersion(ctx, bucket, key, "", off, length, w, info)
}

// GetVersion is GetObject for a version (versionID "": the current one).
func (n *Node) GetVersion(ctx context.Context, bucket, key, versionID string, off, length int64, w io.Writer, info func(*nodepb.ObjectInfo) error) error {
	if err := n.linearize(ctx); err != nil {
		return err
	}
	rec, latest, inline, err := n.readVersion(ctx, bucket, key, versionID)
	if err != nil {
		return err
	}
	p := rec.put()
	if off < 0 || off > p.GetSize() || (off == p.GetSize() && p.GetSize() > 0 && length != 0) {
		return fmt.Errorf("%w: range start %d outside an object of %d bytes", ErrInvalidArgument, off, p.GetSize())
	}
	if length < 0 || off+length > p.GetSize() {
		length = p.GetSize() - off
	}
	if info != nil {
		if err := info(objectInfo(rec, latest)); err != nil {
			return err
		}
	}
	if len(p.GetParts()) == 0 {
		return n.readPayload(ctx, inline, p.GetManifest(), off, length, w)
	}
	// A multipart object: the parts that overlap the range, in order.
	var start int64
	for _, part := range p.GetParts() {
		end := start + part.GetSize()
		if length > 0 && end > off && start < off+length {
			lo := max(off, start) - start
			hi := min(off+length, end) - start
			if err := n.readPayload(ctx, part.GetInlineData(), part.GetManifest(), lo, hi-lo, w); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}

// readVersion returns a version that is not a delete marker, and its
// inline payload (which a record may keep outside the index; payloads.go).
func (n *Node) readVersion(ctx context.Context, bucket, key, versionID string) (*objectRecord, bool, []byte, error) {
	for attempt := 0; ; attempt++ {
		rec, latest, err := n.fsm.index().getVersion(bucket, key, versionID)
		if err != nil {
			return nil, false, nil, err
		}
		if rec.isMarker() {
			if versionID == "" {
				return nil, false, nil, fmt.Errorf("%w: %s/%s (a delete marker is current)", ErrNoSuchKey, bucket, key)
			}
			return nil, false, nil, fmt.Errorf("%w: %s/%s version %s", ErrDeleteMarker, bucket, key, versionID)
		}
		if !payloadStripped(rec.put()) {
			return rec, latest, rec.put().GetInlineData(), nil
		}
		inline, err := n.fsm.readStrippedPayload(ctx, rec)
		if errors.Is(err, errPayloadGone) && attempt < 3 {
			continue // overwritten or deleted meanwhile: read what is there now
		}
		if errors.Is(err, errPayloadGone) {
			err = fmt.Errorf("%w: %s/%s changes faster than it can be read", ErrUnavailable, bucket, key)
		}
		return rec, latest, inline, err
	}
}

func (n *Node) readPayload(ctx context.Context, inline []byte, m *journalpb.Manifest, off, length int64, w io.Writer) error {
	if m == nil {
		_, err := w.Write(inline[off : off+length])
		return err
	}
	release, err := acquireSlot(ctx, n.readSlots)
	if err != nil {
		return err
	}
	defer release()
	return classify(n.store.Read(ctx, m, off, length, w))
}

// acquireSlot takes a token of slots, waiting as long as ctx allows, and
// returns the function that gives it back.
func acquireSlot(ctx context.Context, slots chan struct{}) (func(), error) {
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for a stream slot: %w", ErrUnavailable, ctx.Err())
	}
}

// DeleteObject removes bucket/key; ifMatch, when set, must equal the
// object's MD5 at commit time.
func (n *Node) DeleteObject(ctx context.Context, bucket, key string, ifMatch []byte, principal string) (uint64, error) {
	c, err := n.proposeDelete(ctx, DeleteRequest{Bucket: bucket, Key: key, IfMatchMD5: ifMatch, Principal: principal})
	return c.RaftIndex, err
}

// DeleteRequest is a delete of an object or one of its versions.
type DeleteRequest struct {
	Bucket, Key string
	// VersionID, when set, removes that version for good; otherwise a
	// versioned bucket gets a delete marker.
	VersionID string
	// IfMatchMD5, when set, must equal the version's MD5 at commit time.
	IfMatchMD5 []byte
	// BypassGovernance removes a version under GOVERNANCE retention; the
	// caller checks the principal may.
	BypassGovernance bool
	Principal        string
}

// DeleteVersion deletes as req says and reports the version removed or
// the delete marker added.
func (n *Node) DeleteVersion(ctx context.Context, req DeleteRequest) (*nodepb.Outcome, error) {
	c, err := n.proposeDelete(ctx, req)
	return c.Outcome, err
}

func (n *Node) proposeDelete(ctx context.Context, req DeleteRequest) (Committed, error) {
	d := &journalpb.ObjectDelete{Bucket: req.Bucket, Key: req.Key, VersionId: req.VersionID, BypassGovernance: req.BypassGovernance}
	if req.IfMatchMD5 != nil {
		d.Precondition = &journalpb.Precondition{IfMatchMd5: req.IfMatchMD5}
	}
	return n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_OBJECT_DELETE, Principal: req.Principal, Body: &journalpb.Event_ObjectDelete{ObjectDelete: d}})
}

// UpdateObject changes the tags, retention or legal hold of a version in
// place (u.VersionId "": the current one).
func (n *Node) UpdateObject(ctx context.Context, u *journalpb.ObjectUpdate, principal string) (*nodepb.Outcome, error) {
	c, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_OBJECT_UPDATE, Principal: principal, Body: &journalpb.Event_ObjectUpdate{ObjectUpdate: u}})
	return c.Outcome, err
}

// SetBucketConfig replaces (doc nil: removes) a bucket configuration
// document (ConfigVersioning, ConfigObjectLock, ...).
func (n *Node) SetBucketConfig(ctx context.Context, bucket, name string, doc []byte, principal string) error {
	_, err := n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_BUCKET_CONFIG, Principal: principal, Body: &journalpb.Event_BucketConfig{
		BucketConfig: &journalpb.BucketConfig{Bucket: bucket, Name: name, Document: doc},
	}})
	return err
}

// BucketConfig returns a bucket configuration document, nil when unset.
func (n *Node) BucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	return n.fsm.index().bucketConfig(bucket, name)
}

// MaxListLimit caps one page of a listing.
const MaxListLimit = 1000

// ListObjects lists bucket's objects whose keys start with prefix, after
// startAfter, at most limit (1..MaxListLimit; 0 means MaxListLimit).
func (n *Node) ListObjects(ctx context.Context, bucket, prefix, startAfter string, limit int) ([]*nodepb.ObjectInfo, bool, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if err := n.linearize(ctx); err != nil {
		return nil, false, err
	}
	recs, truncated, err := n.fsm.index().listObjects(bucket, prefix, startAfter, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]*nodepb.ObjectInfo, len(recs))
	for i, r := range recs {
		out[i] = objectInfo(r, true)
	}
	return out, truncated, nil
}

// ListVersions lists the versions (and delete markers) of bucket's keys
// that start with prefix, by key and newest first, after (keyMarker,
// versionMarker) as S3 pages ListObjectVersions.
func (n *Node) ListVersions(ctx context.Context, bucket, prefix, keyMarker, versionMarker string, limit int) ([]*nodepb.ObjectInfo, bool, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if err := n.linearize(ctx); err != nil {
		return nil, false, err
	}
	entries, truncated, err := n.fsm.index().listVersions(bucket, prefix, keyMarker, versionMarker, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]*nodepb.ObjectInfo, len(entries))
	for i, e := range entries {
		out[i] = objectInfo(e.rec, e.latest)
	}
	return out, truncated, nil
}

// Scrub verifies this node's shards and repairs what it can.
func (n *Node) Scrub(ctx context.Context, deep bool) (ecstore.ScrubReport, error) {
	return n.store.Scrub(ctx, &indexRefs{idx: n.fsm.index()}, ecstore.ScrubOptions{Deep: deep})
}

// CollectGarbage removes this node's shard files that no committed event
// references and that are older than the grace period.
//
// It first waits (up to gcCatchUp) until this node has applied every entry
// its raft log held when the pass began: after a restart the index may be
// behind the log (it lost its unflushed tail, and the replay has not run
// yet, or the node cannot yet learn the commit index), and a shard the
// unreplayed tail references must not look unreferenced. A node that cannot
// catch up skips the pass with ErrUnavailable.
func (n *Node) CollectGarbage(ctx context.Context) (int, error) {
	last := n.raft.LastIndex()
	wctx, cancel := context.WithTimeout(ctx, gcCatchUp)
	err := n.waitApplied(wctx, last)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("shard gc postponed until this node has applied its log: %w", err)
	}
	idx := n.fsm.index()
	referenced := func(disk string, id ecstore.ShardID) bool {
		ok, err := idx.shardReferenced(n.cfg.NodeID, disk, id[:])
		return ok || err != nil // when in doubt, keep
	}
	return n.store.CollectGarbage(ctx, referenced, n.cfg.GCGrace, time.Now())
}

// gcCatchUp bounds how long a garbage collection pass waits for the state
// machine to apply the node's log.
const gcCatchUp = 30 * time.Second

// indexRefs serves the index's expected shards to the scrubber.
type indexRefs struct{ idx *index }

func (r *indexRefs) ShardsOn(node, disk string, fn func(id ecstore.ShardID, ref ecstore.StripeRef) error) error {
	return r.idx.shardsOn(node, disk, func(id []byte, m *journalpb.Manifest) error {
		refs, err := ecstore.StripeRefs(m)
		if err != nil || len(refs) != 1 || len(id) != len(ecstore.ShardID{}) {
			return fmt.Errorf("%w: shard record for %s/%s: %v", ErrCorrupt, node, disk, err)
		}
		return fn(ecstore.ShardID(id), refs[0])
	})
}

// CreatePool adds a pool that takes every new write from now on; objects
// already written stay where their manifests say. disks, when given, must
// be registered disks; empty means every registered disk, now and later.
func (n *Node) CreatePool(ctx context.Context, req *nodepb.CreatePoolRequest) error {
	p := ecstore.Profile{K: int(req.GetDataShards()), M: int(req.GetParityShards())}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: pool %s: %v", ErrInvalidArgument, req.GetPool(), err)
	}
	if req.GetPool() == "" {
		return fmt.Errorf("%w: pool name is required", ErrInvalidArgument)
	}
	nodes, err := n.fsm.index().nodes()
	if err != nil {
		return err
	}
	for _, d := range req.GetDisks() {
		if !slices.Contains(nodes[d.GetNode()].GetDisks(), d.GetDisk()) {
			return fmt.Errorf("%w: disk %s/%s is not registered", ErrInvalidArgument, d.GetNode(), d.GetDisk())
		}
	}
	if len(req.GetDisks()) > 0 && len(req.GetDisks()) < p.N() {
		return fmt.Errorf("%w: pool %s: %d disks for %d shards per stripe", ErrInvalidArgument, req.GetPool(), len(req.GetDisks()), p.N())
	}
	stripe := req.GetStripeSize()
	if stripe == 0 {
		stripe = uint32(n.cfg.StripeBytes)
	}
	_, err = n.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_POOL_CREATE, Principal: req.GetPrincipal(), Body: &journalpb.Event_PoolCreate{PoolCreate: &journalpb.PoolCreate{
		Pool: req.GetPool(), DataShards: req.GetDataShards(), ParityShards: req.GetParityShards(), Disks: req.GetDisks(), StripeSize: stripe,
		IdKey: newIDKey(),
	}}})
	return err
}

// IsAdmin reports whether user is an administrator of the site.
func (n *Node) IsAdmin(ctx context.Context, user string) (bool, error) {
	if err := n.linearize(ctx); err != nil {
		return false, err
	}
	u, err := n.fsm.index().getUser(user)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return u.GetAdmin() || user == RootUser, nil
}
