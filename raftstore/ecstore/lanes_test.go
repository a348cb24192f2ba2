package ecstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// TestStoreHashingLanes: a stripe's data shards are hashed by whoever gets
// to them first, the reader or a hashing worker; the ids, checked on every
// read, are the same whoever hashed which rows.
func TestStoreHashingLanes(t *testing.T) {
	roundTrips := func(t *testing.T) {
		testStoreRoundTrip(t, 1002, 16)
		testStoreRoundTrip(t, 20011, 1024) // rows of 4 KiB, a short last one
	}
	t.Run("no workers", func(t *testing.T) {
		// One processor: the reader hashes every row itself.
		ecstore.SetLanes(t, 0, time.Minute)
		roundTrips(t)
	})
	t.Run("workers give groups back at once", func(t *testing.T) {
		// Workers that end as soon as they find no row to hash: groups
		// pass between reader and workers all the time, and workers start
		// and end all the time.
		ecstore.SetLanes(t, 3, 0)
		roundTrips(t)
	})
	t.Run("SHA-256 ids, parity shards hashed too", func(t *testing.T) {
		ecstore.SetLanes(t, 3, 0)
		s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 20011)
		s.pool.IDKey = nil
		s.cell = 1024
		st := s.store(t, "n1")
		rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 47))
		for _, size := range []int{1, 4097, 20011, 20012, 3*20011 + 5} {
			data := randBytes(rng, size)
			m := write(t, st, s.pool, fmt.Sprint("sha", size), data)
			if got, err := read(st, m, 0, int64(size)); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
			}
		}
	})
	t.Run("concurrent writes share the workers", func(t *testing.T) {
		ecstore.SetLanes(t, 2, time.Millisecond)
		ecstore.SetHashWays(t, 1) // four groups a stripe: more than workers
		s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 4096)
		st := s.store(t, "n1")
		rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 41))
		datas := make([][]byte, 6)
		for i := range datas {
			datas[i] = randBytes(rng, 3*4096+i*777)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(datas))
		for i, data := range datas {
			wg.Go(func() {
				m, _, err := st.Write(context.Background(), s.pool, fmt.Appendf(nil, "o%d", i), bytes.NewReader(data))
				if err == nil {
					var got []byte
					if got, err = read(st, m, 0, int64(len(data))); err == nil && !bytes.Equal(got, data) {
						err = errors.New("read back other bytes")
					}
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStoreHashingWorkerTakesOver: a worker hashes the rows of a stripe
// while its reader waits for the payload (the reader only hashes rows the
// workers left behind, never the latest), and the rows that come after;
// a reader failing meanwhile fails the write without waiting for anyone.
func TestStoreHashingWorkerTakesOver(t *testing.T) {
	const stripe = 64 << 10 // 4 rows of 4 KiB cells
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("reader fails %v", fail), func(t *testing.T) {
			ecstore.SetLanes(t, 1, time.Minute)
			s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), stripe)
			s.cell = 4 << 10
			st := s.store(t, "n1")
			data := randBytes(rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 43)), 2*stripe+100)
			boom := errors.New("boom")
			gate := &gatedReader{r: bytes.NewReader(data), at: stripe + stripe/2, stalled: make(chan struct{}), resume: make(chan error)}
			done := make(chan error, 1)
			var written []byte
			go func() {
				m, _, err := st.Write(context.Background(), s.pool, nil, gate)
				if err == nil {
					written, err = read(st, m, 0, int64(len(data)))
				}
				done <- err
			}()
			<-gate.stalled // halfway through the second stripe
			waitUntil(t, "a worker to hash the rows read", ecstore.LanesCaughtUp)
			if fail {
				gate.resume <- boom
				if err := <-done; !errors.Is(err, boom) {
					t.Fatalf("write: %v, want the reader's error", err)
				}
			} else {
				gate.resume <- nil
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(written, data) {
					t.Fatal("read back other bytes")
				}
			}
		})
	}
}

// gatedReader reads r, but once at bytes are read it closes stalled and
// waits for resume: nil goes on, an error fails the read.
type gatedReader struct {
	r       io.Reader
	n, at   int
	stalled chan struct{}
	resume  chan error
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n == g.at {
		close(g.stalled)
		if err := <-g.resume; err != nil {
			return 0, err
		}
		g.at = -1
	}
	if g.at > g.n {
		p = p[:min(len(p), g.at-g.n)]
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}

// waitUntil waits for cond, checked as often as the scheduler allows, for
// up to a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
