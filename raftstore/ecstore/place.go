package ecstore

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

// Location names one disk of one node of the site.
type Location struct{ Node, Disk string }

func (l Location) String() string { return l.Node + "/" + l.Disk }

// Place chooses n distinct disks out of disks for the shards of one object,
// deterministically from key (rendezvous hashing): result[i] holds shard i
// of every stripe.
//
// The rule, in order:
//   - spread across nodes first: shards are dealt round-robin over the
//     nodes, so no node holds more than ceil(n/nodes) shards (with 4+2 on
//     3 nodes, losing one node costs at most 2 = m shards), and shards
//     0..nodes-1 land on distinct nodes;
//   - then across disks: within a node, disks are taken in rendezvous order.
//
// Node order and disk order are both ranked by SHA-256 of key and the
// location, so the result does not depend on the order of disks, and
// adding or removing a disk moves few placements. Duplicate locations
// count once. Place returns ErrTooFewDisks when there are fewer than n
// distinct disks, or when some nodes have so few disks that the per-node
// cap cannot be met; ErrInvalid for an empty node or disk name or n < 1.
func Place(disks []Location, n int, key []byte) ([]Location, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: place %d shards", ErrInvalid, n)
	}
	type ranked struct {
		loc   Location
		score uint64
	}
	byNode := map[string][]ranked{}
	seen := make(map[Location]bool, len(disks))
	for _, d := range disks {
		if d.Node == "" || d.Disk == "" {
			return nil, fmt.Errorf("%w: location %q", ErrInvalid, d.String())
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		byNode[d.Node] = append(byNode[d.Node], ranked{d, rendezvous(key, d.Node, d.Disk)})
	}
	if len(seen) < n {
		return nil, fmt.Errorf("%w: %d distinct disks for %d shards", ErrTooFewDisks, len(seen), n)
	}
	limit := (n + len(byNode) - 1) / len(byNode) // ceil(n/nodes)
	nodes := make([]ranked, 0, len(byNode))
	room := 0
	for node, ds := range byNode {
		slices.SortFunc(ds, func(a, b ranked) int { return cmpRanked(a.score, b.score, a.loc, b.loc) })
		nodes = append(nodes, ranked{Location{Node: node}, rendezvous(key, node, "")})
		room += min(len(ds), limit)
	}
	if room < n {
		return nil, fmt.Errorf("%w: %d nodes with these disks cannot hold %d shards at most %d per node",
			ErrTooFewDisks, len(byNode), n, limit)
	}
	slices.SortFunc(nodes, func(a, b ranked) int { return cmpRanked(a.score, b.score, a.loc, b.loc) })
	out := make([]Location, 0, n)
	// INVARIANT: round r gives at most one more shard to each node, so when
	// the loop ends every node holds ≤ the number of rounds ≤ limit.
	for r := 0; len(out) < n; r++ {
		for _, nd := range nodes {
			if ds := byNode[nd.loc.Node]; r < len(ds) && len(out) < n {
				out = append(out, ds[r].loc)
			}
		}
	}
	return out, nil
}

// rendezvous scores a (node, disk) pair for key; disk "" scores the node.
func rendezvous(key []byte, node, disk string) uint64 {
	h := sha256.New()
	var lenbuf [8]byte
	for _, b := range [][]byte{key, []byte(node), []byte(disk)} {
		binary.BigEndian.PutUint64(lenbuf[:], uint64(len(b)))
		h.Write(lenbuf[:])
		h.Write(b)
	}
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// cmpRanked orders by descending score, then by location for ties.
func cmpRanked(sa, sb uint64, a, b Location) int {
	if c := cmp.Compare(sb, sa); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Disk, b.Disk)
}
