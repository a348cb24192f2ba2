// Package raftbench measures a site's write path against bare
// hashicorp/raft on the same setup: three nodes on loopback TCP, raft-boltdb
// logs with fsync, the same raft timeouts. It backs `ferrybench` and
// `make bench`; it is not used by ferryd.
package raftbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// Result is one measurement.
type Result struct {
	Name     string
	Writers  int
	Size     int
	Ops      int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// OpsPerSec is the throughput.
func (r Result) OpsPerSec() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%-10s size=%-5d writers=%-3d %9.0f ops/s  p50=%-9v p99=%v", r.Name, r.Size, r.Writers, r.OpsPerSec(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
}

// Combine sums rounds of one configuration: their operations over their
// time, and the median of their percentiles.
func Combine(rs []Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	c := rs[0]
	c.Ops, c.Elapsed = 0, 0
	var p50, p99 []time.Duration
	for _, r := range rs {
		c.Ops += r.Ops
		c.Elapsed += r.Elapsed
		p50, p99 = append(p50, r.P50), append(p99, r.P99)
	}
	slices.Sort(p50)
	slices.Sort(p99)
	c.P50, c.P99 = p50[len(p50)/2], p99[len(p99)/2]
	return c
}

// drive runs op from writers goroutines for d and measures it.
func drive(name string, writers, size int, d time.Duration, op func(w, i int) error) (Result, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []time.Duration
		firstErr atomic.Pointer[error]
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; time.Now().Before(stop); i++ {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if p := firstErr.Load(); p != nil {
		return Result{}, fmt.Errorf("%s: %w", name, *p)
	}
	slices.Sort(lat)
	r := Result{Name: name, Writers: writers, Size: size, Ops: len(lat), Elapsed: elapsed}
	if len(lat) > 0 {
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[len(lat)*99/100]
	}
	return r, nil
}

// Timeouts shared by both setups.
func tuneRaft(c *raft.Config) {
	c.HeartbeatTimeout = time.Second
	c.ElectionTimeout = time.Second
	c.LeaderLeaseTimeout = 500 * time.Millisecond
	c.BatchApplyCh = true
	c.MaxAppendEntries = 256
	c.SnapshotThreshold = 1 << 30
	c.Logger = hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off})
}

type noopFSM struct{}

func (noopFSM) Apply(*raft.Log) any                 { return nil }
func (noopFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, errors.New("no snapshots") }
func (noopFSM) Restore(io.ReadCloser) error         { return nil }

// BareRaft is three hashicorp/raft nodes with a no-op FSM.
type BareRaft struct {
	nodes  []*raft.Raft
	closer []func() error
}

// StartBareRaft starts the baseline cluster under dir.
func StartBareRaft(dir string) (*BareRaft, error) {
	b := &BareRaft{}
	var servers []raft.Server
	var transports []*raft.NetworkTransport
	for i := range 3 {
		t, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 10*time.Second, io.Discard)
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		b.closer = append(b.closer, t.Close)
		transports = append(transports, t)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("b%d", i)), Address: t.LocalAddr()})
	}
	for i := range 3 {
		d := filepath.Join(dir, fmt.Sprintf("b%d", i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, errors.Join(err, b.Close())
		}
		store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(d, "raft.db")})
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		b.closer = append(b.closer, store.Close)
		snaps, err := raft.NewFileSnapshotStore(d, 1, io.Discard)
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		c := raft.DefaultConfig()
		c.LocalID = servers[i].ID
		tuneRaft(c)
		// The same log cache as a ferry node's: the setups differ only in
		// the state machine.
		logs, err := raft.NewLogCache(raftstore.RaftLogCacheEntries, store)
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		r, err := raft.NewRaft(c, noopFSM{}, logs, store, snaps, transports[i])
		if err != nil {
			return nil, errors.Join(err, b.Close())
		}
		b.closer = append(b.closer, func() error { return r.Shutdown().Error() })
		b.nodes = append(b.nodes, r)
	}
	if err := b.nodes[0].BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		return nil, errors.Join(err, b.Close())
	}
	return b, nil
}

func (b *BareRaft) leader(timeout time.Duration) (*raft.Raft, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, n := range b.nodes {
			if n.State() == raft.Leader {
				return n, nil
			}
		}
		time.Sleep(10 * time.Millisecond) // benchmark set-up: polling raft state
	}
	return nil, errors.New("raftbench: no leader")
}

// Run measures Apply of size-byte commands from writers goroutines.
func (b *BareRaft) Run(writers, size int, d time.Duration) (Result, error) {
	l, err := b.leader(30 * time.Second)
	if err != nil {
		return Result{}, err
	}
	payload := make([]byte, size)
	return drive("bare-raft", writers, size, d, func(_, _ int) error { return l.Apply(payload, 0).Error() })
}

