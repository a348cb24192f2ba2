package raftstore

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Object versions, as the state machine keeps them (S3 semantics).
//
// The current version of every key, which may be a delete marker, lives
// in the objects bucket; older ("noncurrent") versions live in the
// versions bucket under bucket NUL key NUL order, where order is 16 bytes
// that sort newest first. A key with noncurrent versions always has a
// current one: removing the current version promotes the newest
// noncurrent one. A bucket that never had versioning enabled holds only
// current "null" versions, so the common case costs one record per key.
//
// A version id is the hex of its order: the inverted HLC wall time and
// logical counter of the event that created it and a hash of its origin
// site. The null version has the id "null" and sorts by the HLC of the
// event that wrote it.

// Bucket configuration documents the state machine interprets.
const (
	ConfigVersioning = "versioning"  // "Enabled" or "Suspended"
	ConfigObjectLock = "object-lock" // BucketObjectLock
	ConfigLifecycle  = "lifecycle"   // opaque to raftstore (gateway XML)
	ConfigTagging    = "tagging"     // opaque to raftstore (gateway XML)
)

// Versioning states of a bucket.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// NullVersion is the id of the version written while a bucket does not
// version.
const NullVersion = "null"

// Object lock modes.
const (
	LockGovernance = "GOVERNANCE"
	LockCompliance = "COMPLIANCE"
)

// MaxParts is the highest part number of a multipart upload.
const MaxParts = 10000

// versionOrder is the 16-byte key suffix of a version, newest first.
func versionOrder(t *journalpb.Timestamp, site string) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], ^uint64(t.GetWallNanos()))
	binary.BigEndian.PutUint32(b[8:], ^t.GetLogical())
	h := fnv.New32a()
	_, _ = h.Write([]byte(site))
	binary.BigEndian.PutUint32(b[12:], h.Sum32())
	return b[:]
}

func newVersionID(ev *journalpb.Event) string {
	return hex.EncodeToString(versionOrder(ev.GetHlc(), ev.GetOriginSite()))
}

// parseVersionID returns the order of a non-null version id.
func parseVersionID(id string) ([]byte, bool) {
	b, err := hex.DecodeString(id)
	return b, err == nil && len(b) == 16
}

func versionKey(bucket, key string, order []byte) []byte {
	k := objectKey(bucket, key)
	k = append(k, 0)
	return append(k, order...)
}

// isMarker reports whether a record is a delete marker.
func (r *objectRecord) isMarker() bool { return r.Event.GetKind() == journalpb.Kind_OBJECT_DELETE }

// versionID returns the record's version id.
func (r *objectRecord) versionID() string {
	var id string
	if r.isMarker() {
		id = r.Event.GetObjectDelete().GetMarkerVersionId()
	} else {
		id = r.put().GetVersionId()
	}
	if id == "" {
		return NullVersion
	}
	return id
}

// order returns the record's key suffix among the noncurrent versions.
func (r *objectRecord) order() []byte {
	if o, ok := parseVersionID(r.versionID()); ok {
		return o
	}
	return versionOrder(r.Event.GetHlc(), r.Event.GetOriginSite())
}

// bucketVersioning returns the bucket's versioning state: "" (never
// enabled), VersioningEnabled or VersioningSuspended.
func bucketVersioning(tx *kvTx, bucket string) string {
	return string(tx.Bucket(bktConfig).Get(objectKey(bucket, ConfigVersioning)))
}

func bucketLock(tx *kvTx, bucket string) (*journalpb.BucketObjectLock, error) {
	v := tx.Bucket(bktConfig).Get(objectKey(bucket, ConfigObjectLock))
	l := &journalpb.BucketObjectLock{}
	if v == nil {
		return l, nil
	}
	if err := proto.Unmarshal(v, l); err != nil {
		return nil, fmt.Errorf("%w: object lock configuration of %s: %v", errFatal, bucket, err)
	}
	return l, nil
}

