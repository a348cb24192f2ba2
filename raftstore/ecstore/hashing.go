package ecstore

import (
	"hash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ferrydr/ferry/internal/highway"
)

// groupWays returns how many data shards one goroutine hashes together
// while a stripe is read: as many as the machine's multi-stream
// HighwayHash kernel advances at once for a keyed scheme (see
// internal/highway: four shards cost little more than one), else one.
func (s IDScheme) groupWays() int {
	if s.key == nil {
		return 1
	}
	return hashWays()
}

// hashSpins is how many times a hashing goroutine yields, waiting for the
// next row, before it sleeps.
const hashSpins = 50

// hashWays is highway.Ways; tests set it to try other groupings.
var hashWays = highway.Ways

// shardHashing computes the ids of a stripe's data shards while the
// stripe is read. The shards fill row by row (Layout), so they are hashed
// row by row as well, by a goroutine per group of groupWays shards. The
// goroutines run under the WaitGroup it was given; close ends them, and
// once they are done ids[:k] hold the ids if finish was called.
type shardHashing struct {
	scheme IDScheme
	buf    []byte
	k      int
	stride int
	ids    []ShardID
	wg     *sync.WaitGroup
	groups []*hashFeed
	end    int // set by finish before close: the shards' length
}

// hashFeed tells a group's goroutine how far the rows are filled: to
// holds the latest, and wake, with room for one, says it moved. The
// reader never waits for the hashing.
type hashFeed struct {
	to   atomic.Int64
	wake chan struct{}
}

// startHashing returns the hashing of the k data shards held at stride in
// buf, into ids[:k], by goroutines wg tracks.
func startHashing(scheme IDScheme, buf []byte, k, stride int, ids []ShardID, wg *sync.WaitGroup) *shardHashing {
	ways := scheme.groupWays()
	return &shardHashing{scheme: scheme, buf: buf, k: k, stride: stride, ids: ids, wg: wg, groups: make([]*hashFeed, (k+ways-1)/ways)}
}

// start starts the goroutines, before the first row is read: a goroutine
// that has to wake an idle processor can take long to start (tens of
// microseconds in a VM, a good part of a 4 MiB stripe's time), and
// meanwhile the reader goes on.
func (h *shardHashing) start() {
	ways := h.scheme.groupWays()
	for g := range h.groups {
		f := &hashFeed{wake: make(chan struct{}, 1)}
		h.groups[g] = f
		lo := g * ways
		gh := h.scheme.newGroupHasher(h.buf, lo, min(ways, h.k-lo), h.stride)
		h.wg.Go(func() {
			seen := 0 // the rows given to gh so far
			for {
				// Rows come every few microseconds while a stripe is read:
				// wait for the next one awake for a while before sleeping.
				for spin := 0; spin < hashSpins && int(f.to.Load()) == seen; spin++ {
					runtime.Gosched()
				}
				if int(f.to.Load()) == seen {
					if _, ok := <-f.wake; !ok {
						break
					}
				}
				seen = int(f.to.Load())
				gh.fill(seen)
			}
			if h.end > 0 { // close came after finish
				gh.fill(h.end)
				gh.sum(h.ids, h.end)
			}
		})
	}
}

// fill hashes the rows up to to of every data shard.
func (h *shardHashing) fill(to int) {
	for _, f := range h.groups {
		f.to.Store(int64(to))
		select {
		case f.wake <- struct{}{}:
		default: // a wake-up is pending, and will see to
		}
	}
}

// finish hashes the data shards to their end, ss, and gives their ids
// once close is called.
func (h *shardHashing) finish(ss int) {
	h.fill(ss)
	h.end = ss
}

// close ends the goroutines once they have hashed what they were given.
func (h *shardHashing) close() {
	for g, f := range h.groups {
		if f != nil {
			close(f.wake)
			h.groups[g] = nil
		}
	}
}

// groupHasher hashes n data shards of a stripe, laid out at stride in buf
// from shard lo on, row by row as they are filled.
type groupHasher struct {
	buf    []byte
	lo, n  int
	stride int
	done   int            // rows [0, done) are hashed
	multi  *highway.Multi // keyed ids with a multi-stream kernel
	plain  []hash.Hash    // else one hash per shard
	msgs   [][]byte
}

func (s IDScheme) newGroupHasher(buf []byte, lo, n, stride int) *groupHasher {
	g := &groupHasher{buf: buf, lo: lo, n: n, stride: stride, msgs: make([][]byte, n)}
	if s.key != nil && n > 1 {
		m, err := highway.NewMulti(s.key, n)
		if err != nil {
			panic("ecstore: " + err.Error()) // NewIDScheme checked the key's length
		}
		g.multi = m
		return g
	}
	g.plain = make([]hash.Hash, n)
	for i := range g.plain {
		g.plain[i] = s.newHash()
	}
	return g
}

// rows returns bytes [from, to) of each shard of the group.
func (g *groupHasher) rows(from, to int) [][]byte {
	for i := range g.msgs {
		at := (g.lo + i) * g.stride
		g.msgs[i] = g.buf[at+from : at+to]
	}
	return g.msgs
}

// fill hashes the rows up to to, but for a partial block, which the
// multi-stream kernel leaves to sum.
func (g *groupHasher) fill(to int) {
	end := to
	if g.multi != nil {
		end &^= highway.BlockSize - 1
	}
	if end <= g.done {
		return
	}
	if g.multi != nil {
		g.multi.Write(g.rows(g.done, end))
	} else {
		for i, r := range g.rows(g.done, end) {
			g.plain[i].Write(r)
		}
	}
	g.done = end
}

// sum writes the ids of the group's shards, which end at end and are
// hashed up to fill(end), into ids[lo:lo+n].
func (g *groupHasher) sum(ids []ShardID, end int) {
	for i, tail := range g.rows(g.done, end) {
		if g.multi != nil {
			ids[g.lo+i] = g.multi.Sum(i, tail)
		} else {
			g.plain[i].Sum(ids[g.lo+i][:0])
		}
	}
}
