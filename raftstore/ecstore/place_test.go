package ecstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkPlacement checks the placement rule for one topology: it returns an
// error describing the first violation.
func checkPlacement(disks []Location, n int, key []byte) error {
	got, err := Place(disks, n, key)
	byNode := map[string]int{}
	distinct := map[Location]bool{}
	for _, d := range disks {
		if !distinct[d] {
			byNode[d.Node]++
		}
		distinct[d] = true
	}
	limit := (n + len(byNode) - 1) / max(len(byNode), 1)
	room := 0
	for _, c := range byNode {
		room += min(c, limit)
	}
	if len(distinct) < n || room < n {
		if !errors.Is(err, ErrTooFewDisks) {
			return fmt.Errorf("infeasible: got %v, %v; want ErrTooFewDisks", got, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("feasible, got %v", err)
	}
	if len(got) != n {
		return fmt.Errorf("%d locations, want %d", len(got), n)
	}
	seen := map[Location]bool{}
	perNode := map[string]int{}
	for _, l := range got {
		if !distinct[l] {
			return fmt.Errorf("%v is not one of the disks", l)
		}
		if seen[l] {
			return fmt.Errorf("%v chosen twice", l)
		}
		seen[l] = true
		perNode[l.Node]++
	}
	// Nodes first: the most loaded node holds at most one more shard than
	// the least loaded node that still had a free disk.
	maxLoad := 0
	for _, c := range perNode {
		maxLoad = max(maxLoad, c)
	}
	if maxLoad > limit {
		return fmt.Errorf("a node holds %d shards, cap %d", maxLoad, limit)
	}
	for node, c := range byNode {
		if perNode[node] < min(c, maxLoad-1) {
			return fmt.Errorf("node %s holds %d shards while another holds %d", node, perNode[node], maxLoad)
		}
	}
	// Determinism, and independence from the order of the input.
	shuffled := slices.Clone(disks)
	rand.New(rand.NewPCG(uint64(len(key)), 7)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	again, err := Place(shuffled, n, key)
	if err != nil || !slices.Equal(again, got) {
		return fmt.Errorf("not deterministic: %v then %v (%v)", got, again, err)
	}
	return nil
}

func topology(nodes []int) []Location {
	var out []Location
	for i, c := range nodes {
		for j := range c {
			out = append(out, Location{Node: fmt.Sprintf("n%d", i), Disk: fmt.Sprintf("d%d", j)})
		}
	}
	return out
}

// TestPlaceExhaustive checks every topology of up to 4 nodes with up to 4
// disks each, for every n up to 8, over several keys.
func TestPlaceExhaustive(t *testing.T) {
	var counts []int
	var walk func()
	checked := 0
	walk = func() {
		if len(counts) > 0 {
			disks := topology(counts)
			for n := 1; n <= 8; n++ {
				for k := range 4 {
					key := []byte(fmt.Sprintf("key-%d", k))
					if err := checkPlacement(disks, n, key); err != nil {
						t.Fatalf("nodes %v, n %d, key %q: %v", counts, n, key, err)
					}
					checked++
				}
			}
		}
		if len(counts) == 4 {
			return
		}
		for c := 1; c <= 4; c++ {
			counts = append(counts, c)
			walk()
			counts = counts[:len(counts)-1]
		}
	}
	walk()
	t.Logf("%d placements checked", checked)
}

func TestPlaceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(testSeed(t)), 2))
	for range 2000 {
		nodes := make([]int, 1+rng.IntN(8))
		for i := range nodes {
			nodes[i] = rng.IntN(6) // a node may have no disk in the pool
		}
		disks := topology(nodes)
		if len(disks) > 0 && rng.IntN(4) == 0 {
			disks = append(disks, disks[rng.IntN(len(disks))]) // duplicate
		}
		n := 1 + rng.IntN(16)
		key := fmt.Appendf(nil, "%d", rng.Uint64())
		if err := checkPlacement(disks, n, key); err != nil {
			t.Fatalf("nodes %v, n %d, key %q: %v", nodes, n, key, err)
		}
	}
}

// TestPlaceSpreads checks that keys spread shards over all disks.
func TestPlaceSpreads(t *testing.T) {
	disks := topology([]int{4, 4, 4})
	use := map[Location]int{}
	for i := range 3000 {
		got, err := Place(disks, 6, fmt.Appendf(nil, "obj-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range got {
			use[l]++
		}
	}
	for _, d := range disks { // each disk's expected share is 1500
		if use[d] < 1200 || use[d] > 1800 {
			t.Errorf("disk %v holds %d of 18000 shards, want about 1500", d, use[d])
		}
	}
}

func TestPlaceErrors(t *testing.T) {
	three := topology([]int{2, 2, 2})
	for _, tc := range []struct {
		disks []Location
		n     int
		want  error
	}{
		{three, 7, ErrTooFewDisks},
		{topology([]int{4, 1, 1}), 6, ErrTooFewDisks}, // cap 2 per node
		{nil, 1, ErrTooFewDisks},
		{three, 0, ErrInvalid},
		{append(topology([]int{2}), Location{Node: "x"}), 1, ErrInvalid},
	} {
		if _, err := Place(tc.disks, tc.n, []byte("k")); !errors.Is(err, tc.want) {
			t.Errorf("Place(%v, %d) = %v, want %v", tc.disks, tc.n, err, tc.want)
		}
	}
	// 4+2 on three nodes: one node's loss costs at most m = 2 shards.
	got, err := Place(three, 6, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < i; j++ {
			if got[i].Node == got[j].Node {
				t.Errorf("shards %d and %d share node %s: %v", i, j, got[i].Node, got)
			}
		}
	}
}