// validateBucketConfig checks the documents the state machine interprets,
// against the bucket's current configuration.
func validateBucketConfig(tx *kvTx, c *journalpb.BucketConfig) error {
	cur, err := bucketLock(tx, c.GetBucket())
	if err != nil {
		return err
	}
	switch c.GetName() {
	case ConfigVersioning:
		switch v := string(c.GetDocument()); {
		case v == VersioningEnabled:
		case v == VersioningSuspended:
			if cur.GetEnabled() {
				return fmt.Errorf("%w: versioning of %s cannot be suspended while object lock is enabled", ErrInvalidArgument, c.GetBucket())
			}
		case c.GetDocument() == nil:
			if bucketVersioning(tx, c.GetBucket()) != "" {
				return fmt.Errorf("%w: versioning of %s, once enabled, can only be suspended", ErrInvalidArgument, c.GetBucket())
			}
		default:
			return fmt.Errorf("%w: versioning state %q", ErrInvalidArgument, v)
		}
	case ConfigObjectLock:
		l := &journalpb.BucketObjectLock{}
		if err := proto.Unmarshal(c.GetDocument(), l); err != nil {
			return fmt.Errorf("%w: object lock configuration: %v", ErrInvalidArgument, err)
		}
		if cur.GetEnabled() && !l.GetEnabled() {
			return fmt.Errorf("%w: object lock of %s cannot be disabled", ErrInvalidArgument, c.GetBucket())
		}
		if l.GetEnabled() && bucketVersioning(tx, c.GetBucket()) != VersioningEnabled {
			return fmt.Errorf("%w: object lock needs versioning enabled on %s", ErrInvalidArgument, c.GetBucket())
		}
		if !l.GetEnabled() && (l.GetDefaultMode() != "" || l.GetDefaultDays() != 0 || l.GetDefaultYears() != 0) {
			return fmt.Errorf("%w: a default retention needs object lock enabled", ErrInvalidArgument)
		}
		switch l.GetDefaultMode() {
		case "":
			if l.GetDefaultDays() != 0 || l.GetDefaultYears() != 0 {
				return fmt.Errorf("%w: a default retention period needs a mode", ErrInvalidArgument)
			}
		case LockGovernance, LockCompliance:
			if (l.GetDefaultDays() == 0) == (l.GetDefaultYears() == 0) {
				return fmt.Errorf("%w: a default retention needs either days or years", ErrInvalidArgument)
			}
			if l.GetDefaultDays() > 36500 || l.GetDefaultYears() > 100 {
				return fmt.Errorf("%w: a default retention is at most 100 years", ErrInvalidArgument)
			}
		default:
			return fmt.Errorf("%w: object lock mode %q", ErrInvalidArgument, l.GetDefaultMode())
		}
	}
	return nil
}

// validLock checks a version's lock as a put or update names it.
func validLock(l *journalpb.ObjectLock) error {
	switch l.GetMode() {
	case "":
		if l.GetRetainUntilNanos() != 0 {
			return fmt.Errorf("%w: a retain-until date needs a lock mode", ErrInvalidArgument)
		}
	case LockGovernance, LockCompliance:
		if l.GetRetainUntilNanos() <= 0 {
			return fmt.Errorf("%w: lock mode %s needs a retain-until date", ErrInvalidArgument, l.GetMode())
		}
	default:
		return fmt.Errorf("%w: object lock mode %q", ErrInvalidArgument, l.GetMode())
	}
	return nil
}

// retained reports whether l forbids deleting its version at time now.
func retained(l *journalpb.ObjectLock, now *journalpb.Timestamp) bool {
	return l.GetMode() != "" && l.GetRetainUntilNanos() > now.GetWallNanos()
}

