package ecstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/klauspost/reedsolomon"

	"github.com/ferrydr/ferry/raftstore/ecstore"
)

const benchSize = 4 << 20

// memTransport keeps shards in a map: the store's work without any disk
// (one copy per shard put, none per get). down makes locations fail.
type memTransport struct {
	mu     sync.Mutex
	shards map[ecstore.Location]map[ecstore.ShardID][]byte
	down   map[ecstore.Location]bool
}

func newMemTransport() *memTransport {
	return &memTransport{shards: map[ecstore.Location]map[ecstore.ShardID][]byte{}, down: map[ecstore.Location]bool{}}
}

func (t *memTransport) PutShard(_ context.Context, loc ecstore.Location, _ ecstore.IDScheme, id ecstore.ShardID, data []byte) error {
	c := bytes.Clone(data)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shards[loc] == nil {
		t.shards[loc] = map[ecstore.ShardID][]byte{}
	}
	t.shards[loc][id] = c
	return nil
}

func (t *memTransport) GetShard(_ context.Context, loc ecstore.Location, id ecstore.ShardID) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down[loc] {
		return nil, errors.New("down")
	}
	if b, ok := t.shards[loc][id]; ok {
		return b, nil
	}
	return nil, ecstore.ErrNotFound
}

// discardTransport drops every shard.
type discardTransport struct{}

func (discardTransport) PutShard(context.Context, ecstore.Location, ecstore.IDScheme, ecstore.ShardID, []byte) error {
	return nil
}

func (discardTransport) GetShard(context.Context, ecstore.Location, ecstore.ShardID) ([]byte, error) {
	return nil, ecstore.ErrNotFound
}

func benchPool() ecstore.PoolSpec {
	var disks []ecstore.Location
	for n := range 3 {
		for d := range 2 {
			disks = append(disks, ecstore.Location{Node: fmt.Sprintf("n%d", n), Disk: fmt.Sprintf("d%d", d)})
		}
	}
	return ecstore.PoolSpec{Name: "bench", Profile: ecstore.DefaultProfile(), Disks: disks, IDKey: testIDKey}
}

func benchData() []byte {
	data := make([]byte, benchSize)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	return data
}

// BenchmarkEncodeRaw is the reference: reedsolomon encoding 4 MiB as 4+2
// in memory, with the library's default options (the store's).
func BenchmarkEncodeRaw(b *testing.B) {
	enc, err := reedsolomon.New(4, 2)
	if err != nil {
		b.Fatal(err)
	}
	shards, err := enc.Split(benchData())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRawSplit is the reference ferrybench compares the store
// with: Split (which shares the data and allocates the parity) and Encode
// of a 4 MiB slice, as reedsolomon's documentation codes a whole object.
func BenchmarkEncodeRawSplit(b *testing.B) {
	enc, err := reedsolomon.New(4, 2)
	if err != nil {
		b.Fatal(err)
	}
	data := benchData()
	b.SetBytes(benchSize)
	for b.Loop() {
		shards, err := enc.Split(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := enc.Encode(shards); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreWrite writes a 4 MiB object (one 4 MiB stripe, 4+2) with
// disk time excluded: "discard" drops the shards, "mem" copies them into
// a map; ids are keyed HighwayHash-256 (new pools) or SHA-256 (pools
// without an id key). The 32 MiB object is eight stripes, whose shard
// copies overlap with the reading of the next stripe.
func BenchmarkStoreWrite(b *testing.B) {
	for _, tc := range []struct {
		name    string
		tr      func() ecstore.Transport
		key     []byte
		stripes int
	}{
		{"discard/highwayhash", func() ecstore.Transport { return discardTransport{} }, testIDKey, 1},
		{"discard/sha256", func() ecstore.Transport { return discardTransport{} }, nil, 1},
		{"mem/highwayhash", func() ecstore.Transport { return newMemTransport() }, testIDKey, 1},
		{"mem/highwayhash/32MiB", func() ecstore.Transport { return newMemTransport() }, testIDKey, 8},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := ecstore.New(ecstore.Config{Transport: tc.tr()})
			if err != nil {
				b.Fatal(err)
			}
			data, pool := bytes.Repeat(benchData(), tc.stripes), benchPool()
			pool.IDKey = tc.key
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := st.Write(context.Background(), pool, []byte("k"), bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStoreRead reads a 4 MiB object back from memory, whole, and
// with two data shards missing (rebuilt from parity).
func BenchmarkStoreRead(b *testing.B) {
	for _, missing := range []int{0, 2} {
		b.Run(fmt.Sprintf("missing=%d", missing), func(b *testing.B) {
			tr := newMemTransport()
			st, err := ecstore.New(ecstore.Config{Transport: tr})
			if err != nil {
				b.Fatal(err)
			}
			m, _, err := st.Write(context.Background(), benchPool(), []byte("k"), bytes.NewReader(benchData()))
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range m.GetLocations()[:missing] {
				tr.down[ecstore.Location{Node: l.GetNode(), Disk: l.GetDisk()}] = true
			}
			b.SetBytes(benchSize)
			for b.Loop() {
				if err := st.Read(context.Background(), m, 0, benchSize, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The hashes around the write path: MD5 of the payload (the S3 ETag, one
// sequential stream, computed by the caller) and the shard id hashes.
func BenchmarkHashMD5(b *testing.B) {
	data := benchData()
	b.SetBytes(benchSize)
	for b.Loop() {
		md5.Sum(data)
	}
}

func BenchmarkHashSHA256(b *testing.B) {
	data := benchData()
	b.SetBytes(benchSize)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

func BenchmarkHashHighwayHash256(b *testing.B) {
	data := benchData()
	scheme, err := ecstore.NewIDScheme(testIDKey)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		scheme.Of(data)
	}
}
