package journal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// Record is one event and the index the journal gave it.
type Record struct {
	Index uint64
	Event *journalpb.Event
}

// Stats describes the journal at one moment.
type Stats struct {
	FirstIndex uint64 // first retained index; LastIndex+1 when empty
	LastIndex  uint64 // 0 when nothing was ever appended
	Segments   int    // segment files
	Bytes      int64  // bytes of those files holding valid data
	// TornBytes counts the bytes of torn tails Open truncated (0 after a
	// clean shutdown).
	TornBytes int64
}

// Journal is a site's ordered, durable, compressed event log. It is safe for
// concurrent use; appends are serialized, reads run in parallel with them.
//
// Lock order: w, then rm, then mu.
type Journal struct {
	cfg       Config
	fs        vfs.FS
	dir       string
	log       *slog.Logger
	tornBytes int64 // set by Open

	// w serializes writers (Append, Reset, Close) and owns the write side.
	w struct {
		sync.Mutex
		closed bool
		// failed is set after an fsync failed (or a repair after a failed
		// write did): the journal refuses writes until reopened.
		failed error
		f      vfs.File // write handle of seg; nil before the first segment
		seg    *segment // active segment: the last of mu.segs
		off    int64    // end of the last record in f
		dirty  bool     // f holds records written by Write and not yet synced
		next   uint64   // index the next Append assigns
		gen    uint64   // generation of the segments
		raw    []byte   // scratch: the batch's length-prefixed events
		frame  []byte   // scratch: the batch's frame
	}

	// rm serializes the removal of segment files (Compact, Reset).
	rm struct {
		sync.Mutex
		// pending are retired segments whose files are not yet removed, in
		// index order; later files are never removed before earlier ones,
		// so the files on disk always hold a gap-free range.
		pending []*segment
	}

	mu struct {
		sync.Mutex
		closed  bool
		segs    []*segment // ascending by index; the last is the active one
		last    uint64     // LastIndex
		changed chan struct{}
		cursors map[*Cursor]struct{}
	}
}

// Open opens the journal in cfg.Dir, creating the directory when needed. It
// checks every record, truncates a torn tail of the last segment and
// returns ErrCorrupt for damage anywhere else.
func Open(cfg Config) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	j := &Journal{cfg: cfg, fs: cfg.FS, dir: cfg.Dir, log: cfg.Logger}
	j.mu.changed = make(chan struct{})
	j.mu.cursors = map[*Cursor]struct{}{}
	if err := j.fs.MkdirAll(j.dir); err != nil {
		return nil, fmt.Errorf("%w: create journal dir %s: %w", ErrIO, j.dir, err)
	}
	segs, err := j.load()
	if err != nil {
		return nil, err
	}
	j.mu.segs = segs
	j.w.next = 1
	if n := len(segs); n > 0 {
		active := segs[n-1]
		f, err := j.fs.OpenReadWrite(active.path)
		if err == nil {
			_, err = f.Seek(active.size, io.SeekStart)
			if err != nil {
				err = errors.Join(err, f.Close())
			}
		}
		if err != nil {
			closeAll(segs)
			return nil, fmt.Errorf("%w: open %s for writing: %w", ErrIO, active.path, err)
		}
		j.w.f, j.w.seg, j.w.off = f, active, active.size
		j.w.next, j.w.gen = active.last+1, active.gen
		j.mu.last = active.last
	}
	return j, nil
}

func closeAll(segs []*segment) {
	for _, s := range segs {
		_ = s.rf.Close() // read-only handles of a journal that failed to open
	}
}

