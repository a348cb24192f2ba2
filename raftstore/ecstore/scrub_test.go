package ecstore_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/ecstore/ecstoretest"
)

type object struct {
	m    *journalpb.Manifest
	data []byte
}

// populate writes count objects of 1 to 4 stripes and records them in an
// index.
func (s *site) populate(t *testing.T, rng *rand.Rand, count int) ([]object, *ecstoretest.Refs) {
	t.Helper()
	st := s.store(t, "n1")
	refs := ecstoretest.NewRefs()
	var objs []object
	for i := range count {
		data := randBytes(rng, 1+rng.IntN(4*s.pool.StripeSize))
		m := write(t, st, s.pool, fmt.Sprint("obj", i), data)
		r, err := ecstore.StripeRefs(m)
		if err != nil {
			t.Fatal(err)
		}
		refs.Add(r)
		objs = append(objs, object{m, data})
	}
	return objs, refs
}

// remove deletes shard files, as a lost disk sector or a careless operator.
func (s *site) remove(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if err := s.mem.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *site) scrubAll(t *testing.T, refs ecstore.RefSource, deep bool) ecstore.ScrubReport {
	t.Helper()
	var total ecstore.ScrubReport
	for _, n := range s.cluster.Nodes() {
		rep, err := s.store(t, n).Scrub(context.Background(), refs, ecstore.ScrubOptions{Deep: deep})
		if err != nil {
			t.Fatal(err)
		}
		for d, err := range rep.DiskErrors {
			t.Errorf("scrub %s: disk %s: %v", n, d, err)
		}
		total.Checked += rep.Checked
		total.Corrupt += rep.Corrupt
		total.Missing += rep.Missing
		total.Repaired += rep.Repaired
		total.Unrepairable += rep.Unrepairable
	}
	return total
}

func (s *site) checkObjects(t *testing.T, objs []object) {
	t.Helper()
	st := s.store(t, "n2")
	for i, o := range objs {
		got, err := read(st, o.m, 0, int64(len(o.data)))
		if err != nil || !bytes.Equal(got, o.data) {
			t.Fatalf("object %d: read %d bytes, %v", i, len(got), err)
		}
	}
}

// TestScrubBitFlips is T4's bit-rot check: random bit flips across the
// shard files, at most m shards hit per stripe, are all detected by the
// checksums and repaired, and reads are byte-identical afterwards.
func TestScrubBitFlips(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 6))
	flips, objects := 10000, 2000
	if testing.Short() {
		flips, objects = 1000, 200
	}
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 256)
	objs, refs := s.populate(t, rng, objects)
	var stripes [][]string
	for _, o := range objs {
		stripes = append(stripes, s.shardFiles(t, o.m)...)
	}
	type flip struct {
		file string
		bit  int
	}
	// Shards with equal content at one location share a file (an
	// all-padding shard, say), so a file may belong to several stripes.
	inStripes := map[string][]int{}
	for si, files := range stripes {
		for _, f := range files {
			inStripes[f] = append(inStripes[f], si)
		}
	}
	done := map[flip]bool{}
	hit := map[string]bool{}
	hitIn := make([]int, len(stripes)) // corrupted files per stripe
	for len(done) < flips {
		si := rng.IntN(len(stripes))
		f := flip{stripes[si][rng.IntN(6)], rng.IntN((ecstore.ShardHeaderSize + 64) * 8)}
		if done[f] {
			continue
		}
		if !hit[f.file] {
			full := false
			for _, sj := range inStripes[f.file] {
				full = full || hitIn[sj] == s.pool.Profile.M
			}
			if full {
				continue // keep every stripe recoverable
			}
		}
		b, _ := vfs.ReadFile(s.mem, f.file)
		if f.bit >= len(b)*8 {
			continue
		}
		if err := s.mem.Corrupt(f.file, func(b []byte) []byte { b[f.bit/8] ^= 1 << (f.bit % 8); return b }); err != nil {
			t.Fatal(err)
		}
		if !hit[f.file] {
			for _, sj := range inStripes[f.file] {
				hitIn[sj]++
			}
		}
		done[f], hit[f.file] = true, true
	}
	rep := s.scrubAll(t, refs, false)
	t.Logf("%d flips in %d files: %+v", flips, len(hit), rep)
	if rep.Corrupt != len(hit) || rep.Repaired != len(hit) || rep.Missing != 0 || rep.Unrepairable != 0 {
		t.Fatalf("scrub found %d corrupt, repaired %d, %d missing, %d unrepairable; want %d corrupt and repaired",
			rep.Corrupt, rep.Repaired, rep.Missing, rep.Unrepairable, len(hit))
	}
	distinct := map[string]bool{}
	for _, files := range stripes {
		for _, f := range files {
			distinct[f] = true
		}
	}
	if rep.Checked != len(distinct) {
		t.Fatalf("checked %d shards, want %d", rep.Checked, len(distinct))
	}
	rep = s.scrubAll(t, refs, true)
	if rep.Corrupt+rep.Missing+rep.Repaired+rep.Unrepairable != 0 {
		t.Fatalf("second scrub: %+v", rep)
	}
	s.checkObjects(t, objs)
}

