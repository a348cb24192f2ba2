package ecstore

import "testing"

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
