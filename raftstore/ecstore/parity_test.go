package ecstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/ecstore/ecstoretest"
)

// remoteStore returns a store with no local disks, so that every shard
// goes through the cluster's transport and its partitions.
func (s *site) remoteStore(t *testing.T) *ecstore.Store {
	t.Helper()
	st, err := ecstore.New(ecstore.Config{
		Transport: s.cluster,
		Logger:    slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// trueShards returns the k+m shards of the stripe of data described by ref,
// encoded afresh.
func trueShards(t *testing.T, ref ecstore.StripeRef, data []byte) [][]byte {
	t.Helper()
	codec, err := ecstore.NewCodec(ecstore.Profile{K: ref.K, M: ref.M})
	if err != nil {
		t.Fatal(err)
	}
	shards, _, err := codec.Encode(data[:ref.DataLen], ref.CellSize)
	if err != nil {
		t.Fatal(err)
	}
	return shards
}

// TestDerivedParityIDs: a keyed pool writes parity ids derived from the
// data ids, which the manifest records and StripeRefs checks.
func TestDerivedParityIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 20))
	s := newSite(t, nil, 3, 4, ecstore.Profile{K: 8, M: 3}, 800)
	objs, _ := s.populate(t, rng, 5)
	scheme, err := ecstore.NewIDScheme(testIDKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !o.m.GetParityIdsDerived() {
			t.Fatal("keyed pool wrote content parity ids")
		}
		refs, err := ecstore.StripeRefs(o.m)
		if err != nil {
			t.Fatal(err)
		}
		off := 0
		for _, r := range refs {
			shards := trueShards(t, r, o.data[off:])
			off += r.DataLen
			for i := range r.K {
				if r.IDs[i] != scheme.Of(shards[i]) {
					t.Fatalf("data shard %d id is not its hash", i)
				}
			}
			derived := scheme.DeriveParityIDs(r.M, r.IDs[:r.K])
			for j := range r.M {
				if r.IDs[r.K+j] != derived[j] || r.IDs[r.K+j] == scheme.Of(shards[r.K+j]) {
					t.Fatalf("parity shard %d id %s, want derived %s", j, r.IDs[r.K+j], derived[j])
				}
			}
		}
	}
	// Derived ids differ per parity index and per profile.
	ids := []ecstore.ShardID{scheme.Of([]byte("a")), scheme.Of([]byte("b"))}
	p3 := scheme.DeriveParityIDs(3, ids)
	p2 := scheme.DeriveParityIDs(2, ids)
	if p3[0] == p3[1] || p3[1] == p3[2] || p3[0] == p2[0] {
		t.Fatal("derived parity ids collide across indexes or profiles")
	}

	for name, mutate := range map[string]func(m *journalpb.Manifest){
		"parity id changed": func(m *journalpb.Manifest) { m.Stripes[0].ShardIds[9][0] ^= 1 },
		"data id changed":   func(m *journalpb.Manifest) { m.Stripes[0].ShardIds[3][5] ^= 1 },
		"derived, no key":   func(m *journalpb.Manifest) { m.IdKey = nil },
		"flag cleared":      func(m *journalpb.Manifest) { m.ParityIdsDerived = false },
	} {
		m := cloneManifest(objs[0].m)
		mutate(m)
		_, err := ecstore.StripeRefs(m)
		if name == "flag cleared" {
			// Content parity ids then: the read finds parity that does
			// not hash to them and refuses it (only checked when needed).
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ecstore.ErrInvalid) {
			t.Fatalf("%s: StripeRefs = %v, want ErrInvalid", name, err)
		}
	}
}

