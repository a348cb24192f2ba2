package highway

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/minio/highwayhash"
)

var seedFlag = flag.Uint64("highway.seed", 0, "seed for randomized tests (0: from the clock)")

func testRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -highway.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0))
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// kernels runs f under every kernel set this machine has: the fastest,
// then with the wider kernels turned off one by one, then plain Go.
func kernels(t *testing.T, f func(t *testing.T)) {
	avx2, avx512 := hasAVX2, hasAVX512
	t.Cleanup(func() { hasAVX2, hasAVX512 = avx2, avx512 })
	type set struct {
		name         string
		avx2, avx512 bool
	}
	sets := []set{{"go", false, false}}
	if avx2 {
		sets = append(sets, set{"avx2", true, false})
	}
	if avx512 {
		sets = append(sets, set{"avx512", true, true})
	}
	t.Logf("kernels on this machine: %d streams at once", Ways())
	for _, s := range sets {
		hasAVX2, hasAVX512 = s.avx2, s.avx512
		t.Run(s.name, f)
	}
}

// TestSumMatchesMinio: every length up to a few blocks past the edges the
// code treats apart (a tail under 4, 16 and 32 bytes), and long ones.
func TestSumMatchesMinio(t *testing.T) {
	rng := testRand(t)
	kernels(t, func(t *testing.T) {
		for n := range 200 {
			testSum(t, randBytes(rng, KeySize), randBytes(rng, n))
		}
		for _, n := range []int{1 << 10, 1<<20 + 17, 64<<10 - 1} {
			testSum(t, randBytes(rng, KeySize), randBytes(rng, n))
		}
		testSum(t, make([]byte, KeySize), nil)
	})
}

func testSum(t *testing.T, key, data []byte) {
	t.Helper()
	got, err := Sum(data, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := highwayhash.Sum(data, key); got != want {
		t.Fatalf("Sum of %d bytes under key %x = %x, minio/highwayhash gives %x", len(data), key, got, want)
	}
}

// TestMultiMatchesMinio: n streams of one length, fed in random whole
// blocks and summed with a random tail, give minio's sums; so does a
// Reset Multi used again.
func TestMultiMatchesMinio(t *testing.T) {
	rng := testRand(t)
	kernels(t, func(t *testing.T) {
		for streams := 1; streams <= 9; streams++ {
			key := randBytes(rng, KeySize)
			m, err := NewMulti(key, streams)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				length := rng.IntN(3000)
				if round == 1 {
					length = 1<<18 + rng.IntN(100)
				}
				data := make([][]byte, streams)
				for i := range data {
					data[i] = randBytes(rng, length)
				}
				off := 0
				for off+BlockSize <= length && rng.IntN(8) != 0 {
					n := BlockSize * (1 + rng.IntN((length-off)/BlockSize))
					msgs := make([][]byte, streams)
					for i := range msgs {
						msgs[i] = data[i][off : off+n]
					}
					m.Write(msgs)
					off += n
				}
				for i := range streams {
					if got, want := m.Sum(i, data[i][off:]), highwayhash.Sum(data[i], key); got != want {
						t.Fatalf("%d streams of %d bytes, %d written then a tail: stream %d sums to %x, want %x",
							streams, length, off, i, got, want)
					}
				}
				m.Reset()
			}
		}
	})
}

func TestMisuse(t *testing.T) {
	if _, err := NewMulti(make([]byte, 31), 1); err != ErrKeySize {
		t.Fatalf("31-byte key: %v, want ErrKeySize", err)
	}
	if _, err := Sum(nil, nil); err != ErrKeySize {
		t.Fatalf("no key: %v, want ErrKeySize", err)
	}
	if _, err := NewMulti(make([]byte, KeySize), 0); err == nil {
		t.Fatal("no streams: no error")
	}
	m, err := NewMulti(make([]byte, KeySize), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, msgs := range [][][]byte{
		{make([]byte, 32)},                   // one message for two streams
		{make([]byte, 32), make([]byte, 64)}, // unequal
		{make([]byte, 33), make([]byte, 33)}, // not whole blocks
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Write of %d messages of %d and %d bytes did not panic", len(msgs), len(msgs[0]), len(msgs[len(msgs)-1]))
				}
			}()
			m.Write(msgs)
		}()
	}
}

func FuzzSum(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, KeySize), []byte("ferry"), 0)
	f.Add(make([]byte, KeySize), bytes.Repeat([]byte("stripe"), 40), 3)
	f.Fuzz(func(t *testing.T, key, data []byte, streams int) {
		if len(key) != KeySize {
			return
		}
		streams = 1 + (streams&7+8)%8
		m, err := NewMulti(key, streams)
		if err != nil {
			t.Fatal(err)
		}
		whole := len(data) &^ (BlockSize - 1)
		msgs := make([][]byte, streams)
		for i := range msgs {
			msgs[i] = data[:whole]
		}
		m.Write(msgs)
		want := highwayhash.Sum(data, key)
		for i := range streams {
			if got := m.Sum(i, data[whole:]); got != want {
				t.Fatalf("stream %d of %d: %x, want %x", i, streams, got, want)
			}
		}
	})
}

func BenchmarkHash(b *testing.B) {
	const shard = 1 << 20
	key := make([]byte, KeySize)
	b.Run("minio", func(b *testing.B) {
		data := make([]byte, shard)
		b.SetBytes(shard)
		for b.Loop() {
			highwayhash.Sum(data, key)
		}
	})
	for _, streams := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			m, err := NewMulti(key, streams)
			if err != nil {
				b.Fatal(err)
			}
			msgs := make([][]byte, streams)
			for i := range msgs {
				msgs[i] = make([]byte, shard)
			}
			b.SetBytes(int64(streams * shard))
			for b.Loop() {
				m.Reset()
				m.Write(msgs)
				for i := range streams {
					m.Sum(i, nil)
				}
			}
		})
	}
}
