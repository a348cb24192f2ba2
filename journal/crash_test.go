package journal

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// crashPoint is what the workload knew when the file system was cloned.
type crashPoint struct {
	fs    *vfs.MemFS
	acked uint64                      // every index up to here was acknowledged (or made durable by Reset)
	model map[uint64]*journalpb.Event // what each index holds, for the generation in force
	// reset is the target of a Reset in flight at the crash, 0 if none.
	reset uint64
}

// TestCrashRecovery runs random workloads (appends, unsynced writes, syncs,
// acks, compactions, resets, reopens) and clones the file system as a power loss would leave
// it, just before a random file-system operation. After reopening the
// clone: every acknowledged append is there, the journal is a gap-free
// prefix of what was attempted, and torn tails were truncated.
func TestCrashRecovery(t *testing.T) {
	seed := testSeed(t)
	runs := 200
	if testing.Short() {
		runs = 50
	}
	torn := 0
	for i := range runs {
		s := seed + uint64(i)
		if crashRun(t, s) {
			torn++
		}
		if t.Failed() {
			t.Fatalf("failed with seed %d (replay with -journal.seed=%d and -run 'TestCrashRecovery$'; runs count up from the seed)", s, s)
		}
	}
	t.Logf("%d runs, %d repaired a torn tail", runs, torn)
	if runs >= 100 && torn == 0 {
		t.Errorf("no run produced a torn tail: the test does not reach the repair path")
	}
}

// crashRun runs one seeded workload and checks its crash clone; it reports
// whether Open repaired a torn tail.
func crashRun(t *testing.T, seed uint64) bool {
	t.Helper()
	rng := newRand(seed)
	tearRng := newRand(seed ^ 0xabcdef)
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	cfg := memConfig(inj, MinSegmentBytes+rng.Int64N(8<<10))

	model := map[uint64]*journalpb.Event{}
	var acked, resetting uint64
	var crash *crashPoint
	ops, crashAt := 0, 1+rng.IntN(250)
	inj.SetRule(func(vfs.Op, string) error {
		ops++
		if ops == crashAt {
			crash = &crashPoint{fs: mem.CrashClone(tearRng), acked: acked, model: model, reset: resetting}
		}
		return nil
	})

	j := mustOpen(t, cfg)
	cur, err := j.Subscribe(1)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 80 && crash == nil; step++ {
		switch p := rng.IntN(100); {
		case p < 80:
			next := j.LastIndex() + 1
			evs := make([]*journalpb.Event, 1+rng.IntN(5))
			for k := range evs {
				var r *rand.Rand
				if rng.IntN(2) == 0 {
					r = rng
				}
				evs[k] = testEvent(next+uint64(k), rng.IntN(1500), 1, r)
				model[next+uint64(k)] = evs[k]
			}
			// Append acknowledges; Write acknowledges only at the next Sync.
			if rng.IntN(2) == 0 {
				acked = mustAppend(t, j, evs...)
			} else if _, err := j.Write(evs...); err != nil {
				t.Fatalf("Write: %v", err)
			}
		case p < 84:
			last := j.LastIndex()
			if err := j.Sync(); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			acked = last
		case p < 88:
			if cur != nil {
				cur.Ack(j.FirstIndex() + rng.Uint64N(j.LastIndex()-j.FirstIndex()+2))
			}
		case p < 92:
			if err := j.Compact(); err != nil {
				t.Fatalf("Compact: %v", err)
			}
		case p < 96:
			next := max(1, int64(j.LastIndex())+1+rng.Int64N(10)-5)
			resetting = uint64(next)
			if err := j.Reset(uint64(next)); err != nil {
				t.Fatalf("Reset: %v", err)
			}
			model = map[uint64]*journalpb.Event{}
			acked, resetting = uint64(next)-1, 0
		default:
			last := j.LastIndex()
			mustClose(t, j) // syncs what Write wrote
			acked = last
			j = mustOpen(t, cfg)
			cur = nil
			if rng.IntN(2) == 0 {
				if cur, err = j.Subscribe(j.FirstIndex()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	last := j.LastIndex()
	mustClose(t, j)
	if crash == nil {
		crash = &crashPoint{fs: mem.CrashClone(tearRng), acked: last, model: model}
	}

	// Reboot.
	cfg2 := cfg
	cfg2.FS = crash.fs
	j2, err := Open(cfg2)
	if err != nil {
		t.Fatalf("seed %d: Open after crash at op %d: %v", seed, crashAt, err)
	}
	first, last := j2.FirstIndex(), j2.LastIndex()
	torn := j2.Stats().TornBytes > 0
	if crash.reset != 0 && first == crash.reset && last == crash.reset-1 {
		// The reset in flight took effect.
	} else {
		if last < crash.acked {
			t.Fatalf("seed %d: after crash last index %d, but %d was acknowledged", seed, last, crash.acked)
		}
		recs := readAll(t, j2, first, 1<<20)
		if uint64(len(recs)) != last-first+1 {
			t.Fatalf("seed %d: read %d records from %d..%d", seed, len(recs), first, last)
		}
		checkRecords(t, recs, crash.model)
	}
	// The repaired journal takes appends and survives another crash.
	mustAppend(t, j2, testEvent(last+1, 100, 1, nil))
	mustClose(t, j2)
	cfg2.FS = crash.fs.CrashClone(nil)
	j3 := mustOpen(t, cfg2)
	if l := j3.LastIndex(); l != last+1 {
		t.Fatalf("seed %d: second reboot: last %d, want %d", seed, l, last+1)
	}
	mustClose(t, j3)
	return torn
}

// TestCrashDuringResetKeepsOneGeneration checks the generation rule
// directly: segments of an older generation left by an interrupted Reset
// are dropped at Open.
func TestCrashDuringResetKeepsOneGeneration(t *testing.T) {
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	cfg := memConfig(inj, MinSegmentBytes)
	j := mustOpen(t, cfg)
	if _, err := j.Subscribe(1); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 4; i++ {
		mustAppend(t, j, testEvent(i, 600, 1, newRand(i)))
	}
	// Fail the first removal of Reset: the new segment is durable, the old
	// ones are still there.
	var crashed *vfs.MemFS
	inj.SetRule(func(op vfs.Op, _ string) error {
		if op == vfs.OpRemove && crashed == nil {
			crashed = mem.CrashClone(nil)
		}
		return nil
	})
	if err := j.Reset(2); err != nil {
		t.Fatal(err)
	}
	mustClose(t, j)
	names, _ := crashed.List("/j")
	if len(names) != 4 {
		t.Fatalf("crash clone holds %v, want the 4 segments (one replaced)", names)
	}
	j2 := mustOpen(t, memConfig(crashed, MinSegmentBytes))
	defer mustClose(t, j2)
	if f, l := j2.FirstIndex(), j2.LastIndex(); f != 2 || l != 1 {
		t.Fatalf("after interrupted reset: first %d last %d, want 2 and 1", f, l)
	}
	if names, _ := crashed.List("/j"); len(names) != 1 {
		t.Fatalf("files after open: %v", names)
	}
	if _, err := j2.Read(context.Background(), 1, 1); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Read(1): %v", err)
	}
}