// Preload applies n size-byte commands, from 64 writers.
func (b *BareRaft) Preload(n, size int) error {
	l, err := b.leader(30 * time.Second)
	if err != nil {
		return err
	}
	payload := make([]byte, size)
	return fill(n, func(_, _ int) error { return l.Apply(payload, 0).Error() })
}

// fill runs op n times in all, from 64 goroutines, and returns the first
// error.
func fill(n int, op func(w, i int) error) error {
	const writers = 64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += writers {
				errs[w] = op(w, i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops the baseline cluster.
func (b *BareRaft) Close() error {
	var errs []error
	for i := len(b.closer) - 1; i >= 0; i-- {
		errs = append(errs, b.closer[i]())
	}
	return errors.Join(errs...)
}

// Ferry is a three-node ferry site.
type Ferry struct {
	Nodes []*raftstore.Node
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// StartFerry starts a three-node site under dir (two disks per node).
func StartFerry(dir string) (*Ferry, error) {
	f := &Ferry{}
	var join string
	for i := range 3 {
		c := raftstore.DefaultConfig()
		c.NodeID = fmt.Sprintf("n%d", i+1)
		c.DataDir = filepath.Join(dir, c.NodeID)
		var err error
		if c.RaftAddr, err = freeAddr(); err != nil {
			return nil, errors.Join(err, f.Close())
		}
		c.APIAddr = "127.0.0.1:0"
		c.SnapshotThreshold = 1 << 30
		c.ScrubInterval, c.GCInterval = 0, 0
		c.MaintainInterval = 20 * time.Millisecond
		for d := range 2 {
			c.Disks = append(c.Disks, ecstore.DiskConfig{ID: fmt.Sprintf("d%d", d), Dir: filepath.Join(c.DataDir, "disks", fmt.Sprint(d))})
		}
		c.Bootstrap = i == 0
		if i > 0 {
			c.Join = []string{join}
		}
		n, err := raftstore.Open(c)
		if err != nil {
			return nil, errors.Join(err, f.Close())
		}
		f.Nodes = append(f.Nodes, n)
		join = f.Nodes[0].APIAddr()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready := true
		for _, n := range f.Nodes {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := n.Status(ctx)
			cancel()
			if err != nil || len(st.GetMembers()) != 3 || len(st.GetPools()) == 0 || len(st.GetPools()[0].GetDisks()) != 6 {
				ready = false
			}
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(errors.New("raftbench: ferry site not ready"), f.Close())
		}
		time.Sleep(20 * time.Millisecond) // benchmark set-up: polling status
	}
	return f, nil
}

// Leader returns the leading node.
func (f *Ferry) Leader() *raftstore.Node {
	for _, n := range f.Nodes {
		if n.IsLeader() {
			return n
		}
	}
	return f.Nodes[0]
}

// Run measures Propose of size-byte inline object puts (committed, applied,
// journaled and indexed) from writers goroutines on the leader.
func (f *Ferry) Run(bucket string, writers, size int, d time.Duration) (Result, error) {
	l := f.Leader()
	ctx := context.Background()
	if err := l.CreateBucket(ctx, bucket, "bench"); err != nil {
		return Result{}, err
	}
	payload := make([]byte, size)
	return drive("ferry", writers, size, d, func(w, i int) error {
		_, err := l.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, Body: &journalpb.Event_ObjectPut{ObjectPut: &journalpb.ObjectPut{
			Bucket: bucket, Key: fmt.Sprintf("w%d/%d", w, i), Size: int64(size), InlineData: payload,
		}}})
		return err
	})
}

// Preload proposes n size-byte inline object puts into bucket, from 64
// writers.
func (f *Ferry) Preload(bucket string, n, size int) error {
	l := f.Leader()
	ctx := context.Background()
	if err := l.CreateBucket(ctx, bucket, "bench"); err != nil {
		return err
	}
	payload := make([]byte, size)
	return fill(n, func(_, i int) error {
		_, err := l.Propose(ctx, &journalpb.Event{Kind: journalpb.Kind_OBJECT_PUT, Body: &journalpb.Event_ObjectPut{ObjectPut: &journalpb.ObjectPut{
			Bucket: bucket, Key: fmt.Sprintf("p%d", i), Size: int64(size), InlineData: payload,
		}}})
		return err
	})
}

// Close stops the site.
func (f *Ferry) Close() error {
	var errs []error
	for _, n := range f.Nodes {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}