// load finds, checks and repairs the segment files.
func (j *Journal) load() ([]*segment, error) {
	names, err := j.fs.List(j.dir)
	if err != nil {
		return nil, fmt.Errorf("%w: list %s: %w", ErrIO, j.dir, err)
	}
	dirty := false // directory entries changed: sync the directory
	var segs []*segment
	fail := func(err error) ([]*segment, error) {
		closeAll(segs)
		return nil, err
	}
	for _, name := range names {
		path := filepath.Join(j.dir, name)
		if base, ok := strings.CutSuffix(name, tmpSuffix); ok {
			if _, ok := parseSegName(base); ok {
				// A segment that was never renamed into place: never used.
				if err := j.fs.Remove(path); err != nil {
					return fail(fmt.Errorf("%w: remove unfinished segment %s: %w", ErrIO, path, err))
				}
				j.log.Info("journal: removed unfinished segment", "file", path)
				dirty = true
			}
			continue
		}
		first, ok := parseSegName(name)
		if !ok {
			continue
		}
		s, err := j.openSegment(name, first)
		if err != nil {
			return fail(err)
		}
		segs = append(segs, s)
	}
	sort.Slice(segs, func(a, b int) bool { return segs[a].first < segs[b].first })

	// Segments of an older generation are what an interrupted Reset left.
	var gen uint64
	for _, s := range segs {
		gen = max(gen, s.gen)
	}
	var kept, stale []*segment
	for _, s := range segs {
		if s.gen == gen {
			kept = append(kept, s)
		} else {
			stale = append(stale, s)
		}
	}
	for i, s := range stale {
		if err := errors.Join(s.rf.Close(), j.fs.Remove(s.path)); err != nil {
			closeAll(stale[i+1:])
			segs = kept
			return fail(fmt.Errorf("%w: remove %s left by an interrupted reset: %w", ErrIO, s.path, err))
		}
		j.log.Info("journal: removed segment left by an interrupted reset", "file", s.path, "generation", s.gen)
		dirty = true
	}
	segs = kept
	if dirty {
		if err := j.fs.SyncDir(j.dir); err != nil {
			return fail(fmt.Errorf("%w: sync dir %s: %w", ErrIO, j.dir, err))
		}
	}

	for i, s := range segs {
		st, err := s.rf.Stat()
		if err != nil {
			return fail(fmt.Errorf("%w: stat %s: %w", ErrIO, s.path, err))
		}
		if i > 0 && s.first != segs[i-1].last+1 {
			return fail(fmt.Errorf("%w: %s offset 0: segment starts at index %d but %s ends at %d",
				ErrCorrupt, s.path, s.first, segs[i-1].name, segs[i-1].last))
		}
		res := scanSegment(s, st.Size())
		if res.err == nil {
			continue
		}
		if errors.Is(res.err, ErrIO) {
			return fail(fmt.Errorf("%s: %w", s.path, res.err))
		}
		tail := i == len(segs)-1 && !errors.Is(res.err, errGap)
		if tail {
			r := &frameReader{f: s.rf, salt: s.salt, end: st.Size()}
			at, found, err := r.validFrameAfter(res.badOff, s.last+1)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", s.path, err))
			}
			if found {
				return fail(fmt.Errorf("%w: %s offset %d (index %d): %w; a valid record follows at offset %d",
					ErrCorrupt, s.path, res.badOff, s.last+1, res.err, at))
			}
			if err := j.truncateTail(s, res.validEnd, st.Size(), res.err); err != nil {
				return fail(err)
			}
			continue
		}
		return fail(fmt.Errorf("%w: %s offset %d (index %d): %w", ErrCorrupt, s.path, res.badOff, s.last+1, res.err))
	}
	return segs, nil
}

// openSegment opens a segment file and checks its header.
func (j *Journal) openSegment(name string, first uint64) (*segment, error) {
	path := filepath.Join(j.dir, name)
	f, err := j.fs.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrIO, path, err)
	}
	var hb [segHeaderSize]byte
	n, err := f.ReadAt(hb[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, errors.Join(fmt.Errorf("%w: read %s offset 0: %w", ErrIO, path, err), f.Close())
	}
	h, salt, err := decodeSegHeader(hb[:n])
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w: %s offset 0: segment header: %w", ErrCorrupt, path, err), f.Close())
	}
	if h.First != first {
		return nil, errors.Join(fmt.Errorf("%w: %s offset 0: header says first index %d, name says %d",
			ErrCorrupt, path, h.First, first), f.Close())
	}
	return newSegment(j.dir, name, h, salt, f), nil
}

// truncateTail cuts a torn tail off the last segment.
func (j *Journal) truncateTail(s *segment, validEnd, size int64, why error) error {
	f, err := j.fs.OpenReadWrite(s.path)
	if err != nil {
		return fmt.Errorf("%w: open %s to truncate a torn tail: %w", ErrIO, s.path, err)
	}
	if err := errors.Join(f.Truncate(validEnd), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("%w: truncate torn tail of %s at offset %d: %w", ErrIO, s.path, validEnd, err)
	}
	j.log.Warn("journal: truncated torn tail", "file", s.path, "offset", validEnd,
		"bytes", size-validEnd, "next_index", s.last+1, "cause", why.Error())
	j.tornBytes += size - validEnd
	return nil
}

