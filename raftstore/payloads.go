package raftstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	pebblevfs "github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// Inline payloads out of the index.
//
// A put whose payload rides in the event is written by every node to the
// raft log and to the journal. Its index record does not hold the payload
// a third time: from payloadStripMin bytes on, the record is stored without
// its inline data, and the payload is found by the record's journal index
// J:
//
//   - "payload-marks" J (empty value): the payload is in the journal, in
//     the event at J. Every new put starts here.
//   - "~payloads" J: the payload bytes, moved there from the journal once
//     the journal segment holding J is sealed (the mover, below), or
//     restored from a snapshot.
//
// A record stands for a stripped payload when its put has a size, no
// inline data, no manifest and no parts: validatePayload refuses that
// shape in an event, so it is unambiguous. When both keys exist (a crash
// between the mover's two steps), "~payloads" wins; both hold the same
// bytes.
//
// The mover copies the live payloads of sealed segments, in journal order,
// into one sorted table that Pebble ingests whole. "~payloads" sorts after
// every other bucket and J only grows, so the table overlaps nothing and
// lands in the bottom level: the payload is written once more, sequentially,
// instead of passing through memtables, flushes and compactions among the
// records. Until it has moved, a journal cursor (pin) keeps the segment
// from retention.
//
// This is physical layout only: a snapshot is the logical image, with every
// payload under "~payloads" (snapshot.go), so replicas that moved different
// amounts write identical snapshots, and a restored index has no marks.
var (
	bktPayloadMarks = []byte("payload-marks")
	bktPayloads     = []byte("~payloads")
)

// payloadStripMin is the smallest inline payload kept out of the index
// record. Smaller ones cost less in the record than a second lookup.
const payloadStripMin = valueSeparationMin

// stripsPayload says whether a put's record is stored without its payload.
func stripsPayload(p *journalpb.ObjectPut) bool {
	return len(p.GetInlineData()) >= payloadStripMin && p.GetManifest() == nil && len(p.GetParts()) == 0
}

// payloadStripped says whether a stored record's payload lives under its
// journal index.
func payloadStripped(p *journalpb.ObjectPut) bool {
	return p.GetSize() > 0 && len(p.GetInlineData()) == 0 && p.GetManifest() == nil && len(p.GetParts()) == 0
}

func payloadKey(j uint64) []byte { return binary.BigEndian.AppendUint64(nil, j) }