// checkRemovable says whether a version may be removed for good (or, as a
// null version, replaced) by ev.
func checkRemovable(r *objectRecord, ev *journalpb.Event, bypass bool) error {
	if r.isMarker() {
		return nil
	}
	l := r.put().GetLock()
	what := r.put().GetBucket() + "/" + r.put().GetKey() + " version " + r.versionID()
	if l.GetLegalHold() {
		return fmt.Errorf("%w: %s is under legal hold", ErrLocked, what)
	}
	if retained(l, ev.GetHlc()) {
		if l.GetMode() == LockCompliance || !bypass {
			return fmt.Errorf("%w: %s is retained in %s mode until %s", ErrLocked, what, l.GetMode(),
				time.Unix(0, l.GetRetainUntilNanos()).UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// applyLockDefaults checks a new version's lock against its bucket and
// fills in the bucket's default retention.
func applyLockDefaults(tx *kvTx, bucket string, l *journalpb.ObjectLock, ev *journalpb.Event) (*journalpb.ObjectLock, error) {
	bl, err := bucketLock(tx, bucket)
	if err != nil {
		return nil, err
	}
	if err := validLock(l); err != nil {
		return nil, err
	}
	if !bl.GetEnabled() {
		if l.GetMode() != "" || l.GetLegalHold() {
			return nil, fmt.Errorf("%w: bucket %s has no object lock configuration", ErrInvalidArgument, bucket)
		}
		return l, nil
	}
	if l.GetMode() == "" && bl.GetDefaultMode() != "" {
		now := time.Unix(0, ev.GetHlc().GetWallNanos()).UTC()
		until := now.AddDate(int(bl.GetDefaultYears()), 0, int(bl.GetDefaultDays()))
		l = &journalpb.ObjectLock{Mode: bl.GetDefaultMode(), RetainUntilNanos: until.UnixNano(), LegalHold: l.GetLegalHold()}
	}
	return l, nil
}

// getRecord reads and decodes a record, nil when absent.
func getRecord(b *kvBucket, key []byte) (*objectRecord, error) {
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	r, err := decodeObject(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errFatal, err)
	}
	return r, nil
}

func putRecord(b *kvBucket, key []byte, r *objectRecord) error {
	v, err := encodeObject(r.RaftIndex, r.JournalIndex, r.Event)
	if err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := b.Put(key, v); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

// releaseRecord drops the shard references of a version being removed.
func releaseRecord(tx *kvTx, r *objectRecord) error {
	if r.isMarker() {
		return nil
	}
	if payloadStripped(r.put()) {
		return releasePayload(tx, r.JournalIndex)
	}
	return releasePut(tx, r.put(), -1)
}

// releasePut adds delta to the shard references of every payload of p.
func releasePut(tx *kvTx, p *journalpb.ObjectPut, delta int) error {
	if err := addShardRefs(tx, p.GetManifest(), delta); err != nil {
		return err
	}
	for _, part := range p.GetParts() {
		if err := addShardRefs(tx, part.GetManifest(), delta); err != nil {
			return err
		}
	}
	return nil
}

// findNullNoncurrent returns the key of the key's noncurrent null version.
func findNullNoncurrent(tx *kvTx, bucket, key string) ([]byte, *objectRecord, error) {
	prefix := append(objectKey(bucket, key), 0)
	c := tx.Bucket(bktVersions).Cursor()
	defer c.Close()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r, err := decodeObject(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errFatal, err)
		}
		if r.versionID() == NullVersion {
			return bytes.Clone(k), r, nil
		}
	}
	return nil, nil, nil
}

// makeRoom prepares a key for a new current version (newID): the current
// version becomes noncurrent, unless both are null, in which case it is
// replaced; a noncurrent null version is replaced by a new null one.
func makeRoom(tx *kvTx, bucket, key string, cur *objectRecord, newID string, ev *journalpb.Event) error {
	if cur == nil {
		return bumpObjects(tx, +1)
	}
	if cur.versionID() == NullVersion && newID == NullVersion {
		if err := checkRemovable(cur, ev, false); err != nil {
			return err
		}
		return releaseRecord(tx, cur)
	}
	if err := putRecord(tx.Bucket(bktVersions), versionKey(bucket, key, cur.order()), cur); err != nil {
		return err
	}
	if newID != NullVersion {
		return nil
	}
	k, old, err := findNullNoncurrent(tx, bucket, key)
	if err != nil || old == nil {
		return err
	}
	if err := checkRemovable(old, ev, false); err != nil {
		return err
	}
	if err := releaseRecord(tx, old); err != nil {
		return err
	}
	return deleteKey(tx.Bucket(bktVersions), k)
}

func deleteKey(b *kvBucket, k []byte) error {
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

// live returns cur unless it is a delete marker.
func live(cur *objectRecord) *objectRecord {
	if cur == nil || cur.isMarker() {
		return nil
	}
	return cur
}

// putVersion makes p (the body of ev, or built from it) the key's new
// current version. The caller has checked the bucket exists and added the
// shard references of p's payload.
func putVersion(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event, p *journalpb.ObjectPut) (*nodepb.Outcome, error) {
	objs := tx.Bucket(bktObjects)
	key := objectKey(p.GetBucket(), p.GetKey())
	cur, err := getRecord(objs, key)
	if err != nil {
		return nil, err
	}
	if err := checkPrecondition(live(cur), p.GetPrecondition(), p.GetBucket()+"/"+p.GetKey()); err != nil {
		return nil, err
	}
	lock, err := applyLockDefaults(tx, p.GetBucket(), p.GetLock(), ev)
	if err != nil {
		return nil, err
	}
	p.Lock = lock
	if p.GetVersionId() == "" {
		p.VersionId = NullVersion
		if bucketVersioning(tx, p.GetBucket()) == VersioningEnabled {
			p.VersionId = newVersionID(ev)
		}
	}
	if err := makeRoom(tx, p.GetBucket(), p.GetKey(), cur, p.GetVersionId(), ev); err != nil {
		return nil, err
	}
	rec := &objectRecord{RaftIndex: raftIndex, JournalIndex: journalIndex, Event: ev}
	if ev.GetObjectPut() != p {
		rec.Event = &journalpb.Event{
			OriginSite: ev.GetOriginSite(), OriginSeq: ev.GetOriginSeq(), Hlc: ev.GetHlc(), Epoch: ev.GetEpoch(),
			Principal: ev.GetPrincipal(), Kind: journalpb.Kind_OBJECT_PUT, Group: ev.GetGroup(),
			Body: &journalpb.Event_ObjectPut{ObjectPut: p},
		}
	}
	store := putRecord
	if stripsPayload(p) {
		store = func(b *kvBucket, k []byte, r *objectRecord) error { return putStrippedRecord(tx, b, k, r) }
	}
	if err := store(objs, key, rec); err != nil {
		return nil, err
	}
	return &nodepb.Outcome{VersionId: p.GetVersionId(), Size: p.GetSize(), Md5: p.GetMd5(), Parts: uint32(len(p.GetParts()))}, nil
}

func applyObjectPut(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event) (*nodepb.Outcome, error) {
	p := ev.GetObjectPut()
	if tx.Bucket(bktBuckets).Get([]byte(p.GetBucket())) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, p.GetBucket())
	}
	if err := releasePut(tx, p, +1); err != nil {
		return nil, err
	}
	return putVersion(tx, raftIndex, journalIndex, ev, p)
}

// findVersion returns the record of a version and its index key; current
// says whether it is the key's current version.
func findVersion(tx *kvTx, bucket, key, versionID string) (rec *objectRecord, k []byte, current bool, err error) {
	objKey := objectKey(bucket, key)
	cur, err := getRecord(tx.Bucket(bktObjects), objKey)
	if err != nil {
		return nil, nil, false, err
	}
	if cur != nil && cur.versionID() == versionID {
		return cur, objKey, true, nil
	}
	if cur == nil {
		return nil, nil, false, fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, versionID)
	}
	if versionID == NullVersion {
		k, r, err := findNullNoncurrent(tx, bucket, key)
		if err == nil && r == nil {
			err = fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, versionID)
		}
		return r, k, false, err
	}
	order, ok := parseVersionID(versionID)
	if !ok {
		return nil, nil, false, fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, versionID)
	}
	k = versionKey(bucket, key, order)
	r, err := getRecord(tx.Bucket(bktVersions), k)
	if err == nil && (r == nil || r.versionID() != versionID) {
		return nil, nil, false, fmt.Errorf("%w: %s/%s version %s", ErrNoSuchVersion, bucket, key, versionID)
	}
	return r, k, false, err
}

