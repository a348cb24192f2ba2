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

// SetLanes sets how many hashing workers may run and how long one waits
// for a row to hash, until t ends; then the workers end at once. Tests
// that call it must not run in parallel.
func SetLanes(t testing.TB, count int, idle time.Duration) {
	lanes.wg.Wait() // no worker reads laneCount
	oldCount, oldIdle := laneCount, laneIdle.Load()
	laneCount = func() int { return count }
	laneIdle.Store(int64(idle))
	t.Cleanup(func() {
		laneIdle.Store(0)
		lanes.wg.Wait()
		laneCount = oldCount
		laneIdle.Store(oldIdle)
	})
}

// LanesCaughtUp reports whether stripes are offered to the hashing workers
// and every row filled is hashed.
func LanesCaughtUp() bool {
	lanes.mu.Lock()
	defer lanes.mu.Unlock()
	some := false
	for _, f := range lanes.groups {
		if f.state.Load() != groupDone {
			some = true
			if f.hashed.Load() < f.to.Load() {
				return false
			}
		}
	}
	return some
}

// WaitLanes waits until no hashing worker runs.
func WaitLanes() { lanes.wg.Wait() }
