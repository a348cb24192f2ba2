package raftstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
)

type testFSM struct {
	*fsm
	fs   vfs.FS
	dir  string
	next uint64 // next raft index
}

func newTestFSM(t *testing.T, fs vfs.FS) *testFSM {
	t.Helper()
	return newTestFSMJournal(t, fs, 0)
}

// newTestFSMJournal is newTestFSM with journal segments of segmentBytes
// (0: the default) and no retention window.
func newTestFSMJournal(t *testing.T, fs vfs.FS, segmentBytes int64) *testFSM {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	dir := t.TempDir()
	if err := fs.MkdirAll("/journal"); err != nil {
		t.Fatal(err)
	}
	cfg := journal.Config{Dir: "/journal", FS: fs, SegmentBytes: segmentBytes}
	jr, err := journal.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := openFSM(cfg, jr, filepath.Join(dir, "index"), indexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After a recorded journal failure the index cannot flush at
		// close; that is the failure under test, not the cleanup's.
		if err := errors.Join(f.index().close(), f.journal().Close()); err != nil && f.js.err() == nil {
			t.Error(err)
		}
	})
	return &testFSM{fsm: f, fs: fs, dir: dir, next: 1}
}

func ts(wall int64) *journalpb.Timestamp { return &journalpb.Timestamp{WallNanos: wall} }

// apply applies events as one batch and returns their results.
func (f *testFSM) apply(t *testing.T, evs ...*journalpb.Event) []applyResult {
	t.Helper()
	var entries []entry
	for _, ev := range evs {
		data, err := encodeEntry(ev)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, entry{Index: f.next, Data: data})
		f.next++
	}
	res, err := f.applyBatch(entries)
	if err != nil {
		t.Fatalf("applyBatch: %v", err)
	}
	return res
}

func bucketCreate(b string) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_BUCKET_CREATE, OriginSite: "s1", Hlc: ts(1), Body: &journalpb.Event_BucketCreate{BucketCreate: &journalpb.BucketCreate{Bucket: b}}}
}

func bucketDelete(b string) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_BUCKET_DELETE, OriginSite: "s1", Hlc: ts(1), Body: &journalpb.Event_BucketDelete{BucketDelete: &journalpb.BucketDelete{Bucket: b}}}
}

func inlinePut(b, k, data string) *journalpb.Event {
	sum := sha256.Sum256([]byte(data))
	return &journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, OriginSite: "s1", Hlc: ts(2), Body: &journalpb.Event_ObjectPut{ObjectPut: &journalpb.ObjectPut{
		Bucket: b, Key: k, Size: int64(len(data)), InlineData: []byte(data), Md5: sum[:16],
	}}}
}

func shardIDFor(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func ecPut(b, k string, tag string) *journalpb.Event {
	m := &journalpb.Manifest{Pool: "default", DataShards: 2, ParityShards: 1, StripeSize: 100}
	for i := range 3 {
		m.Locations = append(m.Locations, &journalpb.ShardLocation{Node: fmt.Sprintf("n%d", i), Disk: "d0"})
	}
	m.Stripes = []*journalpb.Stripe{{DataLen: 100, ShardIds: [][]byte{shardIDFor(tag + "0"), shardIDFor(tag + "1"), shardIDFor(tag + "2")}}}
	return &journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, OriginSite: "s1", Hlc: ts(3), Body: &journalpb.Event_ObjectPut{ObjectPut: &journalpb.ObjectPut{
		Bucket: b, Key: k, Size: 100, Manifest: m, Md5: []byte(tag),
	}}}
}

func objDelete(b, k string, ifMatch []byte) *journalpb.Event {
	d := &journalpb.ObjectDelete{Bucket: b, Key: k}
	if ifMatch != nil {
		d.Precondition = &journalpb.Precondition{IfMatchMd5: ifMatch}
	}
	return &journalpb.Event{Kind: journalpb.Kind_OBJECT_DELETE, OriginSite: "s1", Hlc: ts(4), Body: &journalpb.Event_ObjectDelete{ObjectDelete: d}}
}

