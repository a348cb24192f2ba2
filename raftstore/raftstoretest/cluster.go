// Package raftstoretest starts real ferry sites for tests: N raftstore
// nodes in one process, each with its own data directory and disks under a
// test temp dir, talking raft and gRPC over real TCP sockets on loopback.
// Production code never imports it.
package raftstoretest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Cluster is a site of nodes under test.
type Cluster struct {
	t     testing.TB
	dir   string
	Nodes []*raftstore.Node // nil while a node is down
	cfgs  []raftstore.Config
}

// Options tune a test site.
type Options struct {
	// Nodes is the number of voters. Default: 3.
	Nodes int
	// DisksPerNode. Default: 2.
	DisksPerNode int
	// Tune, when set, adjusts each node's configuration before it starts.
	Tune func(i int, c *raftstore.Config)
}

// TestConfig returns a node configuration with timeouts suited to tests on
// a loaded 2-core machine and every address on an ephemeral loopback port.
func TestConfig(id, dir string, disks int) raftstore.Config {
	c := raftstore.DefaultConfig()
	c.NodeID = id
	c.DataDir = filepath.Join(dir, "data")
	c.RaftAddr = "127.0.0.1:0"
	c.APIAddr = "127.0.0.1:0"
	c.HeartbeatTimeout = 500 * time.Millisecond
	c.ElectionTimeout = 500 * time.Millisecond
	c.LeaderLeaseTimeout = 250 * time.Millisecond
	c.MaintainInterval = 20 * time.Millisecond
	c.ScrubInterval = 0
	c.GCInterval = 0
	c.StripeBytes = 256 << 10
	c.InlineBytes = 4 << 10
	for d := range disks {
		c.Disks = append(c.Disks, ecstore.DiskConfig{ID: fmt.Sprintf("d%d", d), Dir: filepath.Join(dir, "disks", fmt.Sprintf("d%d", d))})
	}
	return c
}

// New starts a site: node 0 bootstraps, the others join through it, and
// New returns once every node is a member, has registered and the default
// pool exists.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.DisksPerNode == 0 {
		opts.DisksPerNode = 2
	}
	c := &Cluster{t: t, dir: t.TempDir(), Nodes: make([]*raftstore.Node, opts.Nodes), cfgs: make([]raftstore.Config, opts.Nodes)}
	t.Cleanup(c.Close)
	for i := range opts.Nodes {
		cfg := TestConfig(fmt.Sprintf("n%d", i+1), filepath.Join(c.dir, fmt.Sprintf("n%d", i+1)), opts.DisksPerNode)
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = []string{c.Nodes[0].APIAddr()}
		}
		if opts.Tune != nil {
			opts.Tune(i, &cfg)
		}
		c.cfgs[i] = cfg
		c.Start(i)
		if i == 0 {
			c.WaitLeader()
		}
	}
	c.WaitReady()
	return c
}

// Config returns node i's configuration (with its resolved addresses once
// it has started).
func (c *Cluster) Config(i int) raftstore.Config { return c.cfgs[i] }

// Reconfigure changes node i's configuration for its next Start.
func (c *Cluster) Reconfigure(i int, fn func(*raftstore.Config)) { fn(&c.cfgs[i]) }

// Start starts node i (again), on the addresses it had before.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	if c.Nodes[i] != nil {
		c.t.Fatalf("node %d is already running", i)
	}
	n, err := raftstore.Open(c.cfgs[i])
	if err != nil {
		c.t.Fatalf("start node %d: %v", i, err)
	}
	c.Nodes[i] = n
	// Pin the ephemeral ports so a restart keeps the node's identity.
	c.cfgs[i].APIAddr = n.APIAddr()
	c.cfgs[i].RaftAddr = n.RaftAddr()
}

// Stop stops node i (a clean shutdown; the process-kill tier lives in chaos).
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	if c.Nodes[i] == nil {
		return
	}
	if err := c.Nodes[i].Close(); err != nil {
		c.t.Logf("stop node %d: %v", i, err)
	}
	c.Nodes[i] = nil
}

// Wipe stops node i and deletes its data directory and disks.
func (c *Cluster) Wipe(i int) {
	c.t.Helper()
	c.Stop(i)
	if err := os.RemoveAll(c.cfgs[i].DataDir); err != nil {
		c.t.Fatal(err)
	}
	for _, d := range c.cfgs[i].Disks {
		if err := os.RemoveAll(d.Dir); err != nil {
			c.t.Fatal(err)
		}
	}
}

// Close stops every node.
func (c *Cluster) Close() {
	for i := range c.Nodes {
		c.Stop(i)
	}
}

// Eventually polls cond until it holds or the timeout passes. It is the
// harness's one way of waiting: on a condition, never a fixed sleep.
func (c *Cluster) Eventually(timeout time.Duration, what string, cond func() (bool, error)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		<-tick.C
	}
}

// WaitLeader waits until a running node leads, and returns its position.
func (c *Cluster) WaitLeader() int {
	c.t.Helper()
	leader := -1
	c.Eventually(30*time.Second, "a leader", func() (bool, error) {
		for i, n := range c.Nodes {
			if n != nil && n.IsLeader() {
				leader = i
				return true, nil
			}
		}
		return false, nil
	})
	return leader
}

// WaitReady waits until every running node is a voter, has registered its
// disks, and the default pool holds all of them.
func (c *Cluster) WaitReady() {
	c.t.Helper()
	running := 0
	for _, n := range c.Nodes {
		if n != nil {
			running++
		}
	}
	c.Eventually(60*time.Second, "site ready", func() (bool, error) {
		for _, n := range c.Nodes {
			if n == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := n.Status(ctx)
			cancel()
			if err != nil {
				return false, err
			}
			registered := 0
			for _, m := range st.GetMembers() {
				if m.GetApiAddr() != "" {
					registered++
				}
			}
			if len(st.GetMembers()) < len(c.Nodes) || registered < len(c.Nodes) || !poolComplete(st, c.cfgs) {
				return false, fmt.Errorf("node %s: %d members, %d registered, pools %v", st.GetNode(), len(st.GetMembers()), registered, st.GetPools())
			}
		}
		return true, nil
	})
}

func poolComplete(st *nodepb.StatusResponse, cfgs []raftstore.Config) bool {
	want := 0
	for _, c := range cfgs {
		want += len(c.Disks)
	}
	for _, p := range st.GetPools() {
		if p.GetActive() && len(p.GetDisks()) == want {
			return true
		}
	}
	return false
}

// WaitApplied waits until every running node has applied at least index.
func (c *Cluster) WaitApplied(index uint64) {
	c.t.Helper()
	c.Eventually(60*time.Second, fmt.Sprintf("every node applied %d", index), func() (bool, error) {
		for _, n := range c.Nodes {
			if n == nil {
				continue
			}
			if n.AppliedIndex() < index {
				return false, fmt.Errorf("node %s applied %d", n.ID(), n.AppliedIndex())
			}
		}
		return true, nil
	})
}