// createSegment makes a new, durable, empty segment: it writes the header to
// a temporary name, syncs it, renames it into place and syncs the
// directory. It returns the write handle positioned after the header. An
// error after the rename leaves the journal failed: the directory may or
// may not hold the new name, which only a reopen sorts out.
// REQUIRES: j.w held.
func (j *Journal) createSegmentWLocked(first, gen uint64) (*segment, vfs.File, error) {
	name := segName(first)
	path := filepath.Join(j.dir, name)
	tmp := path + tmpSuffix
	hb := appendSegHeader(nil, segHeader{First: first, Generation: gen})
	f, err := j.fs.Create(tmp)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: create %s: %w", ErrIO, tmp, err)
	}
	if _, err = f.Write(hb); err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = j.fs.Rename(tmp, path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: create segment %s: %w", ErrIO, path, errors.Join(err, j.fs.Remove(tmp)))
	}
	fail := func(err error) (*segment, vfs.File, error) {
		err = fmt.Errorf("%w: create segment %s: %w", ErrIO, path, err)
		j.w.failed = err
		return nil, nil, err
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fail(fmt.Errorf("sync dir: %w", err))
	}
	// Reopen under the final name: the handle then names the file it
	// writes (in errors, and for the file system).
	f, err = j.fs.OpenReadWrite(path)
	if err != nil {
		return fail(err)
	}
	if _, err := f.Seek(segHeaderSize, io.SeekStart); err != nil {
		return fail(errors.Join(err, f.Close()))
	}
	rf, err := j.fs.Open(path)
	if err != nil {
		return fail(errors.Join(err, f.Close()))
	}
	_, salt, err := decodeSegHeader(hb)
	if err != nil {
		return nil, nil, invariantf("fresh segment header of %s does not decode: %v", path, err)
	}
	return newSegment(j.dir, name, segHeader{First: first, Generation: gen}, salt, rf), f, nil
}

// writableWLocked says why the journal cannot take a write, if it cannot.
func (j *Journal) writableWLocked() error {
	if j.w.closed {
		return ErrClosed
	}
	if j.w.failed != nil {
		return fmt.Errorf("journal refuses writes after an earlier failure; reopen it: %w", j.w.failed)
	}
	return nil
}

// Append writes evs as one batch with consecutive indexes LastIndex()+1...
// and returns the index of the last one. The batch is durable (fsynced)
// when Append returns nil, and so is every batch Write wrote before it; on
// error none of the batch was acknowledged and nothing appended earlier is
// affected. Append with no events returns LastIndex().
func (j *Journal) Append(evs ...*journalpb.Event) (last uint64, err error) {
	return j.append(evs, true)
}

// Write is Append without the wait for durability: the batch is readable
// (Read, cursors) when Write returns nil, and durable after the next Sync,
// Append or Close, or when the segment fills and the journal moves to the
// next one. A crash before then may lose it, and any batch written after
// it, never anything before it: Open truncates the tail as for a torn
// Append. Write is for a caller that can rebuild what a crash loses (the
// state machine re-applies its log) and syncs before it relies on it.
func (j *Journal) Write(evs ...*journalpb.Event) (last uint64, err error) {
	return j.append(evs, false)
}

// Sync makes every batch Write wrote durable. A failed Sync leaves those
// batches in an unknown state (the kernel may have dropped the pages it
// could not write), so the journal then refuses every later write and
// Sync with ErrIO until it is reopened, and the caller must treat what it
// wrote since its last good Sync as lost.
func (j *Journal) Sync() error {
	j.w.Lock()
	defer j.w.Unlock()
	if err := j.writableWLocked(); err != nil {
		return err
	}
	return j.syncWLocked()
}

// failWLocked puts the journal in the failed state for cause and returns
// the error to report: ErrWritesLost when batches Write left unsynced may
// be gone with the failure, else ErrIO.
func (j *Journal) failWLocked(cause error) error {
	class := ErrIO
	if j.w.dirty {
		class = ErrWritesLost
	}
	j.w.failed = fmt.Errorf("%w: %w", class, cause)
	return j.w.failed
}