const (
	testUploadID  = "00112233445566778899aabbccddeeff"
	testUploadID2 = "ffeeddccbbaa99887766554433221100"
)

func withHLC(ev *journalpb.Event, wall int64) *journalpb.Event {
	ev.Hlc = ts(wall)
	return ev
}

func mpCreate(b, k, id string, wall int64) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_MULTIPART_CREATE, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_MultipartCreate{
		MultipartCreate: &journalpb.MultipartCreate{Bucket: b, Key: k, UploadId: id, ContentType: "text/plain"}}}
}

// mpPart uploads part number of an upload, erasure coded, its shard ids
// and MD5 derived from tag.
func mpPart(b, k, id string, number uint32, tag string, wall int64) *journalpb.Event {
	m := ecPut(b, k, tag).GetObjectPut().GetManifest()
	return &journalpb.Event{Kind: journalpb.Kind_MULTIPART_PART, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_MultipartPart{
		MultipartPart: &journalpb.MultipartPart{Bucket: b, Key: k, UploadId: id, Part: &journalpb.Part{Number: number, Size: 100, Md5: partMD5(tag), Manifest: m}}}}
}

func partMD5(tag string) []byte { h := sha256.Sum256([]byte("md5" + tag)); return h[:16] }

// mpComplete completes an upload with parts 1.. of the given tags.
func mpComplete(b, k, id string, wall int64, tags ...string) *journalpb.Event {
	mc := &journalpb.MultipartComplete{Bucket: b, Key: k, UploadId: id, MinPartSize: 100}
	for i, tag := range tags {
		mc.Parts = append(mc.Parts, &journalpb.PartRef{Number: uint32(i + 1), Md5: partMD5(tag)})
	}
	return &journalpb.Event{Kind: journalpb.Kind_MULTIPART_COMPLETE, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_MultipartComplete{MultipartComplete: mc}}
}

