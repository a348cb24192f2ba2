package raftstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
	"github.com/ferrydr/ferry/raftstore/raftstoretest"
)

var seedFlag = flag.Uint64("raftstore.seed", 0, "seed for randomized raftstore tests (0: time-based)")

func seed(t *testing.T) *rand.Rand {
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -raftstore.seed=%d)", s, s)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// put writes bucket/key. Like any client of an idempotent put, it retries
// a put whose outcome is unknown (leadership moved while it was in flight,
// which a loaded two-core machine provokes) or that found no leader.
func put(ctx context.Context, n *raftstore.Node, bucket, key string, data []byte) (*nodepb.ObjectInfo, error) {
	for {
		info, err := n.PutObject(ctx, &nodepb.PutObjectHeader{Bucket: bucket, Key: key, Size: int64(len(data))}, bytes.NewReader(data))
		if (!errors.Is(err, raftstore.ErrIndeterminate) && !errors.Is(err, raftstore.ErrNotLeader)) || ctx.Err() != nil {
			return info, err
		}
	}
}

func get(ctx context.Context, n *raftstore.Node, bucket, key string) ([]byte, error) {
	var buf bytes.Buffer
	err := n.GetObject(ctx, bucket, key, 0, -1, &buf, nil)
	return buf.Bytes(), err
}

// readBack fails the test unless every key of want reads back from n
// byte for byte.
func readBack(ctx context.Context, t *testing.T, n *raftstore.Node, bucket string, want map[string][]byte, when string) {
	t.Helper()
	for key, data := range want {
		got, err := get(ctx, n, bucket, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %s: %v (equal=%v)", when, key, err, bytes.Equal(got, data))
		}
	}
}

