package raftstore

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
)

func bucketConfig(b, name string, doc []byte, wall int64) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_BUCKET_CONFIG, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_BucketConfig{
		BucketConfig: &journalpb.BucketConfig{Bucket: b, Name: name, Document: doc}}}
}

func versionDelete(b, k, version string, wall int64, bypass bool) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_OBJECT_DELETE, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_ObjectDelete{
		ObjectDelete: &journalpb.ObjectDelete{Bucket: b, Key: k, VersionId: version, BypassGovernance: bypass}}}
}

// applyOne applies one event and returns its result.
func (f *testFSM) applyOne(t *testing.T, ev *journalpb.Event) applyResult {
	t.Helper()
	return f.apply(t, ev)[0]
}

func (f *testFSM) mustApply(t *testing.T, ev *journalpb.Event) applyResult {
	t.Helper()
	r := f.applyOne(t, ev)
	if r.Err != nil {
		t.Fatalf("%v: %v", ev.GetKind(), r.Err)
	}
	return r
}

func versionIDs(t *testing.T, f *testFSM, b, k string) []string {
	t.Helper()
	vs, _, err := f.index().listVersions(b, k, "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		if v.rec.Event.GetObjectDelete() != nil && v.rec.Event.GetObjectDelete().GetKey() != k || v.rec.put() != nil && v.rec.put().GetKey() != k {
			continue
		}
		id := v.rec.versionID()
		if v.rec.isMarker() {
			id = "marker:" + id
		}
		out = append(out, id)
	}
	return out
}