func applyObjectDelete(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event) (*nodepb.Outcome, error) {
	d := ev.GetObjectDelete()
	if tx.Bucket(bktBuckets).Get([]byte(d.GetBucket())) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, d.GetBucket())
	}
	what := d.GetBucket() + "/" + d.GetKey()
	objs := tx.Bucket(bktObjects)
	objKey := objectKey(d.GetBucket(), d.GetKey())
	if d.GetVersionId() != "" {
		// Remove one version for good.
		rec, k, current, err := findVersion(tx, d.GetBucket(), d.GetKey(), d.GetVersionId())
		if err != nil {
			return nil, err
		}
		if err := checkPrecondition(live(rec), d.GetPrecondition(), what); err != nil {
			return nil, err
		}
		if err := checkRemovable(rec, ev, d.GetBypassGovernance()); err != nil {
			return nil, err
		}
		if err := releaseRecord(tx, rec); err != nil {
			return nil, err
		}
		out := &nodepb.Outcome{VersionId: rec.versionID(), DeleteMarker: rec.isMarker()}
		if !current {
			return out, deleteKey(tx.Bucket(bktVersions), k)
		}
		return out, promoteNewest(tx, d.GetBucket(), d.GetKey())
	}
	cur, err := getRecord(objs, objKey)
	if err != nil {
		return nil, err
	}
	if err := checkPrecondition(live(cur), d.GetPrecondition(), what); err != nil {
		return nil, err
	}
	state := bucketVersioning(tx, d.GetBucket())
	if state == "" {
		// A bucket that never versioned: the object goes.
		if cur == nil {
			return nil, fmt.Errorf("%w: %s", ErrNoSuchKey, what)
		}
		if err := checkRemovable(cur, ev, d.GetBypassGovernance()); err != nil {
			return nil, err
		}
		if err := releaseRecord(tx, cur); err != nil {
			return nil, err
		}
		if err := bumpObjects(tx, -1); err != nil {
			return nil, err
		}
		return &nodepb.Outcome{}, deleteKey(objs, objKey)
	}
	// Versioned: a delete marker becomes the current version.
	d.MarkerVersionId = NullVersion
	if state == VersioningEnabled {
		d.MarkerVersionId = newVersionID(ev)
	}
	if err := makeRoom(tx, d.GetBucket(), d.GetKey(), cur, d.GetMarkerVersionId(), ev); err != nil {
		return nil, err
	}
	rec := &objectRecord{RaftIndex: raftIndex, JournalIndex: journalIndex, Event: ev}
	if err := putRecord(objs, objKey, rec); err != nil {
		return nil, err
	}
	return &nodepb.Outcome{VersionId: d.GetMarkerVersionId(), DeleteMarker: true}, nil
}

