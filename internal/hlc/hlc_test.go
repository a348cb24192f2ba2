package hlc

import (
	"testing"
	"time"
)

func TestMonotonicWhenWallGoesBack(t *testing.T) {
	readings := []int64{100, 100, 90, 200, 150, 150}
	i := 0
	c := New(func() time.Time { r := readings[i]; i++; return time.Unix(0, r) })
	var prev Timestamp
	for range readings {
		ts := c.Now()
		if !prev.Less(ts) {
			t.Fatalf("timestamp %v not after %v", ts, prev)
		}
		prev = ts
	}
	if prev.Wall != 200 || prev.Logical != 2 {
		t.Fatalf("last = %+v, want {200 2}", prev)
	}
}

func TestObserve(t *testing.T) {
	c := New(func() time.Time { return time.Unix(0, 10) })
	c.Observe(Timestamp{Wall: 50, Logical: 3})
	if got := c.Now(); got != (Timestamp{Wall: 50, Logical: 4}) {
		t.Fatalf("Now after Observe = %+v", got)
	}
	c.Observe(Timestamp{Wall: 1})
	if got := c.Now(); got != (Timestamp{Wall: 50, Logical: 5}) {
		t.Fatalf("Observe of an older timestamp moved the clock: %+v", got)
	}
	if ts := FromProto((Timestamp{Wall: 7, Logical: 8}).Proto()); ts != (Timestamp{Wall: 7, Logical: 8}) {
		t.Fatalf("proto round trip = %+v", ts)
	}
}
