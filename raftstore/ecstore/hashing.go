package ecstore

import (
	"hash"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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

// hashWays is highway.Ways; tests set it to try other groupings.
var hashWays = highway.Ways

// shardHashing computes the ids of a stripe's data shards while the
// stripe is read. The shards fill row by row (Layout), so they are hashed
// row by row as well, in groups of groupWays shards. A group is hashed by
// whoever gets to it first: one of the hashing workers (lanes), which
// follows the rows as the reader fills them, or else the reader itself,
// which hashes each new row of a group no worker has taken and, at the
// end of the stripe, the rest of such a group. So no row is hashed twice
// and the reader never waits for a worker; ready is done once every
// group's ids are written or, after abort, once no worker touches buf.
type shardHashing struct {
	ready  *sync.WaitGroup
	groups []*hashFeed
	ended  bool // finish or abort was called
}

// Who advances a group's hasher (hashFeed.state).
const (
	groupFree   int32 = iota // nobody: the reader may hash the latest rows
	groupReader              // the reader is hashing rows
	groupOwned               // a worker took it over
	groupDone                // hashed to the end and summed, or aborted
)

// hashAborted is hashFeed.end once the stripe is abandoned.
const hashAborted = -2

// hashFeed is one group of a stripe's data shards on its way to being
// hashed. to is how far the rows are filled, end the shards' length once
// the stripe is read (-1 until then). state says who may call gh, and
// passes the group from one to the other.
type hashFeed struct {
	gh    *groupHasher
	ids   []ShardID
	ready *sync.WaitGroup
	to    atomic.Int64
	end   atomic.Int64
	state atomic.Int32
}

// startHashing returns the hashing of the k data shards held at stride in
// buf, into ids[:k]; ready is done when they are hashed. It offers the
// groups to the hashing workers.
func startHashing(scheme IDScheme, buf []byte, k, stride int, ids []ShardID, ready *sync.WaitGroup) *shardHashing {
	ways := scheme.groupWays()
	h := &shardHashing{ready: ready}
	for lo := 0; lo < k; lo += ways {
		f := &hashFeed{gh: scheme.newGroupHasher(buf, lo, min(ways, k-lo), stride), ids: ids, ready: ready}
		f.end.Store(-1)
		h.groups = append(h.groups, f)
	}
	ready.Add(len(h.groups))
	lanes.offer(h.groups)
	return h
}

// fill hashes the rows up to to of every data shard, or leaves them to
// the worker that took the group.
func (h *shardHashing) fill(to int) {
	for _, f := range h.groups {
		f.to.Store(int64(to))
		if f.state.CompareAndSwap(groupFree, groupReader) {
			f.gh.fill(to)
			f.state.Store(groupFree)
		}
	}
}

// finish hashes the data shards to their end, ss: the groups no worker
// has taken right away, on the caller's goroutine.
func (h *shardHashing) finish(ss int) {
	h.end(int64(ss))
}

// abort abandons the hashing unless finish was called; ready is then done
// once no worker reads the stripe any more.
func (h *shardHashing) abort() {
	h.end(hashAborted)
}

func (h *shardHashing) end(end int64) {
	if h.ended {
		return
	}
	h.ended = true
	for _, f := range h.groups {
		if end >= 0 {
			f.to.Store(end)
		}
		f.end.Store(end)
		if f.state.CompareAndSwap(groupFree, groupReader) {
			f.complete()
		} // else the worker that owns it sees end
	}
}

// complete hashes the group to its end and sums it (unless the stripe was
// abandoned), by whoever holds it.
func (f *hashFeed) complete() {
	if end := int(f.end.Load()); end >= 0 {
		f.gh.fill(end)
		f.gh.sum(f.ids, end)
	}
	f.state.Store(groupDone)
	f.ready.Done()
}

// Hashing workers wait for work awake, yielding the processor: waking a
// sleeping goroutine on another processor takes tens to hundreds of
// microseconds (in a VM), as long as reading a whole stripe, while a
// spinning one starts within a microsecond. They spin only briefly. Tests
// change these (SetLanes) while no worker runs.
var (
	// laneIdle is how long a worker with nothing to do waits for a group
	// before it ends; the next stripe starts another. The next stripe of
	// a payload read from memory comes well within it.
	laneIdle = 200 * time.Microsecond
	// laneRowWait is how long a worker waits for the next row of its
	// group before it gives the group back to the reader: rows come every
	// few microseconds from a payload in memory, far more slowly from a
	// network, whose reader may as well hash them itself.
	laneRowWait = 50 * time.Microsecond
	// laneCount is how many workers may run at once: one fewer than the
	// processors, as the readers need one; none on one processor.
	laneCount = func() int { return runtime.GOMAXPROCS(0) - 1 }
)

// lanes are the hashing workers of the process, shared by every Store.
// A worker starts when groups are offered and fewer workers are free than
// groups wait, and ends once it has found no group for laneIdle: nothing
// stops them but the lack of work, and they hold nothing but the group
// they follow, which its reader waits for.
var lanes hashLanes

type hashLanes struct {
	mu      sync.Mutex
	queue   []*hashFeed // offered, not yet taken
	queued  atomic.Int32
	workers int // running
	busy    int // following a group
	wg      sync.WaitGroup
}

// offer queues fs for the workers, starting one if need be.
func (l *hashLanes) offer(fs []*hashFeed) {
	max := laneCount()
	if max <= 0 {
		return // the reader hashes every group
	}
	l.mu.Lock()
	l.queue = append(l.queue, fs...)
	l.queued.Store(int32(len(l.queue)))
	start := l.workers < max && l.workers-l.busy < len(l.queue)
	if start {
		l.workers++
	}
	l.mu.Unlock()
	if start {
		l.wg.Go(l.work)
	}
}

// take returns the next group offered, or nil.
func (l *hashLanes) take() *hashFeed {
	if l.queued.Load() == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.queue) > 0 {
		f := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.queued.Store(int32(len(l.queue)))
		if f.state.Load() != groupDone {
			l.busy++
			return f
		}
	}
	return nil
}