func (j *Journal) syncWLocked() error {
	if !j.w.dirty {
		return nil
	}
	if err := j.w.f.Sync(); err != nil {
		return j.failWLocked(fmt.Errorf("sync %s up to offset %d: %w", j.w.seg.path, j.w.off, err))
	}
	j.w.dirty = false
	return nil
}

func (j *Journal) append(evs []*journalpb.Event, durable bool) (last uint64, err error) {
	j.w.Lock()
	last, compact, err := j.appendWLocked(evs, durable)
	j.w.Unlock()
	if compact {
		j.autoCompact()
	}
	return last, err
}

func (j *Journal) appendWLocked(evs []*journalpb.Event, durable bool) (last uint64, compact bool, err error) {
	if err := j.writableWLocked(); err != nil {
		return 0, false, err
	}
	first := j.w.next
	if len(evs) == 0 {
		return first - 1, false, nil
	}
	if uint64(len(evs)) > math.MaxUint32 || first > math.MaxUint64-uint64(len(evs)) {
		return 0, false, fmt.Errorf("%w: batch of %d events at index %d", ErrInvalid, len(evs), first)
	}
	raw := j.w.raw[:0]
	maxWall := int64(math.MinInt64)
	for i, ev := range evs {
		if ev == nil {
			return 0, false, fmt.Errorf("%w: nil event at index %d", ErrInvalid, first+uint64(i))
		}
		if raw, err = appendRawEvent(raw, ev); err != nil {
			return 0, false, fmt.Errorf("%w: encode event at index %d: %w", ErrInvalid, first+uint64(i), err)
		}
		if len(raw) > maxRawBytes {
			return 0, false, fmt.Errorf("%w: batch at index %d exceeds %d bytes", ErrInvalid, first, maxRawBytes)
		}
		maxWall = max(maxWall, ev.GetHlc().GetWallNanos())
	}
	count := uint32(len(evs))
	frame := appendUnsealedFrame(j.w.frame[:0], first, count, maxWall, raw)
	j.w.raw, j.w.frame = raw, frame

	if j.w.seg == nil || (j.w.off > segHeaderSize && j.w.off+int64(len(frame)) > j.cfg.SegmentBytes) {
		if err := j.rollWLocked(first); err != nil {
			return 0, false, err
		}
	}
	seg, off := j.w.seg, j.w.off
	sealFrame(frame, seg.salt)
	if _, err := j.w.f.Write(frame); err != nil {
		return 0, false, j.undoWriteWLocked(first, off, err)
	}
	if !durable {
		j.w.dirty = true
	} else if err := j.w.f.Sync(); err != nil {
		err = j.failWLocked(fmt.Errorf("append at index %d: sync %s after writing offset %d: %w", first, seg.path, off, err))
		// Best effort: the bytes may or may not be on disk; either way
		// Open finds a gap-free log.
		if terr := j.w.f.Truncate(off); terr != nil {
			j.log.Warn("journal: truncate after failed sync", "file", seg.path, "offset", off, "err", terr)
		}
		return 0, false, err
	} else {
		j.w.dirty = false
	}
	j.w.off = off + int64(len(frame))
	j.w.next = first + uint64(count)
	last = first + uint64(count) - 1

	j.mu.Lock()
	defer j.mu.Unlock()
	if seg.last+1 != first || seg.size != off {
		// Keep going: the record is durable and correct on disk.
		_ = invariantf("append at %d to %s offset %d, but the segment ends at index %d offset %d",
			first, seg.path, off, seg.last, seg.size)
	}
	seg.noteRecordLocked(off, recordHeader{First: first, Count: count, MaxWall: maxWall}, len(frame))
	j.mu.last = last
	j.broadcastLocked()
	return last, j.compactableLocked(), nil
}

// undoWriteWLocked rolls the active segment back to off after a failed
// write, so the next Append does not write after a half record.
func (j *Journal) undoWriteWLocked(first uint64, off int64, cause error) error {
	err := fmt.Errorf("%w: append at index %d: write %s at offset %d: %w", ErrIO, first, j.w.seg.path, off, cause)
	rerr := j.w.f.Truncate(off)
	if rerr == nil {
		// The cut must be durable before later bytes are, or a crash could
		// resurrect a half record in a segment that is no longer the last.
		rerr = j.w.f.Sync()
	}
	if rerr == nil {
		_, rerr = j.w.f.Seek(off, io.SeekStart)
	}
	if rerr != nil {
		_ = j.failWLocked(fmt.Errorf("roll back %s to offset %d: %w", j.w.seg.path, off, rerr))
		return fmt.Errorf("%w; roll back failed, the journal refuses writes until reopened: %w", err, rerr)
	}
	return err
}

