package ecstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/minio/highwayhash"
)

// MaxShards is the largest k+m: the order of GF(2^8).
const MaxShards = 256

// Profile is an erasure-coding profile: K data shards and M parity shards
// per stripe. Any K of the K+M shards rebuild the stripe.
type Profile struct {
	// K is the number of data shards. Default: 4.
	K int
	// M is the number of parity shards. Default: 2.
	M int
}

// DefaultProfile returns 4+2.
func DefaultProfile() Profile { return Profile{K: 4, M: 2} }

// Validate reports whether 1 ≤ K, 0 ≤ M and K+M ≤ MaxShards.
func (p Profile) Validate() error {
	if p.K < 1 || p.M < 0 || p.K+p.M > MaxShards {
		return fmt.Errorf("%w: profile %d+%d (need 1 ≤ k, 0 ≤ m, k+m ≤ %d)", ErrInvalid, p.K, p.M, MaxShards)
	}
	return nil
}

// N returns K+M.
func (p Profile) N() int { return p.K + p.M }

func (p Profile) String() string { return fmt.Sprintf("%d+%d", p.K, p.M) }

// ShardID is the content address of a shard under its pool's IDScheme.
type ShardID [32]byte

// ShardIDOf returns the SHA-256 content address of data (the zero
// IDScheme).
func ShardIDOf(data []byte) ShardID { return sha256.Sum256(data) }

// IDKeySize is the length of an IDScheme key.
const IDKeySize = 32

// IDScheme computes shard content addresses for one pool. The zero value
// uses SHA-256. A scheme with a key uses HighwayHash-256 keyed with the
// pool's secret: about seven times faster than SHA-256 here, and, as a
// keyed PRF whose key never leaves the site's metadata, not something a
// client can compute to plant colliding content. Disks.Put refuses to
// replace an intact shard with different bytes under the same id, so even
// a collision cannot make a read return another object's data.
type IDScheme struct {
	key []byte
}

// NewIDScheme returns the scheme for key: empty for SHA-256, else exactly
// IDKeySize bytes.
func NewIDScheme(key []byte) (IDScheme, error) {
	switch len(key) {
	case 0:
		return IDScheme{}, nil
	case IDKeySize:
		return IDScheme{key: bytes.Clone(key)}, nil
	}
	return IDScheme{}, fmt.Errorf("%w: shard id key of %d bytes (want 0 or %d)", ErrInvalid, len(key), IDKeySize)
}

// Key returns the scheme's key (nil for SHA-256).
func (s IDScheme) Key() []byte { return s.key }

// Of returns the content address of data.
func (s IDScheme) Of(data []byte) ShardID {
	if s.key == nil {
		return sha256.Sum256(data)
	}
	return highwayhash.Sum(data, s.key)
}

// ShardIDFromBytes converts a manifest's 32-byte id.
func ShardIDFromBytes(b []byte) (ShardID, error) {
	var id ShardID
	if len(b) != len(id) {
		return id, fmt.Errorf("%w: shard id of %d bytes", ErrInvalid, len(b))
	}
	copy(id[:], b)
	return id, nil
}

// ParseShardID parses the 64 lowercase hex digits String returns.
func ParseShardID(s string) (ShardID, error) {
	var id ShardID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: shard id %q", ErrInvalid, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return id, fmt.Errorf("%w: shard id %q", ErrInvalid, s)
		}
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: shard id %q", ErrInvalid, s)
	}
	return id, nil
}

// String returns the id in lowercase hex.
func (id ShardID) String() string { return hex.EncodeToString(id[:]) }

// short is the id's first 12 hex digits, for messages.
func (id ShardID) short() string { return hex.EncodeToString(id[:6]) }
