package journal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// failNth fails only the n-th (1-based) operation of kind op with err.
func failNth(op vfs.Op, n int, err error) func(vfs.Op, string) error {
	return failNthOn(op, "", n, err)
}

// failNthOn is failNth counting only files whose name ends in suffix.
func failNthOn(op vfs.Op, suffix string, n int, err error) func(vfs.Op, string) error {
	count := 0
	return func(o vfs.Op, name string) error {
		if o != op || !strings.HasSuffix(name, suffix) {
			return nil
		}
		count++
		if count == n {
			return err
		}
		return nil
	}
}

// TestFaultInjection fails the k-th write, sync or directory sync with EIO
// or ENOSPC while appending: the failing Append returns a classified error,
// every earlier append survives (also a crash right after), and the
// journal is consistent and usable after reopening.
func TestFaultInjection(t *testing.T) {
	eio := errors.Join(vfs.ErrInjected, syscall.EIO)
	for _, tc := range []struct {
		op     vfs.Op
		suffix string // only files with this suffix count
		opNm   string
		err    error
		errNm  string
		// sticky: after the failure the journal refuses writes until
		// reopened.
		sticky bool
	}{
		{vfs.OpWrite, "", "write", eio, "EIO", false},
		{vfs.OpWrite, "", "write", vfs.ErrNoSpace, "ENOSPC", false},
		{vfs.OpSync, segSuffix, "sync", eio, "EIO", true},
		{vfs.OpSync, segSuffix, "sync", vfs.ErrNoSpace, "ENOSPC", true},
		{vfs.OpSync, tmpSuffix, "sync-new-segment", eio, "EIO", false},
		{vfs.OpSyncDir, "", "syncdir", eio, "EIO", true},
		{vfs.OpCreate, "", "create", vfs.ErrNoSpace, "ENOSPC", false},
		{vfs.OpRename, "", "rename", eio, "EIO", false},
	} {
		for k := 1; k <= 12; k++ {
			t.Run(fmt.Sprintf("%s/%s/%d", tc.opNm, tc.errNm, k), func(t *testing.T) {
				faultRun(t, failNthOn(tc.op, tc.suffix, k, tc.err), tc.err, tc.sticky)
			})
		}
	}
}

func faultRun(t *testing.T, rule func(vfs.Op, string) error, injected error, sticky bool) {
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	cfg := memConfig(inj, MinSegmentBytes)
	j := mustOpen(t, cfg)
	if _, err := j.Subscribe(1); err != nil {
		t.Fatal(err)
	}
	model := map[uint64]*journalpb.Event{}
	inj.SetRule(rule)
	var acked uint64
	var failed error
	for i := uint64(1); i <= 20 && failed == nil; i++ {
		ev := testEvent(i, 400, 1, newRand(i)) // about two appends per segment
		model[i] = ev
		last, err := j.Append(ev)
		if err != nil {
			failed = err
			break
		}
		acked = last
	}
	if failed == nil {
		return // fewer than k operations of this kind
	}
	if !errors.Is(failed, ErrIO) || !errors.Is(failed, vfs.ErrInjected) {
		t.Fatalf("Append error %v: want ErrIO wrapping the injected error", failed)
	}
	if errors.Is(failed, ErrWritesLost) {
		t.Fatalf("Append error %v: ErrWritesLost, but nothing was written unsynced", failed)
	}
	if errors.Is(injected, syscall.ENOSPC) && !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("Append error %v does not match ENOSPC", failed)
	}
	if l := j.LastIndex(); l != acked {
		t.Fatalf("after a failed append: last %d, want %d", l, acked)
	}
	checkRecords(t, readAll(t, j, 1, 1<<20), model)

	// A crash right now keeps every acknowledged append.
	crashed := mem.CrashClone(newRand(acked))
	ackedAtCrash := acked

	inj.SetRule(nil)
	next := acked + 1
	ev := testEvent(next, 400, 1, newRand(next+1000))
	_, err := j.Append(ev)
	switch {
	case sticky && !errors.Is(err, ErrIO):
		t.Fatalf("Append after a failed sync: %v, want ErrIO until reopened", err)
	case !sticky && err != nil:
		t.Fatalf("Append after a failed write: %v", err)
	case !sticky:
		model[next] = ev
		acked = next
		checkRecords(t, readAll(t, j, 1, 1<<20), model)
	}
	mustClose(t, j)

	for _, c := range []struct {
		fs    vfs.FS
		acked uint64
	}{{mem, acked}, {crashed, ackedAtCrash}} {
		j2 := mustOpen(t, memConfig(c.fs, MinSegmentBytes))
		last := j2.LastIndex()
		if last < c.acked {
			t.Fatalf("after reopen: last %d, acknowledged %d", last, c.acked)
		}
		recs := readAll(t, j2, j2.FirstIndex(), 1<<20)
		if uint64(len(recs)) != last-j2.FirstIndex()+1 {
			t.Fatalf("after reopen: %d records for %d..%d", len(recs), j2.FirstIndex(), last)
		}
		// The failed batch may or may not be there: it was never
		// acknowledged. Whatever is there is what was attempted.
		checkRecords(t, recs, model)
		ev := testEvent(last+1, 10, 1, nil)
		if got := mustAppend(t, j2, ev); got != last+1 {
			t.Fatalf("append after reopen got %d, want %d", got, last+1)
		}
		mustClose(t, j2)
	}
}

