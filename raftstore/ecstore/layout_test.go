package ecstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLayoutDealsEveryByteOnce: for many shapes, Locate puts the payload's
// bytes at distinct places inside the data shards, in cells of the
// documented sizes, runs end at cell ends, and the cells of shard i are
// the i-th of every row.
func TestLayoutDealsEveryByteOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(testSeed(t)), 7))
	shapes := []Layout{{4, 1, 64}, {4, 4, 1}, {4, 5, 1}, {4, 1000, 0}, {4, 1002, 0}, {4, 1024, 64}, {4, 1025, 64},
		{4, 1000, 64}, {4, 4096, 4096}, {8, 10000, 100}, {1, 777, 10}, {3, 7, 2}}
	for range 200 {
		k := 1 + rng.IntN(10)
		shapes = append(shapes, Layout{K: k, DataLen: 1 + rng.IntN(5000), Cell: rng.IntN(300)})
	}
	for _, l := range shapes {
		t.Run(fmt.Sprintf("%+v", l), func(t *testing.T) {
			ss := l.ShardSize()
			seen := make([][]bool, l.K)
			for i := range seen {
				seen[i] = make([]bool, ss)
			}
			full := l.FullRows()
			for o := range l.DataLen {
				i, off, run := l.Locate(o)
				if i < 0 || i >= l.K || off < 0 || off >= ss || run < 1 || off+run > ss {
					t.Fatalf("byte %d: shard %d offset %d run %d (shard size %d)", o, i, off, run, ss)
				}
				if seen[i][off] {
					t.Fatalf("byte %d: shard %d offset %d already holds a byte", o, i, off)
				}
				seen[i][off] = true
				cell := l.Cell
				if cell <= 0 || cell > ss {
					cell = ss
				}
				if off >= full {
					cell = ss - full // the short row's cells
				}
				if off < full && (off%cell)+run != cell || off >= full && off+run != ss {
					t.Fatalf("byte %d: run %d from offset %d does not end its cell of %d", o, run, off, cell)
				}
				if wantShard := o % (l.K * cell) / cell; off < full && i != wantShard || off >= full && i != (o-full*l.K)/cell {
					t.Fatalf("byte %d in shard %d, not the cell's", o, i)
				}
			}
			// What is not payload is the padding at the end of the last
			// shards' last cells.
			for i := range seen {
				for off, s := range seen[i] {
					if !s && off < full {
						t.Fatalf("shard %d offset %d in a full row holds no byte", i, off)
					}
				}
			}
		})
	}
}