// TestVersioning walks S3's versioning rules through the state machine:
// enabled puts add versions, deletes add markers, a version removed for
// good promotes the next one, suspended puts replace the null version.
func TestVersioning(t *testing.T) {
	f := newTestFSM(t, nil)
	f.mustApply(t, bucketCreate("vvv"))
	f.mustApply(t, bucketConfig("vvv", ConfigVersioning, []byte(VersioningEnabled), 2))
	v1 := f.mustApply(t, withHLC(inlinePut("vvv", "k", "one"), 3)).Outcome.GetVersionId()
	v2 := f.mustApply(t, withHLC(inlinePut("vvv", "k", "two"), 4)).Outcome.GetVersionId()
	if v1 == v2 || v1 == NullVersion || len(v1) != 32 {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	m := f.mustApply(t, withHLC(objDelete("vvv", "k", nil), 5)).Outcome
	if !m.GetDeleteMarker() {
		t.Fatalf("delete in a versioned bucket: %v", m)
	}
	if got, want := versionIDs(t, f, "vvv", "k"), []string{"marker:" + m.GetVersionId(), v2, v1}; !equalStrings(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	if _, err := f.index().getObject("vvv", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("current is a marker: %v", err)
	}
	if recs, _, _ := f.index().listObjects("vvv", "", "", 10); len(recs) != 0 {
		t.Fatalf("listing shows a deleted key: %v", recs)
	}
	rec, latest, err := f.index().getVersion("vvv", "k", v1)
	if err != nil || latest || string(rec.put().GetInlineData()) != "one" {
		t.Fatalf("old version: %v %v %v", rec, latest, err)
	}
	// Removing the marker brings v2 back; removing v2 brings v1.
	if o := f.mustApply(t, versionDelete("vvv", "k", m.GetVersionId(), 6, false)).Outcome; !o.GetDeleteMarker() {
		t.Fatalf("marker removal: %v", o)
	}
	if rec, _ := f.index().getObject("vvv", "k"); string(rec.put().GetInlineData()) != "two" {
		t.Fatalf("after the marker's removal: %v", rec)
	}
	f.mustApply(t, versionDelete("vvv", "k", v2, 7, false))
	if rec, _ := f.index().getObject("vvv", "k"); string(rec.put().GetInlineData()) != "one" {
		t.Fatalf("after v2's removal: %v", rec)
	}
	if r := f.applyOne(t, versionDelete("vvv", "k", v2, 8, false)); !errors.Is(r.Err, ErrNoSuchVersion) {
		t.Fatalf("removing a removed version: %v", r.Err)
	}
	// Suspended: puts write the null version, replacing it each time.
	f.mustApply(t, bucketConfig("vvv", ConfigVersioning, []byte(VersioningSuspended), 9))
	f.mustApply(t, withHLC(inlinePut("vvv", "k", "n1"), 10))
	f.mustApply(t, withHLC(inlinePut("vvv", "k", "n2"), 11))
	if got, want := versionIDs(t, f, "vvv", "k"), []string{NullVersion, v1}; !equalStrings(got, want) {
		t.Fatalf("suspended versions %v, want %v", got, want)
	}
	// A bucket that versioned cannot go back to unversioned.
	if r := f.applyOne(t, bucketConfig("vvv", ConfigVersioning, nil, 12)); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Fatalf("unsetting versioning: %v", r.Err)
	}
	// Deleting the whole bucket needs every version gone.
	if r := f.applyOne(t, withHLC(bucketDelete("vvv"), 13)); !errors.Is(r.Err, ErrBucketNotEmpty) {
		t.Fatalf("deleting a bucket with versions: %v", r.Err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestObjectLock: COMPLIANCE retention stops every removal and shortening
// until it ends; GOVERNANCE yields to the bypass; a legal hold stops
// removal whatever the retention.
func TestObjectLock(t *testing.T) {
	day := int64(24 * time.Hour)
	f := newTestFSM(t, nil)
	f.mustApply(t, bucketCreate("www"))
	lockDoc, _ := proto.Marshal(&journalpb.BucketObjectLock{Enabled: true, DefaultMode: LockCompliance, DefaultDays: 1})
	if r := f.applyOne(t, bucketConfig("www", ConfigObjectLock, lockDoc, 2)); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Fatalf("object lock without versioning: %v", r.Err)
	}
	f.mustApply(t, bucketConfig("www", ConfigVersioning, []byte(VersioningEnabled), 2))
	f.mustApply(t, bucketConfig("www", ConfigObjectLock, lockDoc, 3))
	if r := f.applyOne(t, bucketConfig("www", ConfigVersioning, []byte(VersioningSuspended), 4)); !errors.Is(r.Err, ErrInvalidArgument) {
		t.Fatalf("suspending versioning under object lock: %v", r.Err)
	}
	now := int64(1000 * day)
	v1 := f.mustApply(t, withHLC(inlinePut("www", "k", "locked"), now)).Outcome.GetVersionId()
	rec, _, _ := f.index().getVersion("www", "k", v1)
	if l := rec.put().GetLock(); l.GetMode() != LockCompliance || l.GetRetainUntilNanos() != now+day {
		t.Fatalf("default retention: %v", l)
	}
	// Neither a removal, with or without the bypass, nor a shortening.
	for _, bypass := range []bool{false, true} {
		if r := f.applyOne(t, versionDelete("www", "k", v1, now+1, bypass)); !errors.Is(r.Err, ErrLocked) {
			t.Fatalf("removing a COMPLIANCE version (bypass %v): %v", bypass, r.Err)
		}
	}
	update := func(u *journalpb.ObjectUpdate, wall int64) applyResult {
		u.Bucket, u.Key = "www", "k"
		return f.applyOne(t, &journalpb.Event{Kind: journalpb.Kind_OBJECT_UPDATE, OriginSite: "s1", Hlc: ts(wall), Body: &journalpb.Event_ObjectUpdate{ObjectUpdate: u}})
	}
	for _, ret := range []*journalpb.ObjectLock{
		{Mode: LockCompliance, RetainUntilNanos: now + day/2},
		{Mode: LockGovernance, RetainUntilNanos: now + 2*day},
		{},
	} {
		if r := update(&journalpb.ObjectUpdate{VersionId: v1, SetRetention: true, Retention: ret, BypassGovernance: true}, now+2); !errors.Is(r.Err, ErrLocked) {
			t.Fatalf("weakening COMPLIANCE to %v: %v", ret, r.Err)
		}
	}
	// Extending is allowed; a plain delete only adds a marker above it.
	if r := update(&journalpb.ObjectUpdate{VersionId: v1, SetRetention: true, Retention: &journalpb.ObjectLock{Mode: LockCompliance, RetainUntilNanos: now + 2*day}}, now+3); r.Err != nil {
		t.Fatal(r.Err)
	}
	f.mustApply(t, withHLC(objDelete("www", "k", nil), now+4))
	if rec, _, err := f.index().getVersion("www", "k", v1); err != nil || string(rec.put().GetInlineData()) != "locked" {
		t.Fatalf("locked version after a delete: %v", err)
	}
	// Once retention has passed (by the HLC of the deleting event), the
	// version can go; a legal hold still stops it.
	if r := update(&journalpb.ObjectUpdate{VersionId: v1, SetLegalHold: true, LegalHold: true}, now+5); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := f.applyOne(t, versionDelete("www", "k", v1, now+3*day, false)); !errors.Is(r.Err, ErrLocked) {
		t.Fatalf("removing a version under legal hold: %v", r.Err)
	}
	if r := update(&journalpb.ObjectUpdate{VersionId: v1, SetLegalHold: true, LegalHold: false}, now+3*day); r.Err != nil {
		t.Fatal(r.Err)
	}
	f.mustApply(t, versionDelete("www", "k", v1, now+3*day+1, false))

	// GOVERNANCE: removal and shortening need the bypass.
	put := withHLC(inlinePut("www", "g", "gov"), now+4*day)
	put.GetObjectPut().Lock = &journalpb.ObjectLock{Mode: LockGovernance, RetainUntilNanos: now + 10*day}
	v2 := f.mustApply(t, put).Outcome.GetVersionId()
	if r := f.applyOne(t, versionDelete("www", "g", v2, now+4*day+1, false)); !errors.Is(r.Err, ErrLocked) {
		t.Fatalf("removing a GOVERNANCE version without the bypass: %v", r.Err)
	}
	f.mustApply(t, versionDelete("www", "g", v2, now+4*day+2, true))
}

// TestRejectedEventLeavesNoTrace: an event refused after it changed part
// of the batch (a conditional put that took shard references before its
// condition failed) is undone, while the events around it stay.
func TestRejectedEventLeavesNoTrace(t *testing.T) {
	f := newTestFSM(t, nil)
	f.mustApply(t, bucketCreate("bbb"))
	first := ecPut("bbb", "k", "a")
	refused := ecPut("bbb", "k", "b")
	refused.GetObjectPut().Precondition = &journalpb.Precondition{IfNoneMatchAny: true}
	after := ecPut("bbb", "other", "c")
	res := f.apply(t, first, refused, after)
	if res[0].Err != nil || !errors.Is(res[1].Err, ErrPrecondition) || res[2].Err != nil {
		t.Fatalf("results %v", res)
	}
	for tag, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if ok, err := f.index().shardReferenced("n0", "d0", shardIDFor(tag+"0")); err != nil || ok != want {
			t.Fatalf("shard of %s referenced = %v, %v; want %v", tag, ok, err, want)
		}
	}
}
