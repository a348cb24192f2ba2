package journal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// readHint remembers where a cursor's previous read stopped, so a tailing
// cursor does not decode from the last sparse entry every time.
type readHint struct {
	seg *segment
	off int64  // a record starts here...
	idx uint64 // ...with this first index
}

// scratchPool holds decompression buffers. Events are unmarshalled into
// new allocations (proto.Unmarshal copies bytes), so a buffer is free again
// as soon as a record is decoded.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledScratch = 4 << 20

// Read returns records from index from on: at least one when from <=
// LastIndex(), then more while their encoded events fit in maxBytes
// (maxBytes <= 0 returns exactly one). It does not block: from past
// LastIndex() returns no records and no error. from below FirstIndex()
// returns ErrCompacted. The returned events are new allocations the
// caller owns. A done ctx stops it between records with ctx's error.
func (j *Journal) Read(ctx context.Context, from uint64, maxBytes int) ([]Record, error) {
	return j.read(ctx, from, maxBytes, nil)
}

func (j *Journal) read(ctx context.Context, from uint64, maxBytes int, hint *readHint) ([]Record, error) {
	var out []Record
	budget := maxBytes
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("journal: read from index %d: %w", from, err)
		}
		seg, start, end, err := j.acquire(from, hint)
		if err != nil {
			return nil, err
		}
		if seg == nil {
			return out, nil
		}
		var full bool
		out, from, full, err = j.readSegment(ctx, seg, start, end, from, &budget, out, hint)
		j.mu.Lock()
		j.releaseLocked(seg)
		j.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if full {
			return out, nil
		}
	}
}

// acquire finds the segment holding from and pins its read handle. It
// returns a nil segment when from is past the last index.
func (j *Journal) acquire(from uint64, hint *readHint) (*segment, sparseEntry, int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mu.closed {
		return nil, sparseEntry{}, 0, ErrClosed
	}
	if first := j.firstLocked(); from < first {
		return nil, sparseEntry{}, 0, fmt.Errorf("%w: index %d is below the first retained index %d", ErrCompacted, from, first)
	}
	if from > j.mu.last {
		return nil, sparseEntry{}, 0, nil
	}
	segs := j.mu.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i].first > from }) - 1
	if i < 0 || from > segs[i].last {
		return nil, sparseEntry{}, 0, invariantf("index %d within [%d, %d] but in no segment", from, j.firstLocked(), j.mu.last)
	}
	s := segs[i]
	start := startFor(s.sparse, from)
	if len(s.sparse) == 0 || start.Index > from {
		return nil, sparseEntry{}, 0, invariantf("segment %s holds %d..%d but its sparse index has no entry for %d", s.path, s.first, s.last, from)
	}
	if hint != nil && hint.seg == s && hint.idx <= from && hint.idx >= start.Index && hint.off <= s.size {
		start = sparseEntry{Index: hint.idx, Off: hint.off}
	}
	s.refs++
	return s, start, s.size, nil
}

// readSegment decodes records of seg from start up to end, appending those
// at or after from to out while the budget lasts. It returns the next index
// to read and whether the budget is exhausted.
func (j *Journal) readSegment(ctx context.Context, seg *segment, start sparseEntry, end int64, from uint64,
	budget *int, out []Record, hint *readHint) ([]Record, uint64, bool, error) {
	r := frameReader{f: seg.rf, salt: seg.salt, end: end}
	sp := scratchPool.Get().(*[]byte)
	defer func() {
		if cap(*sp) <= maxPooledScratch {
			scratchPool.Put(sp)
		}
	}()
	off, want := start.Off, start.Index
	for off < end {
		if err := ctx.Err(); err != nil {
			return nil, from, false, fmt.Errorf("journal: read from index %d: %w", from, err)
		}
		h, payload, n, err := r.frameAt(off)
		if err != nil {
			return nil, from, false, readErr(seg, off, want, err)
		}
		if h.First != want {
			return nil, from, false, readErr(seg, off, want,
				fmt.Errorf("%w: record holds indexes %d..%d", errGap, h.First, h.Last()))
		}
		if h.Last() < from {
			off, want = off+int64(n), h.Last()+1
			continue
		}
		raw, err := rawPayload(h, payload, *sp)
		if h.Flags&flagZstd != 0 && cap(raw) > cap(*sp) {
			*sp = raw[:0]
		}
		if err != nil {
			return nil, from, false, readErr(seg, off, want, err)
		}
		it := eventIter{raw: raw, left: h.Count}
		for idx := h.First; idx <= h.Last(); idx++ {
			b, err := it.next()
			if err != nil {
				return nil, from, false, readErr(seg, off, idx, err)
			}
			if idx < from {
				continue
			}
			if len(out) > 0 && (*budget <= 0 || len(b) > *budget) {
				if hint != nil {
					*hint = readHint{seg: seg, off: off, idx: h.First}
				}
				return out, from, true, nil
			}
			ev := new(journalpb.Event)
			if err := proto.Unmarshal(b, ev); err != nil {
				return nil, from, false, readErr(seg, off, idx, fmt.Errorf("%w: %w", errBadFrame, err))
			}
			out = append(out, Record{Index: idx, Event: ev})
			*budget -= len(b)
			from = idx + 1
		}
		off, want = off+int64(n), h.Last()+1
		if hint != nil {
			*hint = readHint{seg: seg, off: off, idx: want}
		}
		if *budget <= 0 {
			return out, from, true, nil
		}
	}
	return out, from, false, nil
}

func readErr(seg *segment, off int64, idx uint64, err error) error {
	if errors.Is(err, ErrIO) {
		return fmt.Errorf("%s (index %d): %w", seg.path, idx, err)
	}
	return fmt.Errorf("%w: %s offset %d (index %d): %w", ErrCorrupt, seg.path, off, idx, err)
}
