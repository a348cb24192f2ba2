// Package ecstoretest provides an in-process site for testing code that
// uses ecstore: real ecstore.Disks for several nodes on one vfs.FS, reached
// through a Transport with fault controls. Production code never imports it.
package ecstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sync"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// ErrPartitioned is what the transport returns for a partitioned node.
var ErrPartitioned = errors.New("ecstoretest: node partitioned")

// Cluster is a site of nodes whose disks live at /<node>/<disk> on one FS,
// and an ecstore.Transport to them. It is safe for concurrent use.
type Cluster struct {
	fs    vfs.FS
	nodes []string
	disks map[string]*ecstore.Disks
	mu    struct {
		sync.Mutex
		down     map[string]bool
		diskDown map[ecstore.Location]bool
		puts     int
		gets     int
	}
}

var _ ecstore.Transport = (*Cluster)(nil)

// NewCluster creates nodes with disksPerNode disks each (named d0, d1, …)
// on fs.
func NewCluster(fs vfs.FS, nodes []string, disksPerNode int) (*Cluster, error) {
	c := &Cluster{fs: fs, nodes: append([]string(nil), nodes...), disks: map[string]*ecstore.Disks{}}
	c.mu.down = map[string]bool{}
	c.mu.diskDown = map[ecstore.Location]bool{}
	for _, n := range nodes {
		var cfg []ecstore.DiskConfig
		for i := range disksPerNode {
			id := fmt.Sprintf("d%d", i)
			cfg = append(cfg, ecstore.DiskConfig{ID: id, Dir: path.Join("/", n, id)})
		}
		d, err := ecstore.OpenDisks(fs, n, cfg)
		if err != nil {
			return nil, err
		}
		c.disks[n] = d
	}
	return c, nil
}

// Nodes returns the node ids.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.nodes...) }

// Disks returns a node's disks.
func (c *Cluster) Disks(node string) *ecstore.Disks { return c.disks[node] }

// Locations returns every disk of every node.
func (c *Cluster) Locations() []ecstore.Location {
	var out []ecstore.Location
	for _, n := range c.nodes {
		for _, d := range c.disks[n].IDs() {
			out = append(out, ecstore.Location{Node: n, Disk: d})
		}
	}
	return out
}

// Store returns a store for node that reaches the others through c.
func (c *Cluster) Store(node string, stripeSize int) (*ecstore.Store, error) {
	return ecstore.New(ecstore.Config{Node: node, Local: c.disks[node], Transport: c, StripeSize: stripeSize})
}

// Partition makes node unreachable through the transport.
func (c *Cluster) Partition(node string) { c.set(func() { c.mu.down[node] = true }) }

// PartitionDisk makes one disk unreachable through the transport.
func (c *Cluster) PartitionDisk(loc ecstore.Location) { c.set(func() { c.mu.diskDown[loc] = true }) }

// Heal makes every node and disk reachable again.
func (c *Cluster) Heal() {
	c.set(func() { clear(c.mu.down); clear(c.mu.diskDown) })
}

func (c *Cluster) set(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn()
}

// Calls returns how many PutShard and GetShard calls reached a node.
func (c *Cluster) Calls() (puts, gets int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.puts, c.mu.gets
}

func (c *Cluster) route(loc ecstore.Location, put bool) (*ecstore.Disks, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.disks[loc.Node]
	switch {
	case d == nil:
		return nil, fmt.Errorf("ecstoretest: no node %q", loc.Node)
	case c.mu.down[loc.Node] || c.mu.diskDown[loc]:
		return nil, fmt.Errorf("%w: %s", ErrPartitioned, loc)
	}
	if put {
		c.mu.puts++
	} else {
		c.mu.gets++
	}
	return d, nil
}

// PutShard implements ecstore.Transport.
func (c *Cluster) PutShard(ctx context.Context, loc ecstore.Location, scheme ecstore.IDScheme, id ecstore.ShardID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The receiving side checks the id, as raftstore's node API does.
	if !scheme.Verify(id, data) {
		return fmt.Errorf("%w: shard bytes do not hash to id %s", ecstore.ErrCorrupt, id)
	}
	d, err := c.route(loc, true)
	if err != nil {
		return err
	}
	return d.Put(loc.Disk, scheme, id, data)
}

// GetShard implements ecstore.Transport.
func (c *Cluster) GetShard(ctx context.Context, loc ecstore.Location, id ecstore.ShardID) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := c.route(loc, false)
	if err != nil {
		return nil, err
	}
	return d.Get(loc.Disk, id)
}

// Refs is an in-memory RefSource: the shards each location should hold,
// as the raft state machine's index would record them.
type Refs struct {
	mu   sync.Mutex
	refs map[ecstore.Location]map[ecstore.ShardID]ecstore.StripeRef
}

var _ ecstore.RefSource = (*Refs)(nil)

// NewRefs returns an empty index.
func NewRefs() *Refs {
	return &Refs{refs: map[ecstore.Location]map[ecstore.ShardID]ecstore.StripeRef{}}
}

// Add records every shard of a manifest.
func (r *Refs) Add(refs []ecstore.StripeRef) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range refs {
		for i, id := range ref.IDs {
			m := r.refs[ref.Locations[i]]
			if m == nil {
				m = map[ecstore.ShardID]ecstore.StripeRef{}
				r.refs[ref.Locations[i]] = m
			}
			m[id] = ref
		}
	}
}

// Referenced reports whether id is expected at node/disk.
func (r *Refs) Referenced(node, disk string, id ecstore.ShardID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.refs[ecstore.Location{Node: node, Disk: disk}][id]
	return ok
}

// ShardsOn implements ecstore.RefSource.
func (r *Refs) ShardsOn(node, disk string, fn func(ecstore.ShardID, ecstore.StripeRef) error) error {
	r.mu.Lock()
	m := r.refs[ecstore.Location{Node: node, Disk: disk}]
	type entry struct {
		id  ecstore.ShardID
		ref ecstore.StripeRef
	}
	list := make([]entry, 0, len(m))
	for id, ref := range m {
		list = append(list, entry{id, ref})
	}
	r.mu.Unlock()
	slices.SortFunc(list, func(a, b entry) int { return bytes.Compare(a.id[:], b.id[:]) })
	for _, e := range list {
		if err := fn(e.id, e.ref); err != nil {
			return err
		}
	}
	return nil
}