// work is a worker: it follows the groups offered, one at a time, and
// ends when none has come for laneIdle.
func (l *hashLanes) work() {
	idle := time.Now()
	for {
		if f := l.take(); f != nil {
			f.follow()
			l.mu.Lock()
			l.busy--
			l.mu.Unlock()
			idle = time.Now()
			continue
		}
		if time.Since(idle) >= laneIdle {
			l.mu.Lock()
			if len(l.queue) == 0 {
				l.workers--
				l.mu.Unlock()
				return
			}
			l.mu.Unlock()
			continue
		}
		runtime.Gosched()
	}
}

// follow takes f over from its reader, unless the reader finished it, and
// hashes its rows as they are filled, to the end; or, when no row comes
// for laneRowWait, gives it back to the reader.
func (f *hashFeed) follow() {
	for !f.state.CompareAndSwap(groupFree, groupOwned) {
		if f.state.Load() == groupDone {
			return
		}
		runtime.Gosched() // the reader is hashing a row, for microseconds
	}
	last := time.Now()
	for {
		if f.end.Load() != -1 {
			f.complete()
			return
		}
		if to := int(f.to.Load()); to > f.gh.filled {
			f.gh.fill(to)
			last = time.Now()
			continue
		}
		if time.Since(last) >= laneRowWait {
			f.state.Store(groupFree)
			// The reader may have ended the stripe before seeing the
			// group free: then it is still this worker's to complete.
			if f.end.Load() == -1 || !f.state.CompareAndSwap(groupFree, groupOwned) {
				return
			}
			continue
		}
		runtime.Gosched()
	}
}

// groupHasher hashes n data shards of a stripe, laid out at stride in buf
// from shard lo on, row by row as they are filled.
type groupHasher struct {
	buf    []byte
	lo, n  int
	stride int
	filled int            // fill was given rows up to here
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
	g.filled = max(g.filled, to)
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