// everyKind is a log that exercises every event kind the FSM projects.
func everyKind() []*journalpb.Event {
	return []*journalpb.Event{
		{Kind: journalpb.Kind_NODE_REGISTER, Hlc: ts(1), Body: &journalpb.Event_NodeRegister{NodeRegister: &journalpb.NodeRegister{Node: "n0", ApiAddr: "a:1", Disks: []string{"d0"}}}},
		{Kind: journalpb.Kind_POOL_CREATE, Hlc: ts(1), Body: &journalpb.Event_PoolCreate{PoolCreate: &journalpb.PoolCreate{Pool: "default", DataShards: 2, ParityShards: 1}}},
		bucketCreate("alpha"),
		bucketCreate("beta"),
		{Kind: journalpb.Kind_BUCKET_CONFIG, Hlc: ts(2), Body: &journalpb.Event_BucketConfig{BucketConfig: &journalpb.BucketConfig{Bucket: "alpha", Name: "versioning", Document: []byte("Suspended")}}},
		inlinePut("alpha", "a/1", "one"),
		ecPut("alpha", "a/2", "x"),
		ecPut("alpha", "a/2", "y"), // overwrite: x's shards lose their reference
		inlinePut("beta", "b", "bee"),
		objDelete("beta", "b", nil),
		bucketDelete("beta"),
		// A versioned bucket: versions, a delete marker, a version removed
		// for good, a multipart upload completed and one aborted, tags.
		bucketCreate("gamma"),
		{Kind: journalpb.Kind_BUCKET_CONFIG, Hlc: ts(7), Body: &journalpb.Event_BucketConfig{BucketConfig: &journalpb.BucketConfig{Bucket: "gamma", Name: "versioning", Document: []byte("Enabled")}}},
		withHLC(ecPut("gamma", "g", "v1"), 8),
		withHLC(ecPut("gamma", "g", "v2"), 9),
		withHLC(objDelete("gamma", "g", nil), 10),
		mpCreate("gamma", "m", testUploadID, 11),
		mpPart("gamma", "m", testUploadID, 1, "p1", 12),
		mpPart("gamma", "m", testUploadID, 2, "p2", 13),
		mpPart("gamma", "m", testUploadID, 2, "p3", 14), // replaces part 2
		mpComplete("gamma", "m", testUploadID, 15, "p1", "p3"),
		mpCreate("gamma", "m", testUploadID2, 16),
		mpPart("gamma", "m", testUploadID2, 1, "p4", 17),
		{Kind: journalpb.Kind_MULTIPART_ABORT, Hlc: ts(18), Body: &journalpb.Event_MultipartAbort{MultipartAbort: &journalpb.MultipartAbort{Bucket: "gamma", Key: "m", UploadId: testUploadID2}}},
		{Kind: journalpb.Kind_OBJECT_UPDATE, Hlc: ts(19), Body: &journalpb.Event_ObjectUpdate{ObjectUpdate: &journalpb.ObjectUpdate{Bucket: "gamma", Key: "m", SetTags: true, Tags: map[string]string{"k": "v"}}}},
		// Payloads large enough to be kept out of their records
		// (payloads.go): a version made noncurrent, a null version
		// replaced (its payload released), tags set on a stripped record.
		withHLC(inlinePut("gamma", "big", strings.Repeat("1", 3000)), 20),
		withHLC(inlinePut("gamma", "big", strings.Repeat("2", 2000)), 21),
		withHLC(inlinePut("alpha", "big", strings.Repeat("3", 1500)), 22),
		withHLC(inlinePut("alpha", "big", strings.Repeat("4", payloadStripMin)), 23),
		{Kind: journalpb.Kind_OBJECT_UPDATE, Hlc: ts(24), Body: &journalpb.Event_ObjectUpdate{ObjectUpdate: &journalpb.ObjectUpdate{Bucket: "alpha", Key: "big", SetTags: true, Tags: map[string]string{"k": "v"}}}},
		{Kind: journalpb.Kind_USER_PUT, Hlc: ts(5), Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{User: "alice"}}},
		{Kind: journalpb.Kind_KEY_PUT, Hlc: ts(5), Body: &journalpb.Event_KeyPut{KeyPut: &journalpb.KeyPut{User: "alice", AccessKey: "FKALICE00000000000001", Secret: "alice-secret-1"}}},
		{Kind: journalpb.Kind_KEY_DELETE, Hlc: ts(5), Body: &journalpb.Event_KeyDelete{KeyDelete: &journalpb.KeyDelete{AccessKey: "FKALICE00000000000001"}}},
		{Kind: journalpb.Kind_USER_DELETE, Hlc: ts(5), Body: &journalpb.Event_UserDelete{UserDelete: &journalpb.UserDelete{User: "alice"}}},
		// Users and keys that stay, so snapshots and replays hold them.
		{Kind: journalpb.Kind_USER_PUT, Hlc: ts(6), Principal: "system", Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{User: RootUser, Admin: true,
			InitialKey: &journalpb.KeyPut{User: RootUser, AccessKey: "FKROOT0000000000000001", Secret: "root-secret-0001"}}}},
		{Kind: journalpb.Kind_USER_PUT, Hlc: ts(6), Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{User: "bob@example.com"}}},
		{Kind: journalpb.Kind_KEY_PUT, Hlc: ts(6), Body: &journalpb.Event_KeyPut{KeyPut: &journalpb.KeyPut{User: "bob@example.com", AccessKey: "FKBOB00000000000000001", Secret: "bob-secret-0001"}}},
	}
}