// promoteNewest makes the newest noncurrent version of a key its current
// one (after the current version was removed), or removes the key.
func promoteNewest(tx *kvTx, bucket, key string) error {
	prefix := append(objectKey(bucket, key), 0)
	c := tx.Bucket(bktVersions).Cursor()
	k, v := c.Seek(prefix)
	var next []byte
	var val []byte
	if k != nil && bytes.HasPrefix(k, prefix) {
		next, val = bytes.Clone(k), bytes.Clone(v)
	}
	c.Close()
	objs := tx.Bucket(bktObjects)
	objKey := objectKey(bucket, key)
	if next == nil {
		if err := bumpObjects(tx, -1); err != nil {
			return err
		}
		return deleteKey(objs, objKey)
	}
	if err := objs.Put(objKey, val); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return deleteKey(tx.Bucket(bktVersions), next)
}

// applyObjectUpdate changes tags, retention or legal hold of a version in
// place.
func applyObjectUpdate(tx *kvTx, ev *journalpb.Event) (*nodepb.Outcome, error) {
	u := ev.GetObjectUpdate()
	if tx.Bucket(bktBuckets).Get([]byte(u.GetBucket())) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, u.GetBucket())
	}
	var rec *objectRecord
	var k []byte
	var b *kvBucket
	if u.GetVersionId() == "" {
		b, k = tx.Bucket(bktObjects), objectKey(u.GetBucket(), u.GetKey())
		var err error
		if rec, err = getRecord(b, k); err != nil {
			return nil, err
		}
		if rec == nil || rec.isMarker() {
			return nil, fmt.Errorf("%w: %s/%s", ErrNoSuchKey, u.GetBucket(), u.GetKey())
		}
	} else {
		var current bool
		var err error
		if rec, k, current, err = findVersion(tx, u.GetBucket(), u.GetKey(), u.GetVersionId()); err != nil {
			return nil, err
		}
		b = tx.Bucket(bktVersions)
		if current {
			b = tx.Bucket(bktObjects)
		}
		if rec.isMarker() {
			return nil, fmt.Errorf("%w: %s/%s version %s", ErrDeleteMarker, u.GetBucket(), u.GetKey(), u.GetVersionId())
		}
	}
	p := proto.Clone(rec.put()).(*journalpb.ObjectPut)
	if u.GetSetTags() {
		if err := validTags(u.GetTags()); err != nil {
			return nil, err
		}
		p.Tags = u.GetTags()
	}
	if u.GetSetRetention() || u.GetSetLegalHold() {
		bl, err := bucketLock(tx, u.GetBucket())
		if err != nil {
			return nil, err
		}
		if !bl.GetEnabled() {
			return nil, fmt.Errorf("%w: bucket %s has no object lock configuration", ErrInvalidArgument, u.GetBucket())
		}
	}
	if u.GetSetRetention() {
		if err := changeRetention(p, u, ev); err != nil {
			return nil, err
		}
	}
	if u.GetSetLegalHold() {
		if p.Lock == nil {
			p.Lock = &journalpb.ObjectLock{}
		}
		p.Lock.LegalHold = u.GetLegalHold()
	}
	rec.Event = proto.Clone(rec.Event).(*journalpb.Event)
	rec.Event.Body = &journalpb.Event_ObjectPut{ObjectPut: p}
	if err := putRecord(b, k, rec); err != nil {
		return nil, err
	}
	return &nodepb.Outcome{VersionId: rec.versionID()}, nil
}