func wipe(t *testing.T, mem *vfs.MemFS, dir string) int {
	t.Helper()
	n := 0
	subs, err := mem.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		names, _ := mem.List(path.Join(dir, sub))
		for _, name := range names {
			if err := mem.Remove(path.Join(dir, sub, name)); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if err := mem.Remove(path.Join(dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestScrubRebuildsLostDisk(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 7))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 512)
	objs, refs := s.populate(t, rng, 40)

	// A wiped disk: every shard on it is missing and rebuilt.
	lost := wipe(t, s.mem, "/n2/d0")
	rep := s.scrubAll(t, refs, false)
	if lost == 0 || rep.Missing != lost || rep.Repaired != lost || rep.Unrepairable != 0 {
		t.Fatalf("wiped %d shards; scrub %+v", lost, rep)
	}
	// A replaced disk: the directory is gone and comes back empty.
	lost = wipe(t, s.mem, "/n3/d1")
	if err := s.mem.Remove("/n3/d1"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.store(t, "n3").Scrub(context.Background(), refs, ecstore.ScrubOptions{})
	if err != nil || rep.DiskErrors["d1"] == nil || rep.DiskErrors["d0"] != nil {
		t.Fatalf("scrub with a disk gone: %+v, %v", rep, err)
	}
	if err := s.mem.MkdirAll("/n3/d1"); err != nil {
		t.Fatal(err)
	}
	rep = s.scrubAll(t, refs, false)
	if rep.Missing != lost || rep.Repaired != lost || rep.Unrepairable != 0 {
		t.Fatalf("replaced disk of %d shards; scrub %+v", lost, rep)
	}
	s.checkObjects(t, objs)
	// Everything is back: reads work with a whole node lost.
	s.cluster.Partition("n1")
	s.checkObjects(t, objs)
}

// TestScrubDeep: a shard whose file is self-consistent (header and CRC)
// but holds the wrong bytes is found only by a deep scrub.
func TestScrubDeep(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 8))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	objs, refs := s.populate(t, rng, 3)
	ref, _ := ecstore.StripeRefs(objs[0].m)
	loc := ref[0].Locations[2]
	wrong := bytes.Repeat([]byte{0xee}, (ref[0].DataLen+3)/4)
	// Put refuses other bytes over an intact shard, so the stale file goes first.
	if err := s.cluster.Disks(loc.Node).Remove(loc.Disk, ref[0].IDs[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.cluster.Disks(loc.Node).Put(loc.Disk, ref[0].Scheme, ref[0].IDs[2], wrong); err != nil {
		t.Fatal(err)
	}
	if rep := s.scrubAll(t, refs, false); rep.Corrupt != 0 {
		t.Fatalf("shallow scrub: %+v", rep)
	}
	if rep := s.scrubAll(t, refs, true); rep.Corrupt != 1 || rep.Repaired != 1 {
		t.Fatalf("deep scrub: %+v", rep)
	}
	got, err := s.cluster.Disks(loc.Node).Get(loc.Disk, ref[0].IDs[2])
	if err != nil || ref[0].Scheme.Of(got) != ref[0].IDs[2] {
		t.Fatalf("shard not repaired: %v", err)
	}
}

func TestScrubUnrepairable(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 9))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	objs, refs := s.populate(t, rng, 1)
	s.remove(t, s.shardFiles(t, objs[0].m)[0][:3]...)
	rep := s.scrubAll(t, refs, false)
	if rep.Missing != 3 || rep.Unrepairable != 3 || rep.Repaired != 0 {
		t.Fatalf("three shards of a 4+2 stripe lost: %+v", rep)
	}
}

func TestScrubCanceled(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 10))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	_, refs := s.populate(t, rng, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.store(t, "n1").Scrub(ctx, refs, ecstore.ScrubOptions{}); err == nil {
		t.Fatal("scrub with a canceled context succeeded")
	}
}

func TestCollectGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 11))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	kept, refs := s.populate(t, rng, 5)
	st := s.store(t, "n1")
	garbage := write(t, st, s.pool, "garbage", randBytes(rng, 1500))
	// A temporary file a crash left behind.
	if err := s.mem.MkdirAll("/n1/d0/ab"); err != nil {
		t.Fatal(err)
	}
	tmp, err := s.mem.Create("/n1/d0/ab/ab" + strings.Repeat("0", 62) + ".tmp7")
	if err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	gref, _ := ecstore.StripeRefs(garbage)
	onN1 := 0
	for _, r := range gref {
		for _, l := range r.Locations {
			if l.Node == "n1" {
				onN1++
			}
		}
	}
	referenced := func(disk string, id ecstore.ShardID) bool { return refs.Referenced("n1", disk, id) }
	ctx := context.Background()
	// Young garbage stays.
	if n, err := st.CollectGarbage(ctx, referenced, time.Hour, time.Now()); err != nil || n != 0 {
		t.Fatalf("young garbage: removed %d, %v", n, err)
	}
	n, err := st.CollectGarbage(ctx, referenced, time.Hour, time.Now().Add(2*time.Hour))
	if err != nil || n != onN1+1 {
		t.Fatalf("removed %d files, %v; want %d shards and 1 temporary file", n, err, onN1)
	}
	for _, r := range gref {
		for i, l := range r.Locations {
			if l.Node == "n1" {
				if _, err := s.cluster.Disks("n1").Get(l.Disk, r.IDs[i]); err == nil {
					t.Fatalf("garbage shard %d still on %v", i, l)
				}
			}
		}
	}
	s.checkObjects(t, kept)
	if rep := s.scrubAll(t, refs, true); rep.Corrupt+rep.Missing != 0 {
		t.Fatalf("GC removed referenced shards: %+v", rep)
	}
}