// putStrippedRecord stores rec, a put applied at rec.JournalIndex whose
// payload stripsPayload, without the payload, and marks the payload as in
// the journal. The event itself is left whole (it is journaled after).
func putStrippedRecord(tx *kvTx, b *kvBucket, key []byte, rec *objectRecord) error {
	p := rec.put()
	data := p.InlineData
	p.InlineData = nil
	err := putRecord(b, key, rec)
	p.InlineData = data
	if err != nil {
		return err
	}
	if err := tx.Bucket(bktPayloadMarks).Put(payloadKey(rec.JournalIndex), nil); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

// releasePayload forgets the stripped payload at j, wherever it is: only
// the mark while there is one (a payload not yet moved has no bytes in the
// index, and a delete there would only leave a tombstone), else the bytes.
func releasePayload(tx *kvTx, j uint64) error {
	k := payloadKey(j)
	marks := tx.Bucket(bktPayloadMarks)
	b := tx.Bucket(bktPayloads)
	if marks.Get(k) != nil {
		b = marks
	}
	if err := b.Delete(k); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return tx.err
}

// payloadFrom returns the inline payload of the journaled event ev at
// journal index j, checking that it is the put a record expects (want; nil
// checks only the shape).
func payloadFrom(ev *journalpb.Event, j uint64, want *journalpb.ObjectPut) ([]byte, error) {
	p := ev.GetObjectPut()
	if ev.GetKind() != journalpb.Kind_OBJECT_PUT || !stripsPayload(p) {
		return nil, fmt.Errorf("%w: journal index %d holds a %v event, not the inline put the index expects there", ErrCorrupt, j, ev.GetKind())
	}
	if want != nil && (p.GetBucket() != want.GetBucket() || p.GetKey() != want.GetKey() ||
		p.GetVersionId() != want.GetVersionId() || p.GetSize() != want.GetSize()) {
		return nil, fmt.Errorf("%w: journal index %d holds %s/%s version %s (%d bytes), the index expects %s/%s version %s (%d bytes)",
			ErrCorrupt, j, p.GetBucket(), p.GetKey(), p.GetVersionId(), p.GetSize(),
			want.GetBucket(), want.GetKey(), want.GetVersionId(), want.GetSize())
	}
	return p.GetInlineData(), nil
}

// journalReader reads events at increasing journal indexes, a few MiB of
// the journal at a time.
type journalReader struct {
	ctx  context.Context
	jr   *journal.Journal
	recs []journal.Record
}

const journalReadBytes = 4 << 20

// event returns the event at index j.
func (r *journalReader) event(j uint64) (*journalpb.Event, error) {
	for len(r.recs) > 0 && r.recs[0].Index < j {
		r.recs = r.recs[1:]
	}
	if len(r.recs) == 0 || r.recs[0].Index != j {
		recs, err := r.jr.Read(r.ctx, j, journalReadBytes)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 || recs[0].Index != j {
			return nil, fmt.Errorf("%w: journal index %d is past the journal's end %d", ErrCorrupt, j, r.jr.LastIndex())
		}
		r.recs = recs
	}
	return r.recs[0].Event, nil
}

// errPayloadGone: the version whose payload was being read was removed
// meanwhile; the read starts again from the record.
var errPayloadGone = errors.New("raftstore: payload released during the read")

// readStrippedPayload returns the payload of rec, a stripped record.
func (f *fsm) readStrippedPayload(ctx context.Context, rec *objectRecord) ([]byte, error) {
	j := rec.JournalIndex
	for attempt := 0; ; attempt++ {
		var data []byte
		var marked bool
		err := f.index().view(func(tx *kvTx) error {
			data = tx.Bucket(bktPayloads).Get(payloadKey(j))
			marked = data == nil && tx.Bucket(bktPayloadMarks).Get(payloadKey(j)) != nil
			return nil
		})
		switch {
		case err != nil:
			return nil, err
		case data != nil:
			if int64(len(data)) != rec.put().GetSize() {
				return nil, fmt.Errorf("%w: payload at journal index %d has %d bytes, the record says %d", ErrCorrupt, j, len(data), rec.put().GetSize())
			}
			return data, nil
		case !marked:
			return nil, errPayloadGone
		}
		recs, err := f.journal().Read(ctx, j, 0)
		if errors.Is(err, journal.ErrCompacted) && attempt < 3 {
			continue // moved into the index and released from the journal meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("raftstore: read payload at journal index %d: %w", j, err)
		}
		if len(recs) == 0 || recs[0].Index != j {
			return nil, fmt.Errorf("%w: journal index %d is past the journal's end", ErrCorrupt, j)
		}
		return payloadFrom(recs[0].Event, j, rec.put())
	}
}

// payloadMover moves the payloads of sealed journal segments into the
// index (see the top of this file). One pass runs at a time.
type payloadMover struct {
	mu sync.Mutex
	// done is the journal index through which every payload has moved,
	// for the journal of pin.
	pin  *journal.Cursor
	done uint64
}

// firstMark returns the lowest journal index whose payload is still in the
// journal, or 0 when none is.
func firstMark(x *index) (uint64, error) {
	var first uint64
	err := x.view(func(tx *kvTx) error {
		c := tx.Bucket(bktPayloadMarks).Cursor()
		defer c.Close()
		if k, _ := c.First(); k != nil {
			first = u64(k)
		}
		return nil
	})
	return first, err
}

// pinLocked (re)registers the cursor that keeps journal segments with
// unmoved payloads from retention, at the lowest such payload. It runs
// when the fsm opens, reopens its journal or restores a snapshot, before
// any apply can write to the journal.
func (f *fsm) pinLocked() error {
	if f.mu.pin != nil {
		f.mu.pin.Close()
		f.mu.pin = nil
	}
	jr := f.mu.jr
	from, err := firstMark(f.mu.idx)
	if err != nil {
		return err
	}
	if from == 0 {
		// The next marks are of events after the index's journal
		// position (the journal may already hold them, when the index
		// lags it after a crash or a restore).
		m, err := f.mu.idx.meta()
		if err != nil {
			return err
		}
		from = m.Journal + 1
	}
	// Marks below the journal's first index are leftovers of a move that
	// completed (their bytes are under "~payloads"); the mover drops them.
	from = max(from, jr.FirstIndex())
	pin, err := jr.Subscribe(from)
	if err != nil {
		return fmt.Errorf("raftstore: pin the journal's unmoved payloads: %w", err)
	}
	f.mu.pin = pin
	return nil
}

// moveBatchBytes bounds the payload bytes one ingested table holds.
const moveBatchBytes = 64 << 20

// movePayloads moves every payload of the journal's sealed segments into
// the index, and lets retention release those segments. It returns how
// many payloads it moved.
func (f *fsm) movePayloads(ctx context.Context) (int, error) {
	f.mover.mu.Lock()
	defer f.mover.mu.Unlock()
	moved := 0
	for {
		n, more, err := f.moveOnce(ctx)
		moved += n
		if err != nil || !more {
			return moved, err
		}
	}
}

// maxMoveMarks bounds the marks one pass lists.
const maxMoveMarks = moveBatchBytes / payloadStripMin

// moveOnce moves one table's worth of payloads; more says whether sealed
// payloads are left.
func (f *fsm) moveOnce(ctx context.Context) (n int, more bool, err error) {
	f.mu.Lock()
	jr, idx, pin := f.mu.jr, f.mu.idx, f.mu.pin
	f.mu.Unlock()
	if f.mover.pin != pin {
		f.mover.pin, f.mover.done = pin, 0
	}
	sealed := jr.SealedThrough()
	if sealed <= f.mover.done {
		return 0, false, nil
	}
	// The marks of sealed segments, in journal order.
	var marks []uint64
	err = idx.view(func(tx *kvTx) error {
		c := tx.Bucket(bktPayloadMarks).Cursor()
		defer c.Close()
		for k, _ := c.First(); k != nil && u64(k) <= sealed && len(marks) < maxMoveMarks; k, _ = c.Next() {
			marks = append(marks, u64(k))
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	through := sealed
	if len(marks) > 0 {
		var moved, leftovers []uint64
		if moved, leftovers, err = f.ingestPayloads(ctx, jr, idx, marks); err != nil {
			return 0, false, fmt.Errorf("raftstore: move payloads into the index: %w", err)
		}
		if err := f.dropMarks(idx, moved, leftovers); err != nil {
			return 0, false, err
		}
		if done := len(moved) + len(leftovers); done < len(marks) || len(marks) == maxMoveMarks {
			through = marks[done-1]
		}
		n = len(moved)
	}
	pin.Ack(through)
	f.mover.done = through
	return n, through < sealed, nil
}

// ingestPayloads writes the payloads at the journal indexes marks (in
// order) into one table, up to moveBatchBytes, and ingests it. moved are
// the indexes it holds; leftovers are marks whose journal segment is gone
// (a move that finished before a crash left them).
func (f *fsm) ingestPayloads(ctx context.Context, jr *journal.Journal, idx *index, marks []uint64) (moved, leftovers []uint64, err error) {
	path := filepath.Join(filepath.Dir(idx.dir), "payloads-ingest.sst")
	w, err := idx.tableWriter(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}()
	r := &journalReader{ctx: ctx, jr: jr}
	prefix := append(bytes.Clone(bktPayloads), 0)
	size := 0
	for _, j := range marks {
		ev, rerr := r.event(j)
		if errors.Is(rerr, journal.ErrCompacted) {
			leftovers = append(leftovers, j)
			continue
		}
		var data []byte
		if rerr == nil {
			data, rerr = payloadFrom(ev, j, nil)
		}
		if rerr == nil {
			rerr = w.Set(append(prefix, payloadKey(j)...), data)
		}
		if rerr != nil {
			return nil, nil, errors.Join(rerr, w.Close())
		}
		moved = append(moved, j)
		if size += len(data); size >= moveBatchBytes {
			break
		}
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("%w: write %s: %w", errIO, path, err)
	}
	if len(moved) > 0 {
		if err := idx.ingest(ctx, path); err != nil {
			return nil, nil, err
		}
	}
	return moved, leftovers, nil
}

// dropMarks deletes the marks of moved payloads. A payload released while
// it moved lost its mark, and its ingested bytes are deleted instead. A
// leftover mark goes only when the bytes it stands for are in the index.
func (f *fsm) dropMarks(idx *index, moved, leftovers []uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mu.idx != idx {
		return errIndexClosed // restored from a snapshot meanwhile
	}
	tx := idx.begin()
	defer func() { _ = tx.Rollback() }()
	marks, payloads := tx.Bucket(bktPayloadMarks), tx.Bucket(bktPayloads)
	var lost []uint64
	for _, j := range leftovers {
		if payloads.Get(payloadKey(j)) == nil {
			lost = append(lost, j)
			continue
		}
		if err := marks.Delete(payloadKey(j)); err != nil {
			return fmt.Errorf("%w: index write: %w", errIO, err)
		}
	}
	for _, j := range moved {
		b := payloads
		if marks.Get(payloadKey(j)) != nil {
			b = marks
		}
		if err := b.Delete(payloadKey(j)); err != nil {
			return fmt.Errorf("%w: index write: %w", errIO, err)
		}
	}
	if err := idx.commit(tx); err != nil {
		return err
	}
	if len(lost) > 0 {
		return fmt.Errorf("%w: the payloads at journal indexes %v are in neither the journal (released) nor the index", ErrCorrupt, lost)
	}
	return nil
}

// tableWriter creates a sorted table at path for ingest.
func (x *index) tableWriter(path string) (*sstable.Writer, error) {
	file, err := pebblevfs.Default.Create(path, pebblevfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIO, err)
	}
	// Written back as it goes, so the sync at the end is short.
	file = pebblevfs.NewSyncingFile(file, pebblevfs.SyncingFileOptions{BytesPerSync: 512 << 10})
	opts := x.pebbleOpts.MakeWriterOptions(len(x.pebbleOpts.Levels)-1, x.db.TableFormat())
	return sstable.NewWriter(objstorageprovider.NewFileWritable(file), opts), nil
}

// ingest adds the table at path to the index (durably).
func (x *index) ingest(ctx context.Context, path string) error {
	x.use.RLock()
	defer x.use.RUnlock()
	if x.use.closed {
		return errIndexClosed
	}
	if err := x.db.Ingest(ctx, []string{path}); err != nil {
		return fmt.Errorf("%w: ingest %s: %w", errIO, path, err)
	}
	return nil
}

// movePayloadsLoop moves payloads into the index whenever the journal
// seals a segment.
func (n *Node) movePayloadsLoop() {
	defer n.wg.Done()
	// The journal is replaced when it is reopened after an I/O error; the
	// old one's Changed may never fire again.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		changed := n.fsm.journal().Changed()
		if _, err := n.fsm.movePayloads(n.ctx); err != nil && n.ctx.Err() == nil {
			if errors.Is(err, ErrUnavailable) {
				n.log.Debug("move payloads into the index", "err", err)
			} else {
				n.log.Error("move payloads into the index", "err", err)
			}
			changed = nil // retry on the tick, not on every append
		}
		select {
		case <-n.stop:
			return
		case <-changed:
		case <-tick.C:
		}
	}
}
