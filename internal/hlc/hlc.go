// Package hlc is a hybrid logical clock: timestamps that follow wall-clock
// time but never go backwards and order causally related events, even
// across nodes whose clocks disagree a little.
//
// The clock is a pure core: wall time is an input (a func), so tests drive
// it with any sequence of readings.
package hlc

import (
	"sync"
	"time"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// Clock issues HLC timestamps. Safe for concurrent use.
type Clock struct {
	wall func() time.Time
	mu   struct {
		sync.Mutex
		last Timestamp
	}
}

// Timestamp is a wall time in nanoseconds plus a logical counter.
type Timestamp struct {
	Wall    int64
	Logical uint32
}

// Less orders timestamps.
func (t Timestamp) Less(u Timestamp) bool {
	if t.Wall != u.Wall {
		return t.Wall < u.Wall
	}
	return t.Logical < u.Logical
}

// Proto converts to the journal's representation.
func (t Timestamp) Proto() *journalpb.Timestamp {
	return &journalpb.Timestamp{WallNanos: t.Wall, Logical: t.Logical}
}

// FromProto converts from the journal's representation.
func FromProto(p *journalpb.Timestamp) Timestamp {
	return Timestamp{Wall: p.GetWallNanos(), Logical: p.GetLogical()}
}

// New returns a clock reading wall; nil means time.Now.
func New(wall func() time.Time) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall}
}

// Now returns a timestamp greater than every one this clock issued or
// observed before.
func (c *Clock) Now() Timestamp {
	w := c.wall().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if w > c.mu.last.Wall {
		c.mu.last = Timestamp{Wall: w}
	} else {
		c.mu.last.Logical++
	}
	return c.mu.last
}

// Observe folds a timestamp seen elsewhere into the clock so that later
// readings come after it.
func (c *Clock) Observe(t Timestamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.last.Less(t) {
		c.mu.last = t
	}
}