func payload(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestSiteWritesAndReadsThroughAnyNode(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{})
	ctx := ctxT(t, 2*time.Minute)
	if err := c.Nodes[1].CreateBucket(ctx, "photos", "test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes[2].CreateBucket(ctx, "photos", "test"); !errors.Is(err, raftstore.ErrBucketExists) {
		t.Fatalf("second create: %v, want ErrBucketExists", err)
	}
	// Sizes around the inline limit (4 KiB) and the stripe (256 KiB).
	sizes := []int{0, 1, 4 << 10, 4<<10 + 1, 256 << 10, 256<<10 + 1, 3<<20 + 17}
	want := map[string][]byte{}
	for i, size := range sizes {
		key := fmt.Sprintf("obj-%d", i)
		data := payload(rng, size)
		info, err := put(ctx, c.Nodes[i%3], "photos", key, data)
		if err != nil {
			t.Fatalf("put %s (%d bytes) via node %d: %v", key, size, i%3, err)
		}
		if info.GetSize() != int64(size) || info.GetErasureCoded() != (size > 4<<10) {
			t.Fatalf("put %s: info %v", key, info)
		}
		// The modification time a put reports, through a follower too, is
		// the one the site committed.
		head, err := c.Nodes[(i+1)%3].HeadObject(ctx, "photos", key)
		if err != nil {
			t.Fatal(err)
		}
		if info.GetMtimeUnixNanos() == 0 || info.GetMtimeUnixNanos() != head.GetMtimeUnixNanos() {
			t.Fatalf("put %s via node %d reported mtime %d; the site holds %d", key, i%3, info.GetMtimeUnixNanos(), head.GetMtimeUnixNanos())
		}
		want[key] = data
	}
	for i, n := range c.Nodes {
		for key, data := range want {
			got, err := get(ctx, n, "photos", key)
			if err != nil {
				t.Fatalf("get %s via node %d: %v", key, i, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("get %s via node %d: %d bytes differ from the %d written", key, i, len(got), len(data))
			}
		}
	}
	// A range read of an erasure-coded object across a stripe boundary.
	var buf bytes.Buffer
	big := want["obj-6"]
	if err := c.Nodes[0].GetObject(ctx, "photos", "obj-6", 256<<10-10, 100, &buf, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), big[256<<10-10:256<<10+90]) {
		t.Fatal("range read returned wrong bytes")
	}
	objs, truncated, err := c.Nodes[2].ListObjects(ctx, "photos", "obj-", "", 3)
	if err != nil || len(objs) != 3 || !truncated || objs[0].GetKey() != "obj-0" {
		t.Fatalf("list = %v, %v, %v", objs, truncated, err)
	}
	// Delete, then the bucket can go.
	for key := range want {
		if _, err := c.Nodes[1].DeleteObject(ctx, "photos", key, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(ctx, c.Nodes[2], "photos", "obj-1"); !errors.Is(err, raftstore.ErrNoSuchKey) {
		t.Fatalf("get after delete: %v, want ErrNoSuchKey", err)
	}
	if err := c.Nodes[0].DeleteBucket(ctx, "photos", "test"); err != nil {
		t.Fatal(err)
	}
	// Replicas converge on the same state.
	assertSameState(t, c)
}

func assertSameState(t *testing.T, c *raftstoretest.Cluster) {
	t.Helper()
	var leader *raftstore.Node
	for _, n := range c.Nodes {
		if n != nil && n.IsLeader() {
			leader = n
		}
	}
	if leader == nil {
		c.WaitLeader()
		assertSameState(t, c)
		return
	}
	target := leader.AppliedIndex()
	c.WaitApplied(target)
	// Other nodes may have applied further; compare at quiescence.
	c.Eventually(30*time.Second, "identical state on every replica", func() (bool, error) {
		var first [32]byte
		var firstIdx uint64
		for i, n := range c.Nodes {
			if n == nil {
				continue
			}
			idx, h, err := n.StateHash()
			if err != nil {
				return false, err
			}
			if i == 0 || firstIdx == 0 {
				first, firstIdx = h, idx
				continue
			}
			if idx != firstIdx || h != first {
				return false, fmt.Errorf("node %s at %d hash %x, first at %d hash %x", n.ID(), idx, h[:4], firstIdx, first[:4])
			}
		}
		return true, nil
	})
}

// TestLeaderKilledDuringWrites: writers stream puts through every node; the
// leader is stopped mid-stream. Every acknowledged write is readable
// afterwards, byte for byte; a new leader takes writes; the old leader,
// restarted, catches up.
func TestLeaderKilledDuringWrites(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{})
	ctx := ctxT(t, 3*time.Minute)
	if err := c.Nodes[0].CreateBucket(ctx, "ledger", "test"); err != nil {
		t.Fatal(err)
	}
	leader := c.WaitLeader()
	type ack struct {
		key string
		sum [32]byte
	}
	var (
		mu     sync.Mutex
		acked  []ack
		failed int
	)
	stopWriters := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wrng := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopWriters:
					return
				default:
				}
				// Writers go through the followers, which keep running.
				via := (leader + 1 + w%2) % 3
				size := 100 + wrng.IntN(8<<10) // some inline, some erasure coded
				data := payload(wrng, size)
				key := fmt.Sprintf("w%d/%05d", w, i)
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := put(wctx, c.Nodes[via], "ledger", key, data)
				cancel()
				mu.Lock()
				if err == nil {
					acked = append(acked, ack{key, sha256.Sum256(data)})
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	waitAcked := func(n int) {
		c.Eventually(60*time.Second, fmt.Sprintf("%d acknowledged writes", n), func() (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= n, nil
		})
	}
	waitAcked(30)
	t.Logf("stopping leader n%d", leader+1)
	c.Stop(leader)
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	newLeader := c.WaitLeader()
	if newLeader == leader {
		t.Fatal("stopped node still leads")
	}
	waitAcked(before + 30) // the new leader serves writes
	close(stopWriters)
	wg.Wait()
	mu.Lock()
	t.Logf("acknowledged %d writes (%d before the kill), %d failed or indeterminate", len(acked), before, failed)
	final := append([]ack(nil), acked...)
	mu.Unlock()

	c.Start(leader)
	readAll := func(n *raftstore.Node) {
		for _, a := range final {
			got, err := get(ctx, n, "ledger", a.key)
			if err != nil {
				t.Fatalf("acknowledged write %s lost on %s: %v", a.key, n.ID(), err)
			}
			if sha256.Sum256(got) != a.sum {
				t.Fatalf("acknowledged write %s reads back different bytes on %s", a.key, n.ID())
			}
		}
	}
	readAll(c.Nodes[newLeader])
	readAll(c.Nodes[leader]) // restarted: catches up, serves reads
	assertSameState(t, c)
}

// TestWipedNodeRestoredFromSnapshot: after the log is compacted, a node
// whose disks are wiped rejoins, is restored from a snapshot plus the log,
// and scrub rebuilds its lost shards.
func TestWipedNodeRestoredFromSnapshot(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{Tune: func(_ int, cfg *raftstore.Config) {
		cfg.TrailingLogs = 16
		cfg.SnapshotThreshold = 1 << 20 // only the explicit snapshot below
	}})
	ctx := ctxT(t, 3*time.Minute)
	if err := c.Nodes[0].CreateBucket(ctx, "vault", "test"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range 60 {
		size := 10 + rng.IntN(40<<10)
		data := payload(rng, size)
		key := fmt.Sprintf("k%03d", i)
		if _, err := put(ctx, c.Nodes[i%3], "vault", key, data); err != nil {
			t.Fatal(err)
		}
		want[key] = data
	}
	victim := (c.WaitLeader() + 1) % 3
	for i, n := range c.Nodes {
		if i != victim {
			if err := n.Snapshot(ctx); err != nil {
				t.Fatalf("snapshot on %s: %v", n.ID(), err)
			}
		}
	}
	c.Wipe(victim)
	// Writes go on while the node is away; it must get them from the log.
	for i := 60; i < 80; i++ {
		data := payload(rng, 100)
		key := fmt.Sprintf("k%03d", i)
		if _, err := put(ctx, c.Nodes[(victim+1)%3], "vault", key, data); err != nil {
			t.Fatal(err)
		}
		want[key] = data
	}
	c.Start(victim)
	n := c.Nodes[victim]
	leaderIdx := c.Nodes[c.WaitLeader()].AppliedIndex()
	c.WaitApplied(leaderIdx)
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.GetJournalFirst() <= 1 {
		t.Fatalf("journal of the wiped node starts at %d; want it restored from a snapshot", st.GetJournalFirst())
	}
	for key, data := range want {
		got, err := get(ctx, n, "vault", key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("restored node: %s: %v (equal=%v)", key, err, bytes.Equal(got, data))
		}
	}
	rep, err := n.Scrub(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing == 0 || rep.Repaired != rep.Missing || rep.Unrepairable != 0 {
		t.Fatalf("scrub after wipe: %+v; want every missing shard repaired", rep)
	}
	rep, err = n.Scrub(ctx, true)
	if err != nil || rep.Missing != 0 || rep.Corrupt != 0 {
		t.Fatalf("second scrub: %+v, %v; want a clean disk", rep, err)
	}
	assertSameState(t, c)
}

// TestLostIndexRestoredFromLocalSnapshot: the index commits without fsync
// and relies on the raft log and snapshots to recover. A node whose index
// is gone (or behind its newest snapshot) while the log before that
// snapshot was compacted must restore from its own snapshot and replay the
// log; its journal, which already holds the events, is kept and gets no
// duplicates.
func TestLostIndexRestoredFromLocalSnapshot(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{Tune: func(_ int, cfg *raftstore.Config) {
		cfg.TrailingLogs = 4
		cfg.SnapshotThreshold = 1 << 20 // only the explicit snapshots below
	}})
	ctx := ctxT(t, 3*time.Minute)
	if err := c.Nodes[0].CreateBucket(ctx, "ledger", "test"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	write := func(from, to int) {
		for i := from; i < to; i++ {
			data := payload(rng, 10+rng.IntN(2000))
			key := fmt.Sprintf("k%03d", i)
			if _, err := put(ctx, c.Nodes[i%3], "ledger", key, data); err != nil {
				t.Fatal(err)
			}
			want[key] = data
		}
	}
	write(0, 40)
	victim := (c.WaitLeader() + 1) % 3
	c.WaitApplied(c.Nodes[c.WaitLeader()].AppliedIndex())
	if err := c.Nodes[victim].Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	write(40, 50) // after the snapshot: only in the log
	c.WaitApplied(c.Nodes[c.WaitLeader()].AppliedIndex())
	before, err := c.Nodes[victim].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(victim)
	if err := os.RemoveAll(filepath.Join(c.Config(victim).DataDir, "index")); err != nil {
		t.Fatal(err)
	}
	c.Start(victim)
	n := c.Nodes[victim]
	write(50, 60)
	c.WaitApplied(c.Nodes[c.WaitLeader()].AppliedIndex())
	readBack(ctx, t, n, "ledger", want, "after index loss")
	after, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.GetJournalFirst() != before.GetJournalFirst() {
		t.Fatalf("journal restarted at %d (was %d); it should have been kept", after.GetJournalFirst(), before.GetJournalFirst())
	}
	leader := c.Nodes[c.WaitLeader()]
	ls, err := leader.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Eventually(30*time.Second, "journal caught up without duplicates", func() (bool, error) {
		st, err := n.Status(ctx)
		return err == nil && st.GetJournalLast() == ls.GetJournalLast(), err
	})
	assertSameState(t, c)
}

func TestNodeAPIRejectsBadRequests(t *testing.T) {
	c := raftstoretest.New(t, raftstoretest.Options{Nodes: 1, DisksPerNode: 6})
	conn, err := raftstore.Dial(c.Nodes[0].APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := nodepb.NewNodeClient(conn)
	ctx := ctxT(t, time.Minute)
	if _, err := cl.CreateBucket(ctx, &nodepb.CreateBucketRequest{Bucket: "good-bucket"}); err != nil {
		t.Fatal(err)
	}
	putStream := func(msgs ...*nodepb.PutObjectRequest) error {
		s, err := cl.PutObject(ctx)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := s.Send(m); err != nil {
				break
			}
		}
		_, err = s.CloseAndRecv()
		return err
	}
	hdr := func(bucket, key string) *nodepb.PutObjectRequest {
		return &nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Header{Header: &nodepb.PutObjectHeader{Bucket: bucket, Key: key, Size: -1}}}
	}
	data := &nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Data{Data: []byte("x")}}
	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		class error
	}{
		{"bad bucket name", func() error {
			_, err := cl.CreateBucket(ctx, &nodepb.CreateBucketRequest{Bucket: "Bad_Name"})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"missing bucket", func() error { return putStream(hdr("no-such-bucket", "k"), data) }, codes.NotFound, raftstore.ErrNoSuchBucket},
		{"NUL in key", func() error { return putStream(hdr("good-bucket", "a\x00b"), data) }, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"dot-dot key", func() error { return putStream(hdr("good-bucket", "a/../b"), data) }, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"data before header", func() error { return putStream(data) }, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"two headers", func() error { return putStream(hdr("good-bucket", "k"), hdr("good-bucket", "k")) }, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"missing key", func() error {
			_, err := cl.HeadObject(ctx, &nodepb.HeadObjectRequest{Bucket: "good-bucket", Key: "nope"})
			return err
		}, codes.NotFound, raftstore.ErrNoSuchKey},
		{"bad shard id", func() error {
			_, err := cl.GetShard(ctx, &nodepb.GetShardRequest{Disk: "d0", Id: []byte("short")})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"shard bytes not matching the id", func() error {
			_, err := cl.PutShard(ctx, &nodepb.PutShardRequest{Disk: "d0", Id: make([]byte, 32), Data: []byte("x")})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"derived shard id without an id key", func() error {
			_, err := cl.PutShard(ctx, &nodepb.PutShardRequest{Disk: "d0", Id: make([]byte, 32), Data: []byte("x"), DerivedId: true})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"unknown shard", func() error {
			_, err := cl.GetShard(ctx, &nodepb.GetShardRequest{Disk: "d0", Id: make([]byte, 32)})
			return err
		}, codes.NotFound, raftstore.ErrNotFound},
		{"bad event", func() error {
			_, err := cl.Propose(ctx, &nodepb.ProposeRequest{})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"range past the end", func() error {
			if err := putStream(hdr("good-bucket", "small"), data); err != nil {
				return err
			}
			s, err := cl.GetObject(ctx, &nodepb.GetObjectRequest{Bucket: "good-bucket", Key: "small", Offset: 5, Length: 1})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"delete non-empty bucket", func() error {
			_, err := cl.DeleteBucket(ctx, &nodepb.DeleteBucketRequest{Bucket: "good-bucket"})
			return err
		}, codes.FailedPrecondition, raftstore.ErrBucketNotEmpty},
		{"remove unknown member", func() error {
			_, err := cl.RemoveMember(ctx, &nodepb.RemoveMemberRequest{Node: "ghost"})
			return err
		}, codes.NotFound, raftstore.ErrNotFound},
	}
	for _, tc := range cases {
		err := tc.call()
		if status.Code(err) != tc.code {
			t.Errorf("%s: code %v (%v), want %v", tc.name, status.Code(err), err, tc.code)
			continue
		}
		if !errors.Is(raftstore.FromStatus(err), tc.class) {
			t.Errorf("%s: %v does not map back to %v", tc.name, err, tc.class)
		}
	}
	// Invalid UTF-8 never crosses gRPC (proto3 strings must be UTF-8); the
	// node refuses it from in-process callers too.
	if _, err := put(ctx, c.Nodes[0], "good-bucket", "\xff\xfe", []byte("x")); !errors.Is(err, raftstore.ErrInvalidArgument) {
		t.Fatalf("invalid UTF-8 key: %v", err)
	}
	// Nothing half-written: only the one good object exists.
	resp, err := cl.ListObjects(ctx, &nodepb.ListObjectsRequest{Bucket: "good-bucket"})
	if err != nil || len(resp.GetObjects()) != 1 || resp.GetObjects()[0].GetKey() != "small" {
		t.Fatalf("objects after bad requests: %v, %v", resp.GetObjects(), err)
	}
}

// TestPoolExpansionGCAndMembership: a new pool takes new writes while data
// in the old pool stays readable where it is; shards of deleted objects are
// collected; a member can be removed.
func TestPoolExpansionGCAndMembership(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{Tune: func(_ int, cfg *raftstore.Config) { cfg.GCGrace = 0 }})
	ctx := ctxT(t, 2*time.Minute)
	n := c.Nodes[1]
	if err := n.CreateBucket(ctx, "bkt1", "test"); err != nil {
		t.Fatal(err)
	}
	old := payload(rng, 600<<10)
	if _, err := put(ctx, n, "bkt1", "old", old); err != nil {
		t.Fatal(err)
	}
	bad := &nodepb.CreatePoolRequest{Pool: "p2", DataShards: 2, ParityShards: 1, Disks: []*journalpb.ShardLocation{{Node: "n1", Disk: "d9"}}}
	if err := n.CreatePool(ctx, bad); !errors.Is(err, raftstore.ErrInvalidArgument) {
		t.Fatalf("pool on an unknown disk: %v", err)
	}
	p2 := &nodepb.CreatePoolRequest{Pool: "p2", DataShards: 2, ParityShards: 1, Disks: []*journalpb.ShardLocation{
		{Node: "n1", Disk: "d1"}, {Node: "n2", Disk: "d1"}, {Node: "n3", Disk: "d1"}}}
	if err := n.CreatePool(ctx, p2); err != nil {
		t.Fatal(err)
	}
	fresh := payload(rng, 300<<10)
	if _, err := put(ctx, c.Nodes[2], "bkt1", "new", fresh); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  string
		data []byte
		pool string
	}{{"old", old, "default"}, {"new", fresh, "p2"}} {
		got, err := get(ctx, c.Nodes[0], "bkt1", tc.key)
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: %v", tc.key, err)
		}
		m, err := n.ManifestForTest(ctx, "bkt1", tc.key)
		if err != nil || m.GetPool() != tc.pool {
			t.Fatalf("%s is in pool %q (%v), want %s", tc.key, m.GetPool(), err, tc.pool)
		}
		for _, l := range m.GetLocations() {
			if tc.pool == "p2" && l.GetDisk() != "d1" {
				t.Fatalf("new object has a shard on %s/%s, outside pool p2", l.GetNode(), l.GetDisk())
			}
		}
	}
	// Delete the old object: its shards become garbage and are collected.
	delIdx, err := n.DeleteObject(ctx, "bkt1", "old", nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	c.WaitApplied(delIdx)
	removed := 0
	for _, node := range c.Nodes {
		r, err := node.CollectGarbage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		removed += r
	}
	if removed != 3*6 { // 3 stripes × 6 shards of the old object
		t.Fatalf("gc removed %d shard files, want 18", removed)
	}
	if got, err := get(ctx, c.Nodes[0], "bkt1", "new"); err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("gc removed a referenced shard: %v", err)
	}
	// Remove a member: the site goes on with two voters.
	if err := c.Nodes[0].RemoveMember(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Nodes[1].Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.GetMembers()) != 2 {
		t.Fatalf("members after remove: %v", st.GetMembers())
	}
	c.Stop(2)
	if _, err := put(ctx, c.Nodes[0], "bkt1", "small", []byte("still writable")); err != nil {
		t.Fatalf("write after removing a member: %v", err)
	}
}

// TestCrashedIndexReplaysFromTheLog: the index has no WAL and the journal
// is synced only before the index reaches disk, so a crash loses what the
// index had not flushed and the journal's unsynced tail (the journal and
// the shards live on a crashable in-memory file system here). The
// restarted node replays that tail from the raft log, journaling every
// lost event again and none twice, and a garbage collection pass started
// before the replay (grace 0, so any shard the index does not yet
// reference would go) waits for it and removes nothing still in use.
func TestCrashedIndexReplaysFromTheLog(t *testing.T) {
	rng := seed(t)
	mem := vfs.NewMem()
	c := raftstoretest.New(t, raftstoretest.Options{Nodes: 1, DisksPerNode: 6, Tune: func(_ int, cfg *raftstore.Config) {
		cfg.GCGrace = 0
		cfg.FS = mem
	}})
	ctx := ctxT(t, 2*time.Minute)
	n := c.Nodes[0]
	if err := n.CreateBucket(ctx, "ledger", "test"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	var synced uint64 // journal events synced by the snapshot's index flush
	for i := range 40 {
		data := payload(rng, 10+rng.IntN(40<<10)) // inline and erasure coded
		key := fmt.Sprintf("k%02d", i%30)         // some overwritten: garbage
		if _, err := put(ctx, n, "ledger", key, data); err != nil {
			t.Fatal(err)
		}
		want[key] = data
		if i == 19 {
			// Halfway, a snapshot flushes the index, syncing the journal
			// first: the crash must keep what came before it.
			if err := n.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := n.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			synced = st.GetJournalLast()
		}
	}
	before, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var crashed *vfs.MemFS
	if err := n.CrashForTest(func() { crashed = mem.CrashClone(nil) }); err != nil {
		t.Fatal(err)
	}
	c.Nodes[0] = nil
	jcfg := journal.DefaultConfig()
	jcfg.Dir, jcfg.FS = filepath.Join(c.Config(0).DataDir, "journal"), crashed
	jr, err := journal.Open(jcfg)
	if err != nil {
		t.Fatal(err)
	}
	kept := jr.LastIndex()
	if err := jr.Close(); err != nil {
		t.Fatal(err)
	}
	lost := before.GetJournalLast() - kept
	if kept < synced || lost == 0 {
		t.Fatalf("the crash kept %d journal events of %d, %d of them synced: want all synced ones and not all", kept, before.GetJournalLast(), synced)
	}
	c.Reconfigure(0, func(cfg *raftstore.Config) { cfg.FS = crashed })
	applied, err := raftstore.IndexAppliedForTest(c.Config(0).DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if applied >= before.GetAppliedIndex() {
		t.Fatalf("the crash kept the index at %d (applied %d before): nothing to replay", applied, before.GetAppliedIndex())
	}
	t.Logf("index at %d after the crash, %d before; journal lost %d of %d events", applied, before.GetAppliedIndex(), lost, before.GetJournalLast())

	c.Start(0)
	n = c.Nodes[0]
	removed, err := n.CollectGarbage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gc removed %d shards", removed)
	readBack(ctx, t, n, "ledger", want, "after the crash")
	after, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.GetJournalLast() != before.GetJournalLast() {
		t.Fatalf("journal ends at %d after the replay, %d before: events journaled twice or lost", after.GetJournalLast(), before.GetJournalLast())
	}
	rep, err := n.Scrub(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Missing != 0 || rep.Corrupt != 0 {
		t.Fatalf("scrub after the crash: %+v", rep)
	}
}

// TestPayloadsMoveOutOfTheJournal: with small journal segments and no
// retention window, large inline payloads move from the journal into the
// index as their segments seal, retention then releases the segments, and
// every replica serves the same bytes and holds the same state; a wiped
// node gets them back from a snapshot.
func TestPayloadsMoveOutOfTheJournal(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{Tune: func(_ int, cfg *raftstore.Config) {
		cfg.JournalSegmentBytes = 64 << 10
		cfg.JournalRetention = 0
		cfg.TrailingLogs = 16
		cfg.SnapshotThreshold = 1 << 20 // only the explicit snapshots below
	}})
	ctx := ctxT(t, 3*time.Minute)
	if err := c.Nodes[0].CreateBucket(ctx, "ledger", "test"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	victim := -1
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			data := payload(rng, 1<<10+rng.IntN(3<<10)) // inline (test InlineBytes: 4 KiB)
			key := fmt.Sprintf("k%03d", i%100)          // some overwritten: released payloads
			n := c.Nodes[i%3]
			if i%3 == victim {
				n = c.Nodes[(i+1)%3]
			}
			if _, err := put(ctx, n, "ledger", key, data); err != nil {
				t.Fatal(err)
			}
			want[key] = data
		}
	}
	write(0, 150)
	for _, key := range []string{"k007", "k070"} {
		if _, err := c.Nodes[1].DeleteObject(ctx, "ledger", key, nil, "test"); err != nil {
			t.Fatal(err)
		}
		delete(want, key)
	}
	c.Eventually(time.Minute, "every node's journal released segments whose payloads moved", func() (bool, error) {
		for _, n := range c.Nodes {
			st, err := n.Status(ctx)
			if err != nil || st.GetJournalFirst() <= 1 {
				return false, err
			}
		}
		return true, nil
	})
	for _, n := range c.Nodes {
		readBack(ctx, t, n, "ledger", want, n.ID())
	}
	assertSameState(t, c)

	victim = (c.WaitLeader() + 1) % 3
	for i, n := range c.Nodes {
		if i != victim {
			if err := n.Snapshot(ctx); err != nil {
				t.Fatalf("snapshot on %s: %v", n.ID(), err)
			}
		}
	}
	c.Wipe(victim)
	write(150, 200)
	c.Start(victim)
	c.WaitApplied(c.Nodes[c.WaitLeader()].AppliedIndex())
	readBack(ctx, t, c.Nodes[victim], "ledger", want, "restored node")
	assertSameState(t, c)
}
