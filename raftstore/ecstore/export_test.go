package ecstore

import (
	"testing"
	"time"
)

// Seed is testSeed for the external tests.
func Seed(t testing.TB) int64 { return testSeed(t) }

// ShardHeaderSize is exported for the external tests.
const ShardHeaderSize = shardHeaderSize

// SetHashWays makes a write hash its data shards n at a time, as on a
// machine whose HighwayHash kernel advances n streams, until t ends. Tests
// that call it must not run in parallel.
func SetHashWays(t testing.TB, n int) {
	old := hashWays
	hashWays = func() int { return n }
	t.Cleanup(func() { hashWays = old })
}

// SetLanes sets how many hashing workers may run, how long one waits for
// a row and how long for a group, until t ends. Tests that call it must
// not run in parallel.
func SetLanes(t testing.TB, count int, rowWait, idle time.Duration) {
	lanes.wg.Wait() // no worker reads the settings
	oldCount, oldWait, oldIdle := laneCount, laneRowWait, laneIdle
	laneCount = func() int { return count }
	laneRowWait, laneIdle = rowWait, idle
	t.Cleanup(func() {
		lanes.wg.Wait()
		laneCount, laneRowWait, laneIdle = oldCount, oldWait, oldIdle
	})
}

// LanesBusy returns how many stripes' groups hashing workers follow now.
func LanesBusy() int {
	lanes.mu.Lock()
	defer lanes.mu.Unlock()
	return lanes.busy
}

// WaitLanes waits until no hashing worker runs.
func WaitLanes() { lanes.wg.Wait() }