// TestFaultDuringReset fails each step of Reset: Reset returns an error and
// a reopen finds either the old journal or the reset one.
func TestFaultDuringReset(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpRename, vfs.OpSyncDir} {
		t.Run(fmt.Sprint(op), func(t *testing.T) {
			mem := vfs.NewMem()
			inj := vfs.NewInjector(mem)
			cfg := memConfig(inj, MinSegmentBytes)
			j := mustOpen(t, cfg)
			if _, err := j.Subscribe(1); err != nil {
				t.Fatal(err)
			}
			for i := uint64(1); i <= 5; i++ {
				mustAppend(t, j, testEvent(i, 600, 1, newRand(i)))
			}
			inj.SetRule(failNth(op, 1, vfs.ErrNoSpace))
			err := j.Reset(3)
			if !errors.Is(err, ErrIO) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Reset: %v, want ErrIO and ENOSPC", err)
			}
			inj.SetRule(nil)
			mustClose(t, j)
			j2 := mustOpen(t, cfg)
			defer mustClose(t, j2)
			switch f, l := j2.FirstIndex(), j2.LastIndex(); {
			case f == 1 && l == 5:
			case f == 3 && l == 2:
			default:
				t.Fatalf("after failed Reset: first %d last %d", f, l)
			}
		})
	}
}

// TestCompactRemoveFailure fails a segment removal: Compact reports it, and
// later compactions never remove a newer segment before the failed one, so
// the files on disk stay gap-free.
func TestCompactRemoveFailure(t *testing.T) {
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	cfg := memConfig(inj, MinSegmentBytes)
	j := mustOpen(t, cfg)
	c, err := j.Subscribe(1)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 6; i++ {
		mustAppend(t, j, testEvent(i, 600, 1, newRand(i)))
	}
	inj.SetRule(failNth(vfs.OpRemove, 2, syscall.EIO))
	c.Ack(3) // removes segment 1, fails on 2 (logged)
	if f := j.FirstIndex(); f != 4 {
		t.Fatalf("first %d, want 4", f)
	}
	inj.SetRule(func(op vfs.Op, _ string) error {
		if op == vfs.OpRemove {
			return syscall.EIO
		}
		return nil
	})
	c.Ack(4)
	if err := j.Compact(); !errors.Is(err, ErrIO) {
		t.Fatalf("Compact with failing removes: %v", err)
	}
	crashed := mem.CrashClone(nil)
	j2 := mustOpen(t, memConfig(crashed, MinSegmentBytes))
	if f, l := j2.FirstIndex(), j2.LastIndex(); f != 2 || l != 6 {
		t.Fatalf("crash with pending removals: first %d last %d, want 2 and 6", f, l)
	}
	mustClose(t, j2)
	inj.SetRule(nil)
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	names, _ := mem.List("/j")
	if len(names) != 2 || names[0] != segName(5) {
		t.Fatalf("files after retry: %v", names)
	}
	mustClose(t, j)
}