// rollWLocked starts a new segment whose first index is first.
func (j *Journal) rollWLocked(first uint64) error {
	// A full segment is durable before the next one exists: a crash may
	// tear only the last segment.
	if err := j.syncWLocked(); err != nil {
		return err
	}
	seg, f, err := j.createSegmentWLocked(first, j.w.gen)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.mu.segs = append(j.mu.segs, seg)
	j.mu.Unlock()
	if j.w.f != nil {
		// Every byte of the old segment is synced.
		if err := j.w.f.Close(); err != nil {
			j.log.Warn("journal: close full segment", "file", j.w.seg.path, "err", err)
		}
	}
	j.w.f, j.w.seg, j.w.off = f, seg, segHeaderSize
	return nil
}

// broadcastLocked wakes everyone waiting on Changed.
func (j *Journal) broadcastLocked() {
	close(j.mu.changed)
	j.mu.changed = make(chan struct{})
}

// Changed returns a channel closed at the next append (or Reset, or
// Close): "head advanced". Take it before checking for new records, then
// wait on it.
func (j *Journal) Changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mu.changed
}

func (j *Journal) firstLocked() uint64 {
	if len(j.mu.segs) == 0 {
		return j.mu.last + 1
	}
	return j.mu.segs[0].first
}

// FirstIndex returns the first retained index, LastIndex()+1 when the
// journal holds nothing.
func (j *Journal) FirstIndex() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.firstLocked()
}

// LastIndex returns the index of the last appended event, 0 when nothing was
// ever appended (or Reset(next) was called and nothing since: next-1).
func (j *Journal) LastIndex() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mu.last
}

// SealedThrough returns the last index of the sealed segments: every
// segment but the one being written, which holds the indexes after it.
// Sealed segments are never written again; retention deletes them whole.
func (j *Journal) SealedThrough() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.mu.segs) == 0 {
		return j.mu.last
	}
	return j.mu.segs[len(j.mu.segs)-1].first - 1
}

// Stats describes the journal.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Stats{FirstIndex: j.firstLocked(), LastIndex: j.mu.last, Segments: len(j.mu.segs), TornBytes: j.tornBytes}
	for _, s := range j.mu.segs {
		st.Bytes += s.size
	}
	return st
}

