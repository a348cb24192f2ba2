package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferrydr/ferry/journal"
)

func countKeys(t *testing.T, x *index, bucket []byte) int {
	t.Helper()
	n := 0
	if err := x.view(func(tx *kvTx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error { n++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// bigPayload is a payload kept out of its record, distinct per n, and
// incompressible: each fills a journal segment of MinSegmentBytes.
func bigPayload(n int) string {
	b := make([]byte, 2*payloadStripMin)
	rand.NewChaCha8([32]byte{byte(n), byte(n >> 8)}).Read(b)
	return string(b)
}

// checkPayloads reads each key of want back through the state machine.
func checkPayloads(t *testing.T, f *fsm, bucket string, want map[string]string) {
	t.Helper()
	for key, data := range want {
		rec, err := f.index().getObject(bucket, key)
		if err != nil {
			t.Fatalf("%s/%s: %v", bucket, key, err)
		}
		got := rec.put().GetInlineData()
		if payloadStripped(rec.put()) {
			if got, err = f.readStrippedPayload(t.Context(), rec); err != nil {
				t.Fatalf("%s/%s: %v", bucket, key, err)
			}
		}
		if string(got) != data {
			t.Fatalf("%s/%s: read %d bytes %.12q..., want %d bytes %.12q...", bucket, key, len(got), got, len(data), data)
		}
	}
}

// TestPayloadsMoveIntoTheIndex: large inline payloads stay in the journal
// until their segment is sealed, then move into the index; retention may
// then release the segment, reads never miss, the snapshot image is the
// same before and after the move, and released payloads leave nothing.
func TestPayloadsMoveIntoTheIndex(t *testing.T) {
	// Each event of a large payload outgrows a segment: one segment per
	// batch, and no retention window.
	f := newTestFSMJournal(t, nil, journal.MinSegmentBytes)
	f.apply(t, bucketCreate("alpha"))
	want := map[string]string{}
	for i := range 6 {
		key := fmt.Sprintf("k%d", i)
		want[key] = bigPayload(i)
		f.apply(t, inlinePut("alpha", key, want[key]))
	}
	want["small"] = "tiny"
	f.apply(t, inlinePut("alpha", "small", "tiny"), objDelete("alpha", "k1", nil))
	delete(want, "k1")
	want["k2"] = bigPayload(22)
	f.apply(t, inlinePut("alpha", "k2", want["k2"])) // the old k2 payload is released
	idx := f.index()
	if n := countKeys(t, idx, bktPayloadMarks); n != 5 {
		t.Fatalf("%d marks, want 5 (k0, k2, k3, k4, k5)", n)
	}
	checkPayloads(t, f.fsm, "alpha", want)
	before := snapshotBytes(t, f.fsm)
	first := f.journal().FirstIndex()

	moved, err := f.movePayloads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// k2's new payload is in the segment being written; the others moved.
	if moved != 4 || countKeys(t, idx, bktPayloadMarks) != 1 || countKeys(t, idx, bktPayloads) != 4 {
		t.Fatalf("moved %d: %d marks, %d payloads left; want 4, 1, 4", moved, countKeys(t, idx, bktPayloadMarks), countKeys(t, idx, bktPayloads))
	}
	if got := f.journal().FirstIndex(); got <= first || got != f.journal().SealedThrough()+1 {
		t.Fatalf("journal first index %d (was %d, sealed through %d): retention did not release the moved segments",
			got, first, f.journal().SealedThrough())
	}
	checkPayloads(t, f.fsm, "alpha", want)
	if !bytes.Equal(before, snapshotBytes(t, f.fsm)) {
		t.Fatal("the snapshot image changed with the move")
	}
	if again, err := f.movePayloads(t.Context()); err != nil || again != 0 {
		t.Fatalf("second pass moved %d, %v", again, err)
	}

	// Releasing a moved payload deletes its bytes.
	f.apply(t, objDelete("alpha", "k0", nil), inlinePut("alpha", "k3", "short now"))
	delete(want, "k0")
	want["k3"] = "short now"
	if n := countKeys(t, idx, bktPayloads); n != 2 {
		t.Fatalf("%d payloads in the index after releasing two of four, want 2", n)
	}
	checkPayloads(t, f.fsm, "alpha", want)

	// A restored replica holds every payload in the index, and the same
	// image.
	img := snapshotBytes(t, f.fsm)
	g := newTestFSM(t, nil)
	if err := g.restore(bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	if countKeys(t, g.index(), bktPayloadMarks) != 0 {
		t.Fatal("a restored index has payload marks")
	}
	checkPayloads(t, g.fsm, "alpha", want)
	if !bytes.Equal(img, snapshotBytes(t, g.fsm)) {
		t.Fatal("restored image differs")
	}
}

// TestPayloadReleasedWhileMoving: a payload released between the mover's
// table and its marks' removal loses its ingested bytes too; a mark left
// beside moved bytes (a crash between the two steps) changes nothing and
// is dropped by a later pass.
func TestPayloadReleasedWhileMoving(t *testing.T) {
	f := newTestFSMJournal(t, nil, journal.MinSegmentBytes)
	f.apply(t, bucketCreate("alpha"))
	want := map[string]string{}
	for i := range 3 {
		key := fmt.Sprintf("k%d", i)
		want[key] = bigPayload(i)
		f.apply(t, inlinePut("alpha", key, want[key]))
	}
	f.apply(t, bucketCreate("seal")) // k2's segment is sealed too
	idx, jr := f.index(), f.journal()
	marks := []uint64{2, 3, 4}
	moved, leftovers, err := f.ingestPayloads(t.Context(), jr, idx, marks)
	if err != nil || len(moved) != 3 || len(leftovers) != 0 {
		t.Fatalf("ingest: moved %v, leftovers %v, %v", moved, leftovers, err)
	}
	before := snapshotBytes(t, f.fsm) // marks and bytes both present
	f.apply(t, objDelete("alpha", "k1", nil))
	delete(want, "k1")
	if err := f.dropMarks(idx, moved, nil); err != nil {
		t.Fatal(err)
	}
	if countKeys(t, idx, bktPayloadMarks) != 0 || countKeys(t, idx, bktPayloads) != 2 {
		t.Fatalf("%d marks, %d payloads; want 0 and 2 (k1's bytes go)", countKeys(t, idx, bktPayloadMarks), countKeys(t, idx, bktPayloads))
	}
	checkPayloads(t, f.fsm, "alpha", want)

	// A crash between the ingest and the marks' removal leaves both.
	tx := idx.begin()
	if err := tx.Bucket(bktPayloadMarks).Put(payloadKey(2), nil); err != nil {
		t.Fatal(err)
	}
	if err := idx.commit(tx); err != nil {
		t.Fatal(err)
	}
	g := newTestFSM(t, nil)
	if err := g.restore(bytes.NewReader(before)); err != nil {
		t.Fatal(err)
	}
	g.next = f.next - 1
	g.apply(t, objDelete("alpha", "k1", nil))
	if !bytes.Equal(snapshotBytes(t, f.fsm), snapshotBytes(t, g.fsm)) {
		t.Fatal("a leftover mark changed the snapshot image")
	}
	checkPayloads(t, f.fsm, "alpha", want)
	// The pin still covers index 2; once retention may release it (a
	// later pass acks past it), the leftover is dropped.
	f.apply(t, inlinePut("alpha", "k9", bigPayload(9)), bucketCreate("seal2"))
	if _, err := f.movePayloads(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.apply(t, bucketCreate("seal3"))
	if _, err := f.movePayloads(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, idx, bktPayloadMarks); n != 0 {
		t.Fatalf("%d marks left, want none", n)
	}
	want["k9"] = bigPayload(9)
	checkPayloads(t, f.fsm, "alpha", want)
}

// TestPayloadInJournalMustMatch: a journal event that is not the put a
// stripped record expects is corruption, never bytes served.
func TestPayloadInJournalMustMatch(t *testing.T) {
	ev := inlinePut("alpha", "a", bigPayload(1))
	ev.GetObjectPut().VersionId = NullVersion
	want := inlinePut("alpha", "b", bigPayload(1)).GetObjectPut()
	want.VersionId = NullVersion
	if _, err := payloadFrom(ev, 7, want); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("another key's put: %v, want ErrCorrupt", err)
	}
	if _, err := payloadFrom(bucketCreate("x"), 7, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("not a put: %v, want ErrCorrupt", err)
	}
	if _, err := payloadFrom(inlinePut("alpha", "a", "small"), 7, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a payload kept in its record: %v, want ErrCorrupt", err)
	}
}
