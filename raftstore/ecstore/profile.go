package ecstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"

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
//
// Parity ids. A parity shard's bytes are a function of its stripe's data
// shards, so a keyed scheme derives its id from their ids
// (DeriveParityIDs: HighwayHash-256, under a second key derived from the
// pool's, of a tagged list of the k data ids) instead of hashing the
// parity bytes: a write then hashes its payload once, not (k+m)/k times.
// The second key keeps the two kinds of id apart: nobody without the keys
// can make a data shard whose id is some stripe's parity id. SHA-256
// schemes, having no key, keep hashing parity bytes. A derived id still
// names one content, but it cannot be checked against the bytes alone.
// The scheme such an id is written and read under is Derived(): Verify
// accepts any bytes, Disks.Put replaces differing bytes rather than
// keeping them, and the store checks a parity shard through the data it
// rebuilds (whose ids are hashes) and, in a deep scrub, by re-encoding it
// from verified data. Manifests record which kind of parity ids they hold
// (Manifest.parity_ids_derived).
type IDScheme struct {
	key []byte
	// parityKey is the key of derived parity ids (nil without key).
	parityKey []byte
	// derived marks the scheme of a derived (parity) id.
	derived bool
}

// parityKeyTag is hashed under a pool's key to give its parity id key.
const parityKeyTag = "ferry ecstore parity id key v1"

// NewIDScheme returns the scheme for key: empty for SHA-256, else exactly
// IDKeySize bytes.
func NewIDScheme(key []byte) (IDScheme, error) {
	switch len(key) {
	case 0:
		return IDScheme{}, nil
	case IDKeySize:
		pk := highwayhash.Sum([]byte(parityKeyTag), key)
		return IDScheme{key: bytes.Clone(key), parityKey: pk[:]}, nil
	}
	return IDScheme{}, fmt.Errorf("%w: shard id key of %d bytes (want 0 or %d)", ErrInvalid, len(key), IDKeySize)
}

// Key returns the scheme's key (nil for SHA-256).
func (s IDScheme) Key() []byte { return s.key }

// DerivesParity reports whether s can derive parity ids (it has a key).
func (s IDScheme) DerivesParity() bool { return s.parityKey != nil }

// Derived returns the scheme under which s's derived parity ids are
// written and checked.
func (s IDScheme) Derived() IDScheme { s.derived = true; return s }

// derivedFor returns the scheme shard i of a k+m stripe written under s
// has: Derived for a parity shard when s derives parity ids, else s.
func (s IDScheme) derivedFor(i, k int) IDScheme {
	if i >= k && s.DerivesParity() {
		return s.Derived()
	}
	return s
}

// IsDerived reports whether s is the scheme of derived ids.
func (s IDScheme) IsDerived() bool { return s.derived }

// Of returns the content address of data (the hash under the pool's key,
// also for a derived scheme).
func (s IDScheme) Of(data []byte) ShardID {
	if s.key == nil {
		return sha256.Sum256(data)
	}
	return highwayhash.Sum(data, s.key)
}

// newHash returns a hash that gives Of of what is written to it.
func (s IDScheme) newHash() hash.Hash {
	if s.key == nil {
		return sha256.New()
	}
	h, err := highwayhash.New(s.key)
	if err != nil {
		panic("ecstore: " + err.Error()) // NewIDScheme checked the key's length
	}
	return h
}

// Verify reports whether data may be the shard id names: its hash for a
// content id; always true for a derived id, whose bytes are checked
// through the stripe they belong to.
func (s IDScheme) Verify(id ShardID, data []byte) bool {
	return s.derived || s.Of(data) == id
}

// parityIDTag starts the input of a derived parity id.
const parityIDTag = "ferry ecstore parity id v1"

// DeriveParityIDs returns the ids of the m parity shards of a stripe whose
// k data shards have the given ids (profile k+m): HighwayHash-256 under
// the parity key of the tag, k, m, the parity index and the data ids. It
// panics on a scheme without a key (check DerivesParity).
func (s IDScheme) DeriveParityIDs(m int, dataIDs []ShardID) []ShardID {
	if s.parityKey == nil {
		panic("ecstore: DeriveParityIDs on a scheme without a key")
	}
	k := len(dataIDs)
	n := len(parityIDTag)
	in := make([]byte, n+6, n+6+k*len(ShardID{}))
	copy(in, parityIDTag)
	binary.BigEndian.PutUint16(in[n:], uint16(k))
	binary.BigEndian.PutUint16(in[n+2:], uint16(m))
	for _, id := range dataIDs {
		in = append(in, id[:]...)
	}
	ids := make([]ShardID, m)
	for j := range ids {
		binary.BigEndian.PutUint16(in[n+4:], uint16(j))
		ids[j] = highwayhash.Sum(in, s.parityKey)
	}
	return ids
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
