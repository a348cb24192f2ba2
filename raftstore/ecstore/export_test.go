package ecstore

import "testing"

// Seed is testSeed for the external tests.
func Seed(t testing.TB) int64 { return testSeed(t) }

// ShardHeaderSize is exported for the external tests.
const ShardHeaderSize = shardHeaderSize