func TestApplyEachKind(t *testing.T) {
	f := newTestFSM(t, nil)
	res := f.apply(t, everyKind()...)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("event %d (%v): %v", i, everyKind()[i].GetKind(), r.Err)
		}
		if r.JournalIndex != uint64(i+1) {
			t.Fatalf("event %d got journal index %d", i, r.JournalIndex)
		}
	}
	idx := f.index()
	rec, err := idx.getObject("alpha", "a/1")
	if err != nil || string(rec.put().GetInlineData()) != "one" {
		t.Fatalf("inline object: %v, %v", rec, err)
	}
	rec, err = idx.getObject("alpha", "a/2")
	if err != nil || string(rec.put().GetMd5()) != "y" {
		t.Fatalf("overwritten object: %v, %v", rec, err)
	}
	for i, tag := range []string{"x", "y"} {
		ok, err := idx.shardReferenced("n1", "d0", shardIDFor(tag+"1"))
		if err != nil || ok != (i == 1) {
			t.Fatalf("shard %s1 referenced = %v, %v", tag, ok, err)
		}
	}
	if _, err := idx.getObject("beta", "b"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("deleted bucket: %v", err)
	}
	pool, err := idx.activePool()
	if err != nil || pool.Def.GetPool() != "default" || len(pool.Disks) != 1 {
		t.Fatalf("active pool %+v, %v", pool, err)
	}
	m, err := idx.meta()
	if err != nil || m.Objects != 6 || m.Journal != uint64(len(everyKind())) {
		t.Fatalf("meta %+v, %v", m, err)
	}
	// The versioned bucket: g's delete marker is current, over v2 and v1.
	if _, err := idx.getObject("gamma", "g"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("key under a delete marker: %v", err)
	}
	vs, _, err := idx.listVersions("gamma", "g", "", "", 10)
	if err != nil || len(vs) != 3 || !vs[0].rec.isMarker() || !vs[0].latest ||
		string(vs[1].rec.put().GetMd5()) != "v2" || string(vs[2].rec.put().GetMd5()) != "v1" {
		t.Fatalf("versions of g: %v, %v", vs, err)
	}
	// The multipart object holds parts p1 and p3; p2 (replaced) and p4
	// (aborted) lost their shard references.
	rec, err = idx.getObject("gamma", "m")
	if err != nil || len(rec.put().GetParts()) != 2 || rec.put().GetSize() != 200 || rec.put().GetTags()["k"] != "v" {
		t.Fatalf("multipart object: %v, %v", rec, err)
	}
	for tag, want := range map[string]bool{"p1": true, "p2": false, "p3": true, "p4": false} {
		if ok, err := idx.shardReferenced("n0", "d0", shardIDFor(tag+"0")); err != nil || ok != want {
			t.Fatalf("shard %s0 referenced = %v, %v; want %v", tag, ok, err, want)
		}
	}
	// Large inline payloads are kept out of the records, and read back.
	for _, c := range []struct{ bucket, key, version, want string }{
		{"gamma", "big", "", strings.Repeat("2", 2000)},
		{"alpha", "big", "", strings.Repeat("4", payloadStripMin)},
	} {
		rec, _, err := idx.getVersion(c.bucket, c.key, c.version)
		if err != nil || !payloadStripped(rec.put()) {
			t.Fatalf("%s/%s: record %v, %v; want its payload outside", c.bucket, c.key, rec, err)
		}
		got, err := f.readStrippedPayload(t.Context(), rec)
		if err != nil || string(got) != c.want {
			t.Fatalf("%s/%s: payload of %d bytes, %v", c.bucket, c.key, len(got), err)
		}
	}
	if n := countKeys(t, idx, bktPayloadMarks); n != 3 {
		t.Fatalf("%d payload marks, want 3 (the released one goes)", n)
	}
	if ups, _, err := idx.listUploads("gamma", "", "", "", 10); err != nil || len(ups) != 0 {
		t.Fatalf("uploads left: %v, %v", ups, err)
	}
	recs, err := f.journal().Read(t.Context(), 1, 1<<20)
	if err != nil || len(recs) != len(everyKind()) {
		t.Fatalf("journal holds %d records, %v", len(recs), err)
	}
	seqs := map[string]uint64{}
	for i, r := range recs {
		site := r.Event.GetOriginSite()
		if seqs[site]++; r.Event.GetOriginSeq() != seqs[site] {
			t.Fatalf("journal record %d from %q has origin seq %d, want %d", i, site, r.Event.GetOriginSeq(), seqs[site])
		}
		if i > 0 && !hlcAfter(r.Event.GetHlc(), recs[i-1].Event.GetHlc()) {
			t.Fatalf("journal record %d HLC %v not after %v", i, r.Event.GetHlc(), recs[i-1].Event.GetHlc())
		}
	}
}