// Reset drops every segment; the next Append gets index next. It is used
// when a node is restored from a snapshot that holds everything before
// next. Reset is durable when it returns nil: a crash in the middle leaves
// either the old journal or the reset one, never a mix. Readers below next
// get ErrCompacted, and so do cursors anywhere but exactly at next (a cursor
// past next refers to the old history).
func (j *Journal) Reset(next uint64) error {
	if next == 0 {
		return fmt.Errorf("%w: reset to index 0", ErrInvalid)
	}
	j.w.Lock()
	defer j.w.Unlock()
	if err := j.writableWLocked(); err != nil {
		return err
	}
	j.rm.Lock()
	defer j.rm.Unlock()
	gen := j.w.gen + 1
	seg, f, err := j.createSegmentWLocked(next, gen)
	if err != nil {
		return fmt.Errorf("reset to %d: %w", next, err)
	}
	// From here the reset is durable: Open drops every segment of an older
	// generation.
	j.mu.Lock()
	old := append(j.rm.pending, j.mu.segs...)
	j.rm.pending = nil
	for _, s := range j.mu.segs {
		if err := j.retireLocked(s); err != nil {
			j.log.Warn("journal: close reset segment", "file", s.path, "err", err)
		}
	}
	j.mu.segs = []*segment{seg}
	j.mu.last = next - 1
	for c := range j.mu.cursors {
		// Indexes from next on will hold new events: a cursor past next
		// refers to the old history and must resync, and no cursor's ack
		// may release the new one.
		c.acked = min(c.acked, next-1)
		if c.next.Load() > next {
			c.stale.Store(true)
		}
	}
	j.broadcastLocked()
	j.mu.Unlock()

	if j.w.f != nil {
		if err := j.w.f.Close(); err != nil {
			j.log.Warn("journal: close reset segment", "file", j.w.seg.path, "err", err)
		}
	}
	j.w.f, j.w.seg, j.w.off, j.w.next, j.w.gen = f, seg, segHeaderSize, next, gen
	j.w.dirty = false // what Write left unsynced was reset away

	var errs []error
	for _, s := range old {
		if s.name == seg.name {
			continue // replaced by the rename
		}
		if err := j.fs.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(old) > 0 {
		if err := j.fs.SyncDir(j.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Not an error of Reset: the next Open removes them by generation.
		j.log.Warn("journal: remove segments after reset", "dir", j.dir, "err", err)
	}
	return nil
}

// retireLocked takes s out of service; its read handle closes when the last
// reader releases it.
func (j *Journal) retireLocked(s *segment) error {
	s.dead = true
	if s.refs == 0 {
		return s.rf.Close()
	}
	return nil
}

// releaseLocked ends a reader's use of s.
func (j *Journal) releaseLocked(s *segment) {
	s.refs--
	if s.dead && s.refs == 0 {
		if err := s.rf.Close(); err != nil {
			j.log.Warn("journal: close retired segment", "file", s.path, "err", err)
		}
	}
}

// deletableLocked says whether retention releases s.
func (j *Journal) deletableLocked(s *segment, now time.Time) bool {
	for c := range j.mu.cursors {
		if c.acked < s.last {
			return false
		}
	}
	if w := j.cfg.RetentionWindow; w > 0 && s.maxWall >= now.Add(-w).UnixNano() {
		return false
	}
	return true
}

// compactableLocked is the cheap check after appends and acks: would
// Compact delete anything?
func (j *Journal) compactableLocked() bool {
	return !j.mu.closed && len(j.mu.segs) > 1 && j.deletableLocked(j.mu.segs[0], j.cfg.Now())
}

// autoCompact applies retention on behalf of an append, an ack or a
// cursor's close, which have nobody to return its error to.
func (j *Journal) autoCompact() {
	if err := j.Compact(); err != nil && !errors.Is(err, ErrClosed) {
		j.log.Warn("journal: retention", "err", err)
	}
}

// Compact applies retention now: it deletes the oldest segments, whole,
// while every registered cursor has acked past them and (with a
// RetentionWindow) all their events are older than the window. It never
// deletes the segment being written. Appends and acks apply it too.
func (j *Journal) Compact() error {
	j.rm.Lock()
	defer j.rm.Unlock()
	j.mu.Lock()
	if j.mu.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	now := j.cfg.Now()
	for len(j.mu.segs) > 1 && j.deletableLocked(j.mu.segs[0], now) {
		s := j.mu.segs[0]
		j.mu.segs = j.mu.segs[1:]
		if err := j.retireLocked(s); err != nil {
			j.log.Warn("journal: close compacted segment", "file", s.path, "err", err)
		}
		j.rm.pending = append(j.rm.pending, s)
	}
	j.mu.Unlock()
	// One at a time, oldest first, each made durable before the next: a
	// crash never leaves a gap between the segments on disk.
	for len(j.rm.pending) > 0 {
		s := j.rm.pending[0]
		if err := j.fs.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: compact: remove %s: %w", ErrIO, s.path, err)
		}
		if err := j.fs.SyncDir(j.dir); err != nil {
			return fmt.Errorf("%w: compact: sync dir after removing %s: %w", ErrIO, s.path, err)
		}
		j.rm.pending = j.rm.pending[1:]
		j.log.Debug("journal: removed segment", "file", s.path, "last_index", s.last)
	}
	return nil
}

// Close syncs what Write left unsynced and closes the journal. Blocked
// cursors return ErrClosed.
func (j *Journal) Close() error {
	j.w.Lock()
	defer j.w.Unlock()
	if j.w.closed {
		return nil
	}
	var errs []error
	if j.w.failed == nil && j.w.f != nil {
		errs = append(errs, j.syncWLocked())
	}
	j.w.closed = true
	j.rm.Lock()
	defer j.rm.Unlock()
	j.mu.Lock()
	j.mu.closed = true
	close(j.mu.changed) // never replaced: every later wait returns at once
	for _, s := range j.mu.segs {
		errs = append(errs, j.retireLocked(s))
	}
	j.mu.segs = nil
	j.mu.Unlock()
	if j.w.f != nil {
		errs = append(errs, j.w.f.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: close %s: %w", ErrIO, j.dir, err)
	}
	return nil
}