// TestWrongParityNeverServed: a parity shard whose file is intact (header
// and CRC) but whose bytes are wrong, which a derived id cannot reveal, is
// caught by the data it rebuilds: a read needing one parity shard uses
// the other, one needing both fails cleanly, a shallow scrub cannot see
// it and a deep scrub re-encodes and repairs it.
func TestWrongParityNeverServed(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 21))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	objs, refs := s.populate(t, rng, 3)
	o := objs[0]
	rs, err := ecstore.StripeRefs(o.m)
	if err != nil {
		t.Fatal(err)
	}
	ref := rs[0]
	truth := trueShards(t, ref, o.data)
	bad := ref.Locations[4]
	wrong := bytes.Clone(truth[4])
	wrong[0] ^= 0x80
	if err := s.cluster.Disks(bad.Node).Put(bad.Disk, ref.ShardScheme(4), ref.IDs[4], wrong); err != nil {
		t.Fatal(err)
	}
	if got, err := s.cluster.Disks(bad.Node).Get(bad.Disk, ref.IDs[4]); err != nil || !bytes.Equal(got, wrong) {
		t.Fatalf("wrong parity not in place: %v", err)
	}
	st := s.remoteStore(t)

	s.cluster.PartitionDisk(ref.Locations[0])
	got, err := read(st, o.m, 0, int64(len(o.data)))
	if err != nil || !bytes.Equal(got, o.data) {
		t.Fatalf("one data shard down, parity 4 wrong: %d bytes, %v", len(got), err)
	}
	s.cluster.PartitionDisk(ref.Locations[1])
	got, err = read(st, o.m, 0, int64(ref.DataLen))
	if !errors.Is(err, ecstore.ErrTooFewShards) || len(got) != 0 {
		t.Fatalf("two data shards down, parity 4 wrong: %d bytes, %v; want ErrTooFewShards and nothing", len(got), err)
	}
	s.cluster.Heal()

	if rep := s.scrubAll(t, refs, false); rep.Corrupt != 0 {
		t.Fatalf("shallow scrub: %+v", rep)
	}
	if rep := s.scrubAll(t, refs, true); rep.Corrupt != 1 || rep.Repaired != 1 {
		t.Fatalf("deep scrub: %+v, want the wrong parity shard found and repaired", rep)
	}
	if got, err := s.cluster.Disks(bad.Node).Get(bad.Disk, ref.IDs[4]); err != nil || !bytes.Equal(got, truth[4]) {
		t.Fatalf("parity not repaired: %v", err)
	}
	s.cluster.PartitionDisk(ref.Locations[0])
	s.cluster.PartitionDisk(ref.Locations[1])
	got, err = read(st, o.m, 0, int64(len(o.data)))
	if err != nil || !bytes.Equal(got, o.data) {
		t.Fatalf("after the deep scrub, two data shards down: %v", err)
	}
	s.cluster.Heal()
	if rep := s.scrubAll(t, refs, true); rep.Corrupt+rep.Missing != 0 {
		t.Fatalf("second deep scrub: %+v", rep)
	}
}

// TestParityRepairFromParity: a lost parity shard is re-encoded from the
// data even when a data shard is missing too (rebuilt from the other
// parity shard first, and checked against its id).
func TestParityRepairFromParity(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 22))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	objs, refs := s.populate(t, rng, 4)
	files := s.shardFiles(t, objs[0].m)
	s.remove(t, files[0][1], files[0][5]) // data 1 and parity 5
	if rep := s.scrubAll(t, refs, false); rep.Missing != 2 || rep.Repaired != 2 {
		t.Fatalf("scrub: %+v", rep)
	}
	if rep := s.scrubAll(t, refs, true); rep.Corrupt+rep.Missing != 0 {
		t.Fatalf("deep scrub after repair: %+v", rep)
	}
	s.checkObjects(t, objs)
}

// TestContentParityIDsStayReadable: manifests written before parity ids
// were derived (a keyed pool, parity ids hashing the parity bytes) are
// still read, repaired and deep-scrubbed by content.
func TestContentParityIDsStayReadable(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 23))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	objs, _ := s.populate(t, rng, 2)
	scheme, err := ecstore.NewIDScheme(testIDKey)
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite every object as the old writer stored it.
	refs := ecstoretest.NewRefs()
	for _, o := range objs {
		rs, err := ecstore.StripeRefs(o.m)
		if err != nil {
			t.Fatal(err)
		}
		o.m.ParityIdsDerived = false
		for si, r := range rs {
			for i := r.K; i < r.K+r.M; i++ {
				loc := r.Locations[i]
				b, err := s.cluster.Disks(loc.Node).Get(loc.Disk, r.IDs[i])
				if err != nil {
					t.Fatal(err)
				}
				id := scheme.Of(b)
				if err := s.cluster.Disks(loc.Node).Put(loc.Disk, scheme, id, b); err != nil {
					t.Fatal(err)
				}
				if err := s.cluster.Disks(loc.Node).Remove(loc.Disk, r.IDs[i]); err != nil {
					t.Fatal(err)
				}
				o.m.Stripes[si].ShardIds[i] = id[:]
			}
		}
		rs, err = ecstore.StripeRefs(o.m)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].ParityDerived {
			t.Fatal("StripeRefs kept derived parity for a content manifest")
		}
		refs.Add(rs)
	}
	if rep := s.scrubAll(t, refs, true); rep.Corrupt+rep.Missing != 0 {
		t.Fatalf("deep scrub of content parity: %+v", rep)
	}
	st := s.remoteStore(t)
	rs, _ := ecstore.StripeRefs(objs[0].m)
	s.cluster.PartitionDisk(rs[0].Locations[0])
	s.cluster.PartitionDisk(rs[0].Locations[2])
	got, err := read(st, objs[0].m, 0, int64(len(objs[0].data)))
	if err != nil || !bytes.Equal(got, objs[0].data) {
		t.Fatalf("content parity, two data shards down: %v", err)
	}
	s.cluster.Heal()
	// A lost content-id parity shard is rebuilt under its content id.
	s.remove(t, s.shardFiles(t, objs[0].m)[0][4])
	if rep := s.scrubAll(t, refs, true); rep.Missing != 1 || rep.Repaired != 1 {
		t.Fatalf("scrub of a lost content parity shard: %+v", rep)
	}
	if _, _, err := st.Write(context.Background(), s.pool, []byte("new"), bytes.NewReader(objs[0].data)); err != nil {
		t.Fatal(err)
	}
}