func TestApplyRejectionsAreDeterministicAndNotJournaled(t *testing.T) {
	f := newTestFSM(t, nil)
	f.apply(t, bucketCreate("alpha"), inlinePut("alpha", "k", "v1"))
	cur, _ := f.index().getObject("alpha", "k")
	ifNone := inlinePut("alpha", "k", "v2")
	ifNone.GetObjectPut().Precondition = &journalpb.Precondition{IfNoneMatchAny: true}
	ifMatchWrong := inlinePut("alpha", "k", "v3")
	ifMatchWrong.GetObjectPut().Precondition = &journalpb.Precondition{IfMatchMd5: []byte("nope")}
	ifMatchRight := inlinePut("alpha", "k", "v4")
	ifMatchRight.GetObjectPut().Precondition = &journalpb.Precondition{IfMatchMd5: cur.put().GetMd5()}
	cases := []struct {
		ev   *journalpb.Event
		want error
	}{
		{bucketCreate("alpha"), ErrBucketExists},
		{inlinePut("nobucket", "k", "v"), ErrNoSuchBucket},
		{ifNone, ErrPrecondition},
		{ifMatchWrong, ErrPrecondition},
		{ifMatchRight, nil},
		{objDelete("alpha", "missing", nil), ErrNoSuchKey},
		{objDelete("alpha", "k", []byte("wrong")), ErrPrecondition},
		{bucketDelete("alpha"), ErrBucketNotEmpty},
		{bucketDelete("nobucket"), ErrNoSuchBucket},
		{&journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, Body: &journalpb.Event_BucketCreate{BucketCreate: &journalpb.BucketCreate{Bucket: "abc"}}}, ErrInvalidArgument},
	}
	before := f.journal().LastIndex()
	accepted := 0
	for i, tc := range cases {
		res := f.apply(t, tc.ev)
		if !errors.Is(res[0].Err, tc.want) || (tc.want == nil) != (res[0].Err == nil) {
			t.Errorf("case %d: %v, want %v", i, res[0].Err, tc.want)
		}
		if res[0].Err == nil {
			accepted++
		}
	}
	if got := f.journal().LastIndex() - before; got != uint64(accepted) {
		t.Fatalf("journal grew by %d events, want %d (rejections are not journaled)", got, accepted)
	}
	rec, _ := f.index().getObject("alpha", "k")
	if string(rec.put().GetInlineData()) != "v4" {
		t.Fatalf("object = %q, want v4", rec.put().GetInlineData())
	}
}

func TestUnknownEventKindStopsTheNode(t *testing.T) {
	f := newTestFSM(t, nil)
	unknown := &journalpb.Event{Kind: journalpb.Kind(999), Hlc: ts(1)}
	data, _ := encodeEntry(unknown)
	_, err := f.applyBatch([]entry{{Index: 1, Data: data}})
	if !errors.Is(err, errFatal) {
		t.Fatalf("unknown kind: %v, want a fatal error", err)
	}
	if f.AppliedForTest() != 0 {
		t.Fatal("a fatal batch advanced the applied index")
	}
	// Skippable unknown events are skipped, and applying goes on.
	unknown.Skippable = true
	data, _ = encodeEntry(unknown)
	if _, err := f.applyBatch([]entry{{Index: 1, Data: data}}); err != nil {
		t.Fatalf("skippable unknown kind: %v", err)
	}
	if f.AppliedForTest() != 1 || f.journal().LastIndex() != 0 {
		t.Fatalf("applied %d, journal %d; want 1 and 0", f.AppliedForTest(), f.journal().LastIndex())
	}
	// A kind this version knows but cannot apply yet stops the node too:
	// skipping it would let replicas on different versions diverge.
	vol := &journalpb.Event{Kind: journalpb.Kind_VOLUME_TRIM, Hlc: ts(1), Body: &journalpb.Event_VolumeTrim{VolumeTrim: &journalpb.VolumeTrim{Volume: "v"}}}
	data, _ = encodeEntry(vol)
	if _, err := f.applyBatch([]entry{{Index: 2, Data: data}}); !errors.Is(err, errFatal) {
		t.Fatalf("unsupported kind: %v, want fatal", err)
	}
	if err := checkProposable(vol); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("proposing an unsupported kind: %v, want ErrInvalidArgument", err)
	}
}

