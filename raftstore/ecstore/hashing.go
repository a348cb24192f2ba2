package ecstore

import (
	"hash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrydr/ferry/internal/highway"
)

// groupWays returns how many shards are hashed together while a stripe
// is read: as many as the machine's multi-stream
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

// shardHashing computes the ids of a stripe's shards while the stripe is
// read: the data shards', and the parity shards' too when the scheme does
// not derive them. The shards fill row by row (Layout), so they are hashed
// row by row as well, in groups of groupWays shards. Whoever is free
// hashes a group's new rows: one of the hashing workers (lanes), which
// look for rows to hash all the time, or else the reader, which hashes the
// rows of a group that the workers left behind, and at the end of the
// stripe the rest. No row is hashed twice and the reader never waits for a
// worker; ready is done once every group's ids are written or, after
// abort, once no worker touches buf.
type shardHashing struct {
	groups []*hashFeed
	prev   int  // the rows filled before the latest fill
	ended  bool // finish or abort was called
}

// Who may advance a group's hasher (hashFeed.state).
const (
	groupFree int32 = iota // anyone may take it
	groupHeld              // the reader or a worker hashes rows
	groupDone              // hashed to the end and summed, or abandoned
)

// hashAborted is hashFeed.end once the stripe is abandoned.
const hashAborted = -2

// hashFeed is one group of a stripe's shards on its way to being hashed.
// to is how far the rows are filled, hashed how far they are hashed, end
// the shards' length once the stripe is read (-1 until then). state says
// who may call gh.
type hashFeed struct {
	gh     *groupHasher
	ids    []ShardID
	ready  *sync.WaitGroup
	to     atomic.Int64
	hashed atomic.Int64
	end    atomic.Int64
	state  atomic.Int32
}

// startHashing returns the hashing of the shards held at stride in buf,
// into ids: the k data shards, and all n when the scheme does not derive
// parity ids. ready is done when they are hashed. It offers the groups to
// the hashing workers.
func startHashing(scheme IDScheme, buf []byte, k, n, stride int, ids []ShardID, ready *sync.WaitGroup) *shardHashing {
	ways := scheme.groupWays()
	h := &shardHashing{}
	add := func(from, to int) {
		for lo := from; lo < to; lo += ways {
			f := &hashFeed{gh: scheme.newGroupHasher(buf, lo, min(ways, to-lo), stride), ids: ids, ready: ready}
			f.end.Store(-1)
			h.groups = append(h.groups, f)
		}
	}
	add(0, k)
	if !scheme.DerivesParity() {
		add(k, n)
	}
	ready.Add(len(h.groups))
	lanes.offer(h.groups)
	return h
}

// fill makes the rows up to to of every shard available for hashing. The
// reader hashes a group's rows itself when no worker runs or when the
// workers have not hashed even the rows before these.
func (h *shardHashing) fill(to int) {
	alone := lanes.workers.Load() == 0
	for _, f := range h.groups {
		f.to.Store(int64(to))
		if alone || f.hashed.Load() < int64(h.prev) {
			f.advance()
		}
	}
	h.prev = to
}

// finish hashes the shards to their end, ss, and gives their ids once
// ready is done: those of the groups no worker holds right away, on the
// caller's goroutine.
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
		f.advance() // else the worker holding it completes it
	}
}

// pending reports whether f has rows to hash or is to be completed.
func (f *hashFeed) pending() bool {
	return f.end.Load() != -1 || f.to.Load() > f.hashed.Load()
}

// advance hashes f's filled rows, and completes f if the stripe is read,
// unless someone else holds f. It reports whether it took f.
func (f *hashFeed) advance() bool {
	if !f.state.CompareAndSwap(groupFree, groupHeld) {
		return false
	}
	for {
		if end := f.end.Load(); end != -1 {
			if end >= 0 {
				f.gh.fill(int(end))
				f.gh.sum(f.ids, int(end))
			}
			f.state.Store(groupDone)
			f.ready.Done()
			return true
		}
		if to := f.to.Load(); to > f.hashed.Load() {
			f.gh.fill(int(to))
			f.hashed.Store(to)
		}
		f.state.Store(groupFree)
		// The stripe may have ended while f was held, its reader failing
		// to take f: then completing f falls to this side.
		if f.end.Load() == -1 || !f.state.CompareAndSwap(groupFree, groupHeld) {
			return true
		}
	}
}