// TestFailedSyncAfterWrites: a Sync that fails after unsynced Writes
// leaves the journal refusing every write and sync until reopened, and a
// crash then keeps at least what was synced before, as a gap-free prefix.
func TestFailedSyncAfterWrites(t *testing.T) {
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	j := mustOpen(t, memConfig(inj, 1<<20))
	model := map[uint64]*journalpb.Event{}
	for i := uint64(1); i <= 3; i++ {
		model[i] = testEvent(i, 100, 1, newRand(i))
	}
	mustAppend(t, j, model[1])
	for i := uint64(2); i <= 3; i++ {
		if _, err := j.Write(model[i]); err != nil {
			t.Fatal(err)
		}
	}
	checkRecords(t, readAll(t, j, 1, 1<<20), model) // written is readable at once
	inj.SetRule(failNth(vfs.OpSync, 1, syscall.EIO))
	if err := j.Sync(); !errors.Is(err, ErrWritesLost) || !errors.Is(err, ErrIO) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync = %v, want ErrWritesLost (an ErrIO) wrapping EIO", err)
	}
	inj.SetRule(nil)
	if _, err := j.Write(testEvent(4, 10, 1, nil)); !errors.Is(err, ErrIO) {
		t.Fatalf("Write after a failed Sync = %v, want ErrIO", err)
	}
	if _, err := j.Append(testEvent(4, 10, 1, nil)); !errors.Is(err, ErrIO) {
		t.Fatalf("Append after a failed Sync = %v, want ErrIO", err)
	}
	if err := j.Sync(); !errors.Is(err, ErrIO) {
		t.Fatalf("Sync after a failed Sync = %v, want ErrIO", err)
	}
	crashed := mem.CrashClone(newRand(7))
	if err := j.Close(); err != nil {
		t.Fatalf("Close after a failed Sync: %v", err)
	}
	j2 := mustOpen(t, memConfig(crashed, 1<<20))
	if l := j2.LastIndex(); l < 1 || l > 3 {
		t.Fatalf("after the crash: last %d, want 1..3", l)
	}
	checkRecords(t, readAll(t, j2, 1, 1<<20), model)
	mustClose(t, j2)
}

// TestWriteSyncedByRollAndClose: batches Write leaves unsynced become
// durable when the segment fills (before the next one exists) and at
// Close, so a crash after either keeps them.
func TestWriteSyncedByRollAndClose(t *testing.T) {
	mem := vfs.NewMem()
	j := mustOpen(t, memConfig(mem, MinSegmentBytes))
	if _, err := j.Subscribe(1); err != nil { // keeps every segment
		t.Fatal(err)
	}
	var last uint64
	for i := uint64(1); j.Stats().Segments < 3; i++ {
		if i > 1000 {
			t.Fatal("no third segment after 1000 writes")
		}
		var err error
		if last, err = j.Write(testEvent(i, 400, 1, newRand(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Every segment but the active one is complete after a crash.
	j2 := mustOpen(t, memConfig(mem.CrashClone(nil), MinSegmentBytes))
	segs := j2.Stats().Segments
	if segs < 2 || j2.LastIndex() < j2.FirstIndex() {
		t.Fatalf("after a crash: %d segments, range %d..%d", segs, j2.FirstIndex(), j2.LastIndex())
	}
	mustClose(t, j2)
	mustClose(t, j)
	j3 := mustOpen(t, memConfig(mem.CrashClone(nil), MinSegmentBytes))
	if l := j3.LastIndex(); l != last {
		t.Fatalf("after Close and a crash: last %d, want %d", l, last)
	}
	mustClose(t, j3)
}
