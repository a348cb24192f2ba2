package journal

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Cursor is a registered reader: an index, never a buffer. Retention keeps
// every segment holding an index the cursor has not acked. Next must not be
// called from two goroutines at once; Ack, Index and Close may be called
// from any goroutine.
type Cursor struct {
	j     *Journal
	next  atomic.Uint64
	done  chan struct{} // closed by Close
	stale atomic.Bool   // a Reset invalidated the position
	hint  readHint      // owned by the goroutine in Next

	// Guarded by j.mu.
	acked  uint64
	closed bool
}

// Subscribe registers a cursor that returns records from index from on.
// from below FirstIndex() returns ErrCompacted; from may lie past
// LastIndex(), and Next then waits for it.
func (j *Journal) Subscribe(from uint64) (*Cursor, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mu.closed {
		return nil, ErrClosed
	}
	if first := j.firstLocked(); from < first {
		return nil, fmt.Errorf("%w: subscribe at index %d, below the first retained index %d", ErrCompacted, from, first)
	}
	c := &Cursor{j: j, done: make(chan struct{}), acked: from - 1}
	c.next.Store(from)
	j.mu.cursors[c] = struct{}{}
	return c, nil
}

// Next blocks until at least one record at or past the cursor exists, or
// ctx is done, then returns records as Journal.Read does and advances the
// cursor past them. It returns ErrCompacted when the cursor's position was
// released or invalidated by Reset (resync, then subscribe again),
// ErrClosed when the cursor or the journal is closed, and ctx's error when
// ctx is done.
func (c *Cursor) Next(ctx context.Context, maxBytes int) ([]Record, error) {
	for {
		changed := c.j.Changed()
		select {
		case <-c.done:
			return nil, fmt.Errorf("%w: cursor at index %d", ErrClosed, c.next.Load())
		default:
		}
		from := c.next.Load()
		if c.stale.Load() {
			return nil, fmt.Errorf("%w: cursor at index %d predates a reset to index %d", ErrCompacted, from, c.j.FirstIndex())
		}
		recs, err := c.j.read(ctx, from, maxBytes, &c.hint)
		if err != nil {
			return nil, err
		}
		if n := len(recs); n > 0 {
			c.next.Store(recs[n-1].Index + 1)
			return recs, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("journal: cursor at index %d: %w", from, ctx.Err())
		case <-c.done:
		case <-changed:
		}
	}
}

// Ack tells retention that every index up to idx may be released. Acks
// never move backwards. It may apply retention (and remove files) before it
// returns.
func (c *Cursor) Ack(idx uint64) {
	j := c.j
	j.mu.Lock()
	compact := false
	if !c.closed && idx > c.acked {
		c.acked = idx
		compact = j.compactableLocked()
	}
	j.mu.Unlock()
	if compact {
		j.autoCompact()
	}
}

// Index returns the next index Next will return.
func (c *Cursor) Index() uint64 { return c.next.Load() }

// Close unregisters the cursor; it no longer holds back retention, and a
// blocked Next returns ErrClosed.
func (c *Cursor) Close() {
	j := c.j
	j.mu.Lock()
	compact := false
	if !c.closed {
		c.closed = true
		close(c.done)
		delete(j.mu.cursors, c)
		compact = j.compactableLocked()
	}
	j.mu.Unlock()
	if compact {
		j.autoCompact()
	}
}