// changeRetention applies S3's rules: a COMPLIANCE retention can only be
// extended; a GOVERNANCE one can be shortened, removed or changed only
// with the bypass; either can be extended or made COMPLIANCE by anyone.
func changeRetention(p *journalpb.ObjectPut, u *journalpb.ObjectUpdate, ev *journalpb.Event) error {
	nl := u.GetRetention()
	if err := validLock(&journalpb.ObjectLock{Mode: nl.GetMode(), RetainUntilNanos: nl.GetRetainUntilNanos()}); err != nil {
		return err
	}
	old := p.GetLock()
	what := p.GetBucket() + "/" + p.GetKey() + " version " + p.GetVersionId()
	if retained(old, ev.GetHlc()) {
		weaker := nl.GetRetainUntilNanos() < old.GetRetainUntilNanos() || (old.GetMode() == LockCompliance && nl.GetMode() != LockCompliance)
		if old.GetMode() == LockCompliance && weaker {
			return fmt.Errorf("%w: %s: a COMPLIANCE retention cannot be shortened or removed", ErrLocked, what)
		}
		if old.GetMode() == LockGovernance && (weaker || nl.GetMode() == "") && !u.GetBypassGovernance() {
			return fmt.Errorf("%w: %s: shortening a GOVERNANCE retention needs the bypass", ErrLocked, what)
		}
	}
	if nl.GetMode() != "" && nl.GetRetainUntilNanos() <= ev.GetHlc().GetWallNanos() {
		return fmt.Errorf("%w: the retain-until date must be in the future", ErrInvalidArgument)
	}
	p.Lock = &journalpb.ObjectLock{Mode: nl.GetMode(), RetainUntilNanos: nl.GetRetainUntilNanos(), LegalHold: old.GetLegalHold()}
	return nil
}

// MaxTags is the most tags an object carries (as in S3).
const MaxTags = 10

func validTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: %d tags, at most %d", ErrInvalidArgument, len(tags), MaxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return fmt.Errorf("%w: tag %q: keys are 1 to 128 characters, values up to 256", ErrInvalidArgument, k)
		}
	}
	return nil
}

// Multipart uploads. uploads: bucket NUL key NUL upload id -> the
// MultipartCreate event; parts: the same NUL u32 part number -> the
// MultipartPart event.

