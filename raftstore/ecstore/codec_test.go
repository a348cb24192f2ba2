package ecstore

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// lossPatterns calls fn for every set of lost shard indices (as a bit mask
// over n shards) with at most maxLost members.
func lossPatterns(n, maxLost int, fn func(mask uint64)) {
	for mask := uint64(0); mask < 1<<n; mask++ {
		if bits.OnesCount64(mask) <= maxLost {
			fn(mask)
		}
	}
}

// TestCodecExhaustive is T4 on the pure codec: every pattern of ≤ m lost or
// corrupted shards rebuilds the stripe byte for byte; every pattern of
// exactly m+1 gives ErrTooFewShards.
func TestCodecExhaustive(t *testing.T) {
	for _, tc := range []struct {
		p                 Profile
		recover, tooFewer int
	}{
		{Profile{4, 2}, 22, 20},
		{Profile{8, 3}, 232, 330},
		{Profile{10, 4}, 1471, 2002},
	} {
		for _, mode := range []string{"missing", "corrupt"} {
			t.Run(fmt.Sprintf("%s/%s", tc.p, mode), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(testSeed(t)), 1))
				c, err := NewCodec(tc.p)
				if err != nil {
					t.Fatal(err)
				}
				data := make([]byte, tc.p.K*37+5) // last data shard padded
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				cell := 1 + rng.IntN(40) // a few rows, then a short one, or one row
				shards, ids, err := c.Encode(data, cell)
				if err != nil {
					t.Fatal(err)
				}
				n := tc.p.N()
				var ok, tooFew int
				lossPatterns(n, tc.p.M+1, func(mask uint64) {
					work := make([][]byte, n)
					for i := range n {
						work[i] = shards[i]
						if mask&(1<<i) == 0 {
							continue
						}
						if mode == "missing" {
							work[i] = nil
						} else {
							bad := bytes.Clone(shards[i])
							bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
							work[i] = bad
						}
					}
					got, err := c.Decode(work, ids, len(data), cell)
					if bits.OnesCount64(mask) <= tc.p.M {
						if err != nil || !bytes.Equal(got, data) {
							t.Fatalf("lost %b: err %v, equal %v", mask, err, bytes.Equal(got, data))
						}
						ok++
						return
					}
					if !errors.Is(err, ErrTooFewShards) || got != nil {
						t.Fatalf("lost %b: got %d bytes, err %v; want ErrTooFewShards", mask, len(got), err)
					}
					tooFew++
				})
				for i := range n { // Decode must not have modified its input
					if ShardIDOf(shards[i]) != ids[i] {
						t.Fatalf("shard %d modified", i)
					}
				}
				if ok != tc.recover || tooFew != tc.tooFewer {
					t.Fatalf("%d recoverable and %d unrecoverable patterns, want %d and %d", ok, tooFew, tc.recover, tc.tooFewer)
				}
			})
		}
	}
}

func TestCodecSizes(t *testing.T) {
	for _, p := range []Profile{{1, 0}, {1, 1}, {2, 1}, {4, 2}, {3, 0}, {17, 3}} {
		c, err := NewCodec(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 2, p.K - 1, p.K, p.K + 1, 3*p.K - 1, 1000, 1001} {
			if size < 1 {
				continue
			}
			data := bytes.Repeat([]byte{0xa5, 0x01, 0x7f}, size)[:size]
			for _, cell := range []int{0, 1, 7, 64} {
				shards, ids, err := c.Encode(data, cell)
				if err != nil {
					t.Fatalf("%s %d: %v", p, size, err)
				}
				if len(shards) != p.N() || len(shards[0]) != c.ShardSize(size) {
					t.Fatalf("%s %d: %d shards of %d bytes", p, size, len(shards), len(shards[0]))
				}
				if p.M > 0 {
					shards[0] = nil
				}
				got, err := c.Decode(shards, ids, size, cell)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s %d cells of %d: err %v", p, size, cell, err)
				}
			}
		}
	}
}

func TestCodecBadInput(t *testing.T) {
	for _, p := range []Profile{{0, 2}, {-1, 1}, {4, -1}, {200, 57}} {
		if _, err := NewCodec(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewCodec(%v) = %v, want ErrInvalid", p, err)
		}
	}
	c, _ := NewCodec(DefaultProfile())
	if _, _, err := c.Encode(nil, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode(nil) = %v", err)
	}
	if _, err := c.Decode(make([][]byte, 3), make([]ShardID, 6), 10, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode(3 shards) = %v", err)
	}
	if _, err := c.Decode(make([][]byte, 6), make([]ShardID, 6), 0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Decode(0 bytes) = %v", err)
	}
	if _, err := c.Decode(make([][]byte, 6), make([]ShardID, 6), 10, 0); !errors.Is(err, ErrTooFewShards) {
		t.Errorf("Decode(no shards) = %v", err)
	}
}

func TestShardIDParse(t *testing.T) {
	id := ShardIDOf([]byte("x"))
	got, err := ParseShardID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseShardID(%s) = %v, %v", id, got, err)
	}
	for _, s := range []string{"", "zz", id.String()[:63], id.String() + "0", "G" + id.String()[1:], "A" + id.String()[1:]} {
		if _, err := ParseShardID(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseShardID(%q) = %v", s, err)
		}
	}
	if _, err := ShardIDFromBytes(make([]byte, 31)); !errors.Is(err, ErrInvalid) {
		t.Errorf("ShardIDFromBytes(31 bytes) = %v", err)
	}
}