// Hashing workers wait for work awake, yielding the processor between
// polls: waking a sleeping goroutine on another processor takes tens to
// hundreds of microseconds (in a VM), as long as reading a whole stripe,
// while a spinning one sees a new row within a microsecond. A spinning
// goroutine yields its processor only to goroutines queued for it, where
// an idle processor would also take over those queued for others, so
// workers spin only briefly, and a reader that hands a stripe to its
// writer yields once (Store.write). Tests change these (SetLanes) while
// no worker runs, but for laneIdle, which they may change any time.
var (
	// laneIdle is how long, in nanoseconds, a worker that finds no row to
	// hash waits for one before it ends; the next stripe starts another.
	// The rows of a payload read from memory, and its next stripe, come
	// well within the default, 200 µs.
	laneIdle = func() (d atomic.Int64) { d.Store(int64(200 * time.Microsecond)); return }()
	// laneCount is how many workers may run at once: one fewer than the
	// processors, as the readers need one; none on one processor.
	laneCount = func() int { return runtime.GOMAXPROCS(0) - 1 }
)

// lanes are the hashing workers of the process, shared by every Store.
// A stripe offers its groups to them, starting a worker if fewer run than
// laneCount. A worker ends once it has found no row to hash for laneIdle:
// nothing stops the workers but the lack of work, and a worker only holds
// a group while it hashes its rows, which its reader waits for.
var lanes hashLanes

type hashLanes struct {
	mu      sync.Mutex
	groups  []*hashFeed  // offered and not done
	version atomic.Int64 // changes with groups
	workers atomic.Int32 // running; changed under mu
	wg      sync.WaitGroup
}

// offer makes fs available to the workers, starting one if need be.
func (l *hashLanes) offer(fs []*hashFeed) {
	max := laneCount()
	if max <= 0 {
		return // the reader hashes every group
	}
	l.mu.Lock()
	l.groups = slices.DeleteFunc(l.groups, func(f *hashFeed) bool { return f.state.Load() == groupDone })
	l.groups = append(l.groups, fs...)
	l.version.Add(1)
	start := int(l.workers.Load()) < min(max, len(l.groups))
	if start {
		l.workers.Add(1)
	}
	l.mu.Unlock()
	if start {
		l.wg.Go(l.work)
	}
}

// snapshot copies the groups offered into to, unless they have not
// changed since version seen; it returns them and their version.
func (l *hashLanes) snapshot(to []*hashFeed, seen int64) ([]*hashFeed, int64) {
	if v := l.version.Load(); v == seen {
		return to, v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append(to[:0], l.groups...), l.version.Load()
}

// work is a worker: it hashes the rows of any group offered that has rows
// to hash and that no one holds, and ends when it has found none for
// laneIdle.
func (l *hashLanes) work() {
	var groups []*hashFeed
	seen := int64(-1)
	last := time.Now()
	for {
		groups, seen = l.snapshot(groups, seen)
		worked := false
		for _, f := range groups {
			if f.pending() && f.advance() {
				worked = true
			}
		}
		if worked {
			last = time.Now()
			continue
		}
		if time.Since(last) >= time.Duration(laneIdle.Load()) {
			l.mu.Lock()
			if l.version.Load() == seen || l.workers.Load() > 1 {
				// No group came meanwhile: end. The last worker to end
				// lets go of the groups offered; their readers hash them.
				if l.workers.Add(-1) == 0 {
					clear(l.groups)
					l.groups = l.groups[:0]
					l.version.Add(1)
				}
				l.mu.Unlock()
				return
			}
			l.mu.Unlock()
			last = time.Now()
			continue
		}
		runtime.Gosched()
	}
}

// groupHasher hashes n shards of a stripe, laid out at stride in buf from
// shard lo on, row by row as they are filled.
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