func uploadKey(bucket, key, uploadID string) []byte {
	k := objectKey(bucket, key)
	k = append(k, 0)
	return append(k, uploadID...)
}

func partKey(bucket, key, uploadID string, number uint32) []byte {
	k := uploadKey(bucket, key, uploadID)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, number)
}

func validUploadID(id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w: upload id %q", ErrNoSuchUpload, id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return fmt.Errorf("%w: upload id %q", ErrNoSuchUpload, id)
	}
	return nil
}

func getUpload(tx *kvTx, bucket, key, uploadID string) (*journalpb.Event, error) {
	if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
	}
	if err := validUploadID(uploadID); err != nil {
		return nil, err
	}
	v := tx.Bucket(bktUploads).Get(uploadKey(bucket, key, uploadID))
	if v == nil {
		return nil, fmt.Errorf("%w: %s on %s/%s", ErrNoSuchUpload, uploadID, bucket, key)
	}
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(v, ev); err != nil {
		return nil, fmt.Errorf("%w: upload record: %v", errFatal, err)
	}
	return ev, nil
}

func applyMultipartCreate(tx *kvTx, ev *journalpb.Event) (*nodepb.Outcome, error) {
	c := ev.GetMultipartCreate()
	if tx.Bucket(bktBuckets).Get([]byte(c.GetBucket())) == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, c.GetBucket())
	}
	if err := validUploadID(c.GetUploadId()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	if err := validTags(c.GetTags()); err != nil {
		return nil, err
	}
	lock, err := applyLockDefaults(tx, c.GetBucket(), c.GetLock(), ev)
	if err != nil {
		return nil, err
	}
	c.Lock = lock
	k := uploadKey(c.GetBucket(), c.GetKey(), c.GetUploadId())
	if tx.Bucket(bktUploads).Get(k) != nil {
		return nil, fmt.Errorf("%w: upload %s", ErrExists, c.GetUploadId())
	}
	return &nodepb.Outcome{}, putEvent(tx.Bucket(bktUploads), k, ev)
}

func decodePart(v []byte) (*journalpb.Event, error) {
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(v, ev); err != nil {
		return nil, fmt.Errorf("%w: part record: %v", errFatal, err)
	}
	return ev, nil
}

func applyMultipartPart(tx *kvTx, ev *journalpb.Event) (*nodepb.Outcome, error) {
	mp := ev.GetMultipartPart()
	if _, err := getUpload(tx, mp.GetBucket(), mp.GetKey(), mp.GetUploadId()); err != nil {
		return nil, err
	}
	part := mp.GetPart()
	if part.GetNumber() < 1 || part.GetNumber() > MaxParts {
		return nil, fmt.Errorf("%w: part number %d is outside 1..%d", ErrInvalidArgument, part.GetNumber(), MaxParts)
	}
	parts := tx.Bucket(bktParts)
	k := partKey(mp.GetBucket(), mp.GetKey(), mp.GetUploadId(), part.GetNumber())
	if v := parts.Get(k); v != nil {
		old, err := decodePart(v)
		if err != nil {
			return nil, err
		}
		if err := addShardRefs(tx, old.GetMultipartPart().GetPart().GetManifest(), -1); err != nil {
			return nil, err
		}
	}
	if err := addShardRefs(tx, part.GetManifest(), +1); err != nil {
		return nil, err
	}
	return &nodepb.Outcome{}, putEvent(parts, k, ev)
}

// dropUpload removes an upload and its parts; the shard references of
// the parts go with them.
func dropUpload(tx *kvTx, bucket, key, uploadID string) error {
	prefix := append(uploadKey(bucket, key, uploadID), 0)
	parts := tx.Bucket(bktParts)
	c := parts.Cursor()
	var manifests []*journalpb.Manifest
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ev, err := decodePart(v)
		if err != nil {
			c.Close()
			return err
		}
		manifests = append(manifests, ev.GetMultipartPart().GetPart().GetManifest())
	}
	c.Close()
	for _, m := range manifests {
		if err := addShardRefs(tx, m, -1); err != nil {
			return err
		}
	}
	if err := parts.DeletePrefix(prefix); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return deleteKey(tx.Bucket(bktUploads), uploadKey(bucket, key, uploadID))
}