func (f *fsm) AppliedForTest() uint64 { i, _ := f.appliedIndex(); return i }

func snapshotBytes(t *testing.T, f *fsm) []byte {
	t.Helper()
	tx, jr, release, err := f.snapshotView()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var buf bytes.Buffer
	if err := writeSnapshot(tx, jr, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReplayDeterminism: two fresh FSMs fed the same log, in different batch
// splits, write byte-identical snapshots; replaying entries already applied
// changes nothing.
func TestReplayDeterminism(t *testing.T) {
	log := everyKind()
	a, b := newTestFSM(t, nil), newTestFSM(t, nil)
	a.apply(t, log...)
	for _, ev := range log {
		b.apply(t, proto.Clone(ev).(*journalpb.Event))
	}
	sa, sb := snapshotBytes(t, a.fsm), snapshotBytes(t, b.fsm)
	if !bytes.Equal(sa, sb) {
		t.Fatal("two replicas of the same log wrote different snapshots")
	}
	// Replay of the whole log (as after a restart) is a no-op.
	b.next = 1
	b.apply(t, log...)
	if !bytes.Equal(sa, snapshotBytes(t, b.fsm)) || b.journal().LastIndex() != uint64(len(log)) {
		t.Fatal("replaying applied entries changed the state or the journal")
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	a := newTestFSM(t, nil)
	a.apply(t, everyKind()...)
	snap := snapshotBytes(t, a.fsm)
	b := newTestFSM(t, nil)
	b.apply(t, bucketCreate("stale")) // state the restore must replace
	if err := b.restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, snapshotBytes(t, b.fsm)) {
		t.Fatal("restored state differs from the snapshot")
	}
	if _, err := b.index().getObject("stale", "x"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("state from before the restore survived: %v", err)
	}
	if b.journal().FirstIndex() != uint64(len(everyKind()))+1 {
		t.Fatalf("journal restarts at %d, want %d", b.journal().FirstIndex(), len(everyKind())+1)
	}
	// The next entry (after the snapshot's index) continues the journal.
	b.next = uint64(len(everyKind())) + 1
	res := b.apply(t, inlinePut("alpha", "after", "x"))
	if res[0].Err != nil || res[0].JournalIndex != uint64(len(everyKind()))+1 {
		t.Fatalf("apply after restore: %+v", res[0])
	}
	// Corrupt snapshots are refused, and the old state stays.
	for name, mutate := range map[string]func([]byte) []byte{
		"bit flip":   func(s []byte) []byte { s[len(s)/2] ^= 1; return s },
		"truncated":  func(s []byte) []byte { return s[:len(s)-5] },
		"bad header": func(s []byte) []byte { s[0] = 'X'; return s },
		"empty":      func(s []byte) []byte { return nil },
	} {
		bad := mutate(append([]byte(nil), snap...))
		c := newTestFSM(t, nil)
		c.apply(t, bucketCreate("kept"))
		err := c.restore(bytes.NewReader(bad))
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s snapshot: %v, want ErrCorrupt", name, err)
		}
		if bs, err := c.index().listBuckets(); err != nil || len(bs) != 1 || bs[0].Name != "kept" {
			t.Fatalf("%s snapshot: state after refused restore: %v, %v", name, bs, err)
		}
	}
}

// TestCrashBetweenJournalAndIndex: the journal is appended and synced
// before the index commits; if the node dies between the two, replay must
// not append the events twice.
func TestCrashBetweenJournalAndIndex(t *testing.T) {
	f := newTestFSM(t, nil)
	f.apply(t, bucketCreate("alpha"))
	// Events 2 and 3 reached the journal, the index commit did not.
	ev2, ev3 := inlinePut("alpha", "a", "1"), inlinePut("alpha", "b", "2")
	ev2.OriginSeq, ev3.OriginSeq = 2, 3
	if _, err := f.journal().Append(ev2, ev3); err != nil {
		t.Fatal(err)
	}
	f.apply(t, inlinePut("alpha", "a", "1"), inlinePut("alpha", "b", "2"), inlinePut("alpha", "c", "3"))
	if f.journal().LastIndex() != 4 {
		t.Fatalf("journal ends at %d, want 4 (no duplicates)", f.journal().LastIndex())
	}
	recs, err := f.journal().Read(t.Context(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Event.GetOriginSeq() != uint64(i+1) {
			t.Fatalf("journal %d has origin seq %d", r.Index, r.Event.GetOriginSeq())
		}
	}
}

// TestFullDiskStallsApplyWithoutLoss: when the journal's disk is full the
// state machine retries instead of skipping; once space returns it goes on
// and nothing committed is lost.
func TestFullDiskStallsApplyWithoutLoss(t *testing.T) {
	in := vfs.NewInjector(vfs.NewMem())
	f := newTestFSM(t, in)
	f.apply(t, bucketCreate("alpha"))
	in.SetRule(func(op vfs.Op, name string) error {
		if op == vfs.OpWrite || op == vfs.OpSync || op == vfs.OpCreate {
			return vfs.ErrNoSpace
		}
		return nil
	})
	var status applyStatus
	stop := make(chan struct{})
	fatal := make(chan error, 1)
	a := &raftFSM{f: f.fsm, log: discardLogger(), stop: stop, status: &status, onFatal: func(err error) { fatal <- err }}
	logs := []*raft.Log{
		{Index: 2, Type: raft.LogCommand, Data: mustEntry(t, inlinePut("alpha", "k1", "v1"))},
		{Index: 3, Type: raft.LogCommand, Data: mustEntry(t, inlinePut("alpha", "k2", "v2"))},
	}
	done := make(chan []any, 1)
	go func() { done <- a.ApplyBatch(logs) }()
	deadline := time.After(30 * time.Second)
	for status.get() == nil {
		select {
		case <-deadline:
			t.Fatal("apply did not report the full disk")
		case <-time.After(time.Millisecond):
		}
	}
	if err := status.get(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("apply status %v, want ENOSPC", err)
	}
	if _, err := a.Snapshot(); err == nil {
		t.Fatal("snapshot taken while applying is stalled")
	}
	if f.AppliedForTest() != 1 {
		t.Fatal("entries were marked applied while the journal could not be written")
	}
	in.SetRule(nil)
	var res []any
	select {
	case res = <-done:
	case <-deadline:
		t.Fatal("apply did not resume after space came back")
	}
	for i, r := range res {
		if ar := r.(applyResult); ar.Err != nil {
			t.Fatalf("entry %d: %v", i, ar.Err)
		}
	}
	select {
	case err := <-fatal:
		t.Fatalf("a full disk stopped the node: %v", err)
	default:
	}
	if status.get() != nil || f.journal().LastIndex() != 3 {
		t.Fatalf("after recovery: status %v, journal %d", status.get(), f.journal().LastIndex())
	}
	for _, k := range []string{"k1", "k2"} {
		if _, err := f.index().getObject("alpha", k); err != nil {
			t.Fatalf("%s lost: %v", k, err)
		}
	}
}

func mustEntry(t *testing.T, ev *journalpb.Event) []byte {
	t.Helper()
	b, err := encodeEntry(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadsDuringRestore: reads that race a snapshot restore (which closes
// and replaces the index) either succeed or get ErrUnavailable; none
// touches the closed index.
func TestReadsDuringRestore(t *testing.T) {
	a := newTestFSM(t, nil)
	a.apply(t, everyKind()...)
	snap := snapshotBytes(t, a.fsm)
	b := newTestFSM(t, nil)
	b.apply(t, bucketCreate("alpha"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, closed atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := b.index().listBuckets()
				switch {
				case err == nil:
					reads.Add(1)
				case errors.Is(err, ErrUnavailable):
					closed.Add(1)
				default:
					t.Errorf("read during restore: %v", err)
					return
				}
			}
		})
	}
	for range 20 {
		if err := b.restore(bytes.NewReader(snap)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no read succeeded while restoring")
	}
	t.Logf("%d reads, %d saw a closed index", reads.Load(), closed.Load())
}

// TestStripeManifestKeepsEveryField: the per-shard record the scrubber
// reads carries every field of the object's manifest but the other
// stripes, including fields added after this test was written.
func TestStripeManifestKeepsEveryField(t *testing.T) {
	st := &journalpb.Stripe{DataLen: 7, ShardIds: [][]byte{{1}, {2}}}
	m := &journalpb.Manifest{
		Pool: "p", DataShards: 1, ParityShards: 1, StripeSize: 8,
		Locations: []*journalpb.ShardLocation{{Node: "n1", Disk: "d0"}, {Node: "n2", Disk: "d0"}},
		Stripes:   []*journalpb.Stripe{{DataLen: 8}, st},
		IdKey:     []byte("key"), ParityIdsDerived: true, CellSize: 4,
	}
	fields := m.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); !m.ProtoReflect().Has(fd) {
			t.Fatalf("test manifest leaves field %s unset: set it here", fd.Name())
		}
	}
	got := stripeManifest(m, st)
	want := proto.Clone(m).(*journalpb.Manifest)
	want.Stripes = []*journalpb.Stripe{st}
	if !proto.Equal(got, want) {
		t.Fatalf("stripeManifest = %v, want %v", got, want)
	}
}

// TestFailedJournalSyncStopsTheNode: a journal sync that fails before the
// index reaches disk may have lost events the in-memory index holds, so
// the index refuses to create its file, and the state machine stops the
// node instead of applying on (a restart replays the log).
func TestFailedJournalSyncStopsTheNode(t *testing.T) {
	in := vfs.NewInjector(vfs.NewMem())
	f := newTestFSM(t, in)
	f.apply(t, bucketCreate("alpha"), inlinePut("alpha", "k1", "v1"))
	in.SetRule(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			return syscall.EIO
		}
		return nil
	})
	err := f.index().sync() // a flush: Pebble creates a table
	if !errors.Is(err, errFatal) || !errors.Is(err, journal.ErrWritesLost) {
		t.Fatalf("index flush with a failing journal sync = %v, want errFatal wrapping ErrWritesLost", err)
	}
	in.SetRule(nil)
	if err := f.js.sync(); !errors.Is(err, errFatal) {
		t.Fatalf("journal sync after a failed one = %v, want the recorded failure", err)
	}
	fatal := make(chan error, 1)
	stop := make(chan struct{})
	a := &raftFSM{f: f.fsm, log: discardLogger(), stop: stop, status: &applyStatus{}, onFatal: func(err error) { fatal <- err }}
	done := make(chan []any, 1)
	go func() {
		done <- a.ApplyBatch([]*raft.Log{{Index: f.next, Type: raft.LogCommand, Data: mustEntry(t, inlinePut("alpha", "k2", "v2"))}})
	}()
	select {
	case err := <-fatal:
		if !errors.Is(err, errFatal) {
			t.Fatalf("node stopped with %v, want errFatal", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not stop after a failed journal sync")
	}
	close(stop)
	<-done
	if _, err := f.index().getObject("alpha", "k2"); err == nil {
		t.Fatal("an entry was applied after the journal lost events")
	}
}

// TestSnapshotReleaseAsksForATrim: raft releases a snapshot after it has
// compacted its log, which walked the pages of every dropped entry; the
// node is told then, to trim the log's mapping at once.
func TestSnapshotReleaseAsksForATrim(t *testing.T) {
	f := newTestFSM(t, vfs.NewMem())
	f.apply(t, bucketCreate("alpha"))
	released := 0
	a := &raftFSM{f: f.fsm, log: discardLogger(), stop: make(chan struct{}), status: &applyStatus{}, onFatal: func(error) {},
		snapshotReleased: func() { released++ }}
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if released != 0 {
		t.Fatal("told of a release before raft released the snapshot")
	}
	snap.Release()
	if released != 1 {
		t.Fatalf("told %d times after one release, want 1", released)
	}
}