func applyMultipartAbort(tx *kvTx, ev *journalpb.Event) (*nodepb.Outcome, error) {
	a := ev.GetMultipartAbort()
	if _, err := getUpload(tx, a.GetBucket(), a.GetKey(), a.GetUploadId()); err != nil {
		return nil, err
	}
	return &nodepb.Outcome{}, dropUpload(tx, a.GetBucket(), a.GetKey(), a.GetUploadId())
}

func applyMultipartComplete(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event) (*nodepb.Outcome, error) {
	mc := ev.GetMultipartComplete()
	upEv, err := getUpload(tx, mc.GetBucket(), mc.GetKey(), mc.GetUploadId())
	if err != nil {
		return nil, err
	}
	up := upEv.GetMultipartCreate()
	if len(mc.GetParts()) == 0 {
		return nil, fmt.Errorf("%w: a completion must name at least one part", ErrInvalidPart)
	}
	if len(mc.GetParts()) > MaxParts {
		return nil, fmt.Errorf("%w: %d parts, at most %d", ErrInvalidPart, len(mc.GetParts()), MaxParts)
	}
	result := &journalpb.ObjectPut{
		Bucket: mc.GetBucket(), Key: mc.GetKey(), ContentType: up.GetContentType(), Metadata: up.GetMetadata(),
		Tags: up.GetTags(), Lock: up.GetLock(), Precondition: mc.GetPrecondition(),
	}
	sums := md5.New()
	parts := tx.Bucket(bktParts)
	var prev uint32
	for i, ref := range mc.GetParts() {
		if ref.GetNumber() <= prev {
			return nil, fmt.Errorf("%w: part %d follows part %d", ErrInvalidPartOrder, ref.GetNumber(), prev)
		}
		prev = ref.GetNumber()
		v := parts.Get(partKey(mc.GetBucket(), mc.GetKey(), mc.GetUploadId(), ref.GetNumber()))
		if v == nil {
			return nil, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, ref.GetNumber())
		}
		pev, err := decodePart(v)
		if err != nil {
			return nil, err
		}
		part := pev.GetMultipartPart().GetPart()
		if !bytes.Equal(part.GetMd5(), ref.GetMd5()) {
			return nil, fmt.Errorf("%w: part %d has another ETag", ErrInvalidPart, ref.GetNumber())
		}
		if i < len(mc.GetParts())-1 && part.GetSize() < mc.GetMinPartSize() {
			return nil, fmt.Errorf("%w: part %d holds %d bytes, below the minimum of %d", ErrEntityTooSmall, ref.GetNumber(), part.GetSize(), mc.GetMinPartSize())
		}
		result.Parts = append(result.Parts, part)
		result.Size += part.GetSize()
		_, _ = sums.Write(part.GetMd5())
	}
	result.Md5 = sums.Sum(nil)
	if err := releasePut(tx, result, +1); err != nil {
		return nil, err
	}
	out, err := putVersion(tx, raftIndex, journalIndex, ev, result)
	if err != nil {
		return nil, err
	}
	if err := dropUpload(tx, mc.GetBucket(), mc.GetKey(), mc.GetUploadId()); err != nil {
		return nil, err
	}
	mc.Result = result
	return out, nil
}

// abortUploads drops every multipart upload of a bucket.
func abortUploads(tx *kvTx, bucket string) error {
	type up struct{ key, id string }
	var ups []up
	prefix := objectKey(bucket, "")
	c := tx.Bucket(bktUploads).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		rest := k[len(prefix):]
		i := bytes.LastIndexByte(rest, 0)
		if i < 0 {
			c.Close()
			return fmt.Errorf("%w: upload record %q", errFatal, k)
		}
		ups = append(ups, up{string(rest[:i]), string(rest[i+1:])})
	}
	c.Close()
	for _, u := range ups {
		if err := dropUpload(tx, bucket, u.key, u.id); err != nil {
			return err
		}
	}
	return nil
}
