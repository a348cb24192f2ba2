package ecstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ferrydr/ferry/internal/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/ecstore/ecstoretest"
)

// site is a test site: nodes n1..nN with disks d0.. on one MemFS.
type site struct {
	mem     *vfs.MemFS
	cluster *ecstoretest.Cluster
	pool    ecstore.PoolSpec
	cell    int // the stores' CellSize
}

func newSite(t testing.TB, fsys vfs.FS, nodes, disks int, p ecstore.Profile, stripe int) *site {
	t.Helper()
	mem, _ := fsys.(*vfs.MemFS)
	if fsys == nil {
		mem = vfs.NewMem()
		fsys = mem
	}
	var names []string
	for i := range nodes {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	c, err := ecstoretest.NewCluster(fsys, names, disks)
	if err != nil {
		t.Fatal(err)
	}
	// Cells of 16 bytes deal the small stripes of the tests in many rows.
	return &site{mem: mem, cluster: c, pool: ecstore.PoolSpec{Name: "p", Profile: p, Disks: c.Locations(), StripeSize: stripe, IDKey: testIDKey}, cell: 16}
}

func (s *site) store(t testing.TB, node string) *ecstore.Store {
	t.Helper()
	st, err := ecstore.New(ecstore.Config{
		Node: node, Local: s.cluster.Disks(node), Transport: s.cluster, CellSize: s.cell,
		Logger: slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tWriter sends log lines to the test log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// testIDKey is the shard id key of the test pools (HighwayHash-256 ids).
var testIDKey = bytes.Repeat([]byte{0x5a}, ecstore.IDKeySize)

// TestSHA256PoolsStayReadable: a pool without an id key (created before
// keyed ids) writes and reads SHA-256 ids; a manifest with a key of the
// wrong size is refused.
func TestSHA256PoolsStayReadable(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 9))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 4096)
	pool := s.pool
	pool.IDKey = nil
	st := s.store(t, "n1")
	data := randBytes(rng, 10000)
	m := write(t, st, pool, "old", data)
	if len(m.GetIdKey()) != 0 {
		t.Fatalf("SHA-256 pool wrote id key %x", m.GetIdKey())
	}
	got, err := read(st, m, 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
	refs, err := ecstore.StripeRefs(m)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := ecstore.NewCodec(ecstore.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	shards, ids, err := codec.Encode(data[:refs[0].DataLen], refs[0].CellSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := range shards {
		if ids[i] != refs[0].IDs[i] {
			t.Fatalf("shard %d id %s, want SHA-256 %s", i, refs[0].IDs[i], ids[i])
		}
	}
	m.IdKey = []byte("short")
	if _, err := read(st, m, 0, 1); !errors.Is(err, ecstore.ErrInvalid) {
		t.Fatalf("manifest with a 5-byte id key: %v, want ErrInvalid", err)
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func write(t testing.TB, st *ecstore.Store, pool ecstore.PoolSpec, key string, data []byte) *journalpb.Manifest {
	t.Helper()
	m, size, err := st.Write(context.Background(), pool, []byte(key), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Write(%d bytes): %v", len(data), err)
	}
	if size != int64(len(data)) {
		t.Fatalf("Write(%d bytes) = size %d", len(data), size)
	}
	if !bytes.Equal(m.GetIdKey(), pool.IDKey) {
		t.Fatalf("manifest id key %x, pool's %x", m.GetIdKey(), pool.IDKey)
	}
	return m
}

func read(st *ecstore.Store, m *journalpb.Manifest, off, n int64) ([]byte, error) {
	var buf bytes.Buffer
	err := st.Read(context.Background(), m, off, n, &buf)
	return buf.Bytes(), err
}

func TestStoreRoundTrip(t *testing.T) {
	// 1002: not a multiple of k, the last data shard is padded; cells of
	// 16 and 50 bytes deal 1000 and 1002 in rows, the last a short one or
	// not; cells of 64 KiB (the default) deal 600001 in two rows and a
	// short one, and the smaller stripes in one row.
	for _, tc := range []struct{ stripe, cell int }{{1000, 16}, {1002, 16}, {1000, 50}, {1002, 0}, {600001, 0}} {
		t.Run(fmt.Sprintf("stripe %d cell %d", tc.stripe, tc.cell), func(t *testing.T) { testStoreRoundTrip(t, tc.stripe, tc.cell) })
	}
	// Data shards hashed together as they are read, in groups of 2 and 3
	// (4 data shards: two groups of two; a group of three and one alone),
	// and one at a time, as on machines with other kernels than this one.
	for _, ways := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("hashed %d at a time", ways), func(t *testing.T) {
			ecstore.SetHashWays(t, ways)
			testStoreRoundTrip(t, 1002, 16)
			testStoreRoundTrip(t, 600001, 0)
		})
	}
}

func testStoreRoundTrip(t *testing.T, stripe, cell int) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 3))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), stripe)
	s.cell = cell
	w, r := s.store(t, "n1"), s.store(t, "n2")
	sizes := []int{0, 1, 3, 4, 5, stripe - 1, stripe, stripe + 1, 2*stripe - 1, 2 * stripe, 2*stripe + 1, 5*stripe + 17}
	// Short last stripes after one or more whole data shards were read (and
	// hashed early) under a full stripe's layout: the same shard size, or
	// a smaller one, which the early hashes must not survive.
	sizes = append(sizes, stripe+250, stripe+251, stripe+600, stripe+753, 2*stripe-3)
	for _, size := range sizes {
		data := randBytes(rng, size)
		m := write(t, w, s.pool, fmt.Sprint("obj", size), data)
		if want := (size + stripe - 1) / stripe; len(m.GetStripes()) != want {
			t.Fatalf("size %d: %d stripes, want %d", size, len(m.GetStripes()), want)
		}
		for _, st := range []*ecstore.Store{w, r} {
			got, err := read(st, m, 0, int64(size))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
			}
		}
		ranges := [][2]int{{0, 0}, {size, 0}}
		for _, b := range []int{stripe - 1, stripe, stripe + 1, 249, 250, 251} { // stripe and shard edges
			if b < size {
				ranges = append(ranges, [2]int{b, 1}, [2]int{0, b}, [2]int{b, size - b})
			}
		}
		for range 20 {
			off := rng.IntN(size + 1)
			ranges = append(ranges, [2]int{off, rng.IntN(size - off + 1)})
		}
		for _, rg := range ranges {
			got, err := read(r, m, int64(rg[0]), int64(rg[1]))
			if err != nil || !bytes.Equal(got, data[rg[0]:rg[0]+rg[1]]) {
				t.Fatalf("size %d: read [%d,+%d): %d bytes, %v", size, rg[0], rg[1], len(got), err)
			}
		}
		for _, rg := range [][2]int64{{-1, 1}, {0, -1}, {int64(size), 1}, {int64(size) + 1, 0}} {
			if _, err := read(r, m, rg[0], rg[1]); !errors.Is(err, ecstore.ErrInvalid) {
				t.Fatalf("size %d: read [%d,+%d) = %v, want ErrInvalid", size, rg[0], rg[1], err)
			}
		}
	}
}

// TestStoreDedup: writing the same content twice stores it once per disk.
func TestStoreDedup(t *testing.T) {
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	st := s.store(t, "n1")
	data := bytes.Repeat([]byte("dedup!"), 300)
	m1 := write(t, st, s.pool, "a", data)
	m2 := write(t, st, s.pool, "a", data)
	if !equalManifests(m1, m2) {
		t.Fatal("same content and key gave different manifests")
	}
	got, err := read(st, m2, 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
}

func equalManifests(a, b *journalpb.Manifest) bool {
	return fmt.Sprint(a.GetLocations(), a.GetStripes()) == fmt.Sprint(b.GetLocations(), b.GetStripes())
}

func TestStoreNodeLost(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 4))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 4096)
	st := s.store(t, "n1")
	data := randBytes(rng, 3*4096+100)
	m := write(t, st, s.pool, "obj", data)
	for _, lost := range []string{"n2", "n3"} {
		s.cluster.Partition(lost)
		got, err := read(st, m, 0, int64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("node %s lost: read %d bytes, %v", lost, len(got), err)
		}
		s.cluster.Heal()
	}
	// The local node's disks lost, read from n2.
	s.cluster.Partition("n1")
	got, err := read(s.store(t, "n2"), m, 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("node n1 lost: read %d bytes, %v", len(got), err)
	}
	// Two nodes lost: four shards of 4+2, too few.
	s.cluster.Partition("n3")
	if _, err := read(s.store(t, "n2"), m, 0, int64(len(data))); !errors.Is(err, ecstore.ErrTooFewShards) {
		t.Fatalf("two nodes lost: %v, want ErrTooFewShards", err)
	}
	// Writes need every shard.
	if _, _, err := st.Write(context.Background(), s.pool, []byte("new"), bytes.NewReader(data)); !errors.Is(err, ecstoretest.ErrPartitioned) {
		t.Fatalf("write with nodes lost: %v", err)
	}
}

// shardFiles returns, per stripe, the file of each shard of m.
func (s *site) shardFiles(t testing.TB, m *journalpb.Manifest) [][]string {
	t.Helper()
	refs, err := ecstore.StripeRefs(m)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, ref := range refs {
		var files []string
		for i, id := range ref.IDs {
			p, err := s.cluster.Disks(ref.Locations[i].Node).Path(ref.Locations[i].Disk, id)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
		out = append(out, files)
	}
	return out
}

// TestStoreExhaustive is T4 through the store: every pattern of lost or
// bit-flipped shards (the same indices in every stripe) is read around;
// m+1 give ErrTooFewShards, never wrong bytes.
func TestStoreExhaustive(t *testing.T) {
	for _, tc := range []struct {
		p                 ecstore.Profile
		disks             int
		recover, tooFewer int
	}{
		{ecstore.Profile{K: 4, M: 2}, 2, 22, 20},
		{ecstore.Profile{K: 8, M: 3}, 4, 232, 330},
	} {
		for _, mode := range []string{"missing", "corrupt"} {
			t.Run(fmt.Sprintf("%s/%s", tc.p, mode), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 5))
				stripe := tc.p.K * 16
				s := newSite(t, nil, 3, tc.disks, tc.p, stripe)
				st := s.store(t, "n1")
				data := randBytes(rng, 2*stripe+stripe/2+1)
				m := write(t, st, s.pool, "obj", data)
				files := s.shardFiles(t, m)
				saved := map[string][]byte{}
				for _, fs := range files {
					for _, f := range fs {
						saved[f], _ = vfs.ReadFile(s.mem, f)
					}
				}
				n := tc.p.K + tc.p.M
				var ok, tooFew int
				for mask := uint64(0); mask < 1<<n; mask++ {
					lost := bits.OnesCount64(mask)
					if lost > tc.p.M+1 {
						continue
					}
					var undo []func()
					for _, fs := range files {
						for i, f := range fs {
							if mask&(1<<i) == 0 {
								continue
							}
							if mode == "missing" {
								if err := s.mem.Remove(f); err != nil {
									t.Fatal(err)
								}
								undo = append(undo, func() {
									if err := vfs.WriteFileAtomic(s.mem, f, saved[f]); err != nil {
										t.Fatal(err)
									}
								})
								continue
							}
							bit := rng.IntN(len(saved[f]) * 8)
							flip := func(b []byte) []byte { b[bit/8] ^= 1 << (bit % 8); return b }
							if err := s.mem.Corrupt(f, flip); err != nil {
								t.Fatal(err)
							}
							undo = append(undo, func() { _ = s.mem.Corrupt(f, flip) })
						}
					}
					got, err := read(st, m, 0, int64(len(data)))
					switch {
					case lost <= tc.p.M && (err != nil || !bytes.Equal(got, data)):
						t.Fatalf("lost %b: %v, equal %v", mask, err, bytes.Equal(got, data))
					case lost <= tc.p.M:
						ok++
					case !errors.Is(err, ecstore.ErrTooFewShards):
						t.Fatalf("lost %b: %v, want ErrTooFewShards", mask, err)
					case len(got) != 0:
						t.Fatalf("lost %b: %d bytes written before the first stripe failed", mask, len(got))
					default:
						tooFew++
					}
					for _, u := range undo {
						u()
					}
				}
				if ok != tc.recover || tooFew != tc.tooFewer {
					t.Fatalf("%d recoverable and %d unrecoverable patterns, want %d and %d", ok, tooFew, tc.recover, tc.tooFewer)
				}
			})
		}
	}
}

// TestStoreReadNeverWrong: a manifest whose ids do not match the shards
// (a tampered or stale manifest) never yields wrong bytes. With content
// ids for every shard (SHA-256 pools), up to m wrong ids read around; with
// derived parity ids, any wrong id makes the manifest inconsistent.
func TestStoreReadNeverWrong(t *testing.T) {
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	st := s.store(t, "n1")
	data := bytes.Repeat([]byte("0123456789"), 100)
	sha := s.pool
	sha.IDKey = nil
	for _, pool := range []ecstore.PoolSpec{sha, s.pool} {
		m := write(t, st, pool, "obj", data)
		derived := m.GetParityIdsDerived()
		if derived != (pool.IDKey != nil) {
			t.Fatalf("pool with id key %x wrote parity_ids_derived %v", pool.IDKey, derived)
		}
		for tampered := 1; tampered <= 3; tampered++ {
			m2 := cloneManifest(m)
			for i := range tampered {
				m2.Stripes[0].ShardIds[i] = bytes.Repeat([]byte{byte(i)}, 32)
			}
			got, err := read(st, m2, 0, int64(len(data)))
			switch {
			case derived:
				if !errors.Is(err, ecstore.ErrInvalid) || len(got) != 0 {
					t.Fatalf("%d ids tampered: %d bytes, %v, want ErrInvalid", tampered, len(got), err)
				}
			case tampered <= 2:
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%d ids tampered: %v", tampered, err)
				}
			default:
				if !errors.Is(err, ecstore.ErrTooFewShards) || len(got) != 0 {
					t.Fatalf("%d ids tampered: %d bytes, %v", tampered, len(got), err)
				}
			}
		}
	}
	m := write(t, st, s.pool, "obj", data)
	// A shard file holding other content of the right size with a valid
	// header and CRC (as a buggy or malicious writer would leave) is
	// caught by the content hash.
	refs, err := ecstore.StripeRefs(m)
	if err != nil {
		t.Fatal(err)
	}
	loc := refs[0].Locations[0]
	// Right size for a 400-byte stripe; Put trusts the caller's id.
	other := bytes.Repeat([]byte("x"), 100)
	// Put keeps an intact shard that hashes to its id; the forger removes it first.
	if err := s.cluster.Disks(loc.Node).Remove(loc.Disk, refs[0].IDs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.cluster.Disks(loc.Node).Put(loc.Disk, refs[0].Scheme, refs[0].IDs[0], other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cluster.Disks(loc.Node).Get(loc.Disk, refs[0].IDs[0]); err != nil {
		t.Fatalf("the forged file should pass the CRC check: %v", err)
	}
	got, err := read(st, m, 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("forged shard: %v", err)
	}
}

func cloneManifest(m *journalpb.Manifest) *journalpb.Manifest {
	return proto.Clone(m).(*journalpb.Manifest)
}

func TestStoreReadBadManifest(t *testing.T) {
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 400)
	st := s.store(t, "n1")
	good := write(t, st, s.pool, "obj", bytes.Repeat([]byte{1}, 1000))
	for name, mutate := range map[string]func(m *journalpb.Manifest){
		"no data shards":   func(m *journalpb.Manifest) { m.DataShards = 0 },
		"huge profile":     func(m *journalpb.Manifest) { m.ParityShards = 1 << 31 },
		"few locations":    func(m *journalpb.Manifest) { m.Locations = m.Locations[:5] },
		"empty location":   func(m *journalpb.Manifest) { m.Locations = append(m.Locations[:5:5], &journalpb.ShardLocation{}) },
		"zero stripe size": func(m *journalpb.Manifest) { m.StripeSize = 0 },
		"oversized stripe": func(m *journalpb.Manifest) { m.Stripes[0].DataLen = 401 },
		"empty stripe":     func(m *journalpb.Manifest) { m.Stripes[1].DataLen = 0 },
		"short id":         func(m *journalpb.Manifest) { m.Stripes[0].ShardIds[2] = []byte{1} },
		"few ids":          func(m *journalpb.Manifest) { m.Stripes[0].ShardIds = m.Stripes[0].ShardIds[:5] },
	} {
		m := cloneManifest(good)
		mutate(m)
		if err := st.Read(context.Background(), m, 0, 1, io.Discard); !errors.Is(err, ecstore.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if err := st.Read(context.Background(), nil, 0, 0, io.Discard); !errors.Is(err, ecstore.ErrInvalid) {
		t.Errorf("nil manifest: %v", err)
	}
}

func TestStoreWriteFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   vfs.Op
		err  error
	}{
		{"enospc", vfs.OpWrite, vfs.ErrNoSpace},
		{"eio on sync", vfs.OpSync, errors.Join(vfs.ErrInjected, syscall.EIO)},
	} {
		for _, node := range []string{"n1", "n2"} { // the local node and a remote one
			t.Run(tc.name+"/"+node, func(t *testing.T) {
				mem := vfs.NewMem()
				inj := vfs.NewInjector(mem)
				s := newSite(t, inj, 3, 2, ecstore.DefaultProfile(), 1000)
				st := s.store(t, "n1")
				bad := "/" + node + "/d1/"
				fail := vfs.FailAfter(tc.op, 1, tc.err)
				inj.SetRule(func(op vfs.Op, name string) error {
					if strings.HasPrefix(name, bad) {
						return fail(op, name)
					}
					return nil
				})
				data := bytes.Repeat([]byte("abc"), 2000)
				_, _, err := st.Write(context.Background(), s.pool, []byte("k"), bytes.NewReader(data))
				if !errors.Is(err, tc.err) || !errors.Is(err, vfs.ErrInjected) || (tc.op == vfs.OpSync && !errors.Is(err, syscall.EIO)) {
					t.Fatalf("Write = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), node+"/d1") {
					t.Errorf("error does not name the disk: %v", err)
				}
				inj.SetRule(nil)
				m := write(t, st, s.pool, "k", data)
				if got, err := read(st, m, 0, int64(len(data))); err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read after fault cleared: %v", err)
				}
			})
		}
	}
}

type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestStoreWriteErrors(t *testing.T) {
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 1000)
	st := s.store(t, "n1")
	ctx := context.Background()
	data := bytes.Repeat([]byte{9}, 3500)
	boom := errors.New("boom")
	if _, _, err := st.Write(ctx, s.pool, nil, &failingReader{bytes.NewReader(data), boom}); !errors.Is(err, boom) {
		t.Errorf("reader error: %v", err)
	}
	small := s.pool
	small.Disks = small.Disks[:5]
	if _, _, err := st.Write(ctx, small, nil, bytes.NewReader(data)); !errors.Is(err, ecstore.ErrTooFewDisks) {
		t.Errorf("five disks: %v", err)
	}
	for name, mutate := range map[string]func(p *ecstore.PoolSpec){
		"profile":     func(p *ecstore.PoolSpec) { p.Profile.K = 0 },
		"name":        func(p *ecstore.PoolSpec) { p.Name = "" },
		"stripe":      func(p *ecstore.PoolSpec) { p.StripeSize = 3 },
		"huge stripe": func(p *ecstore.PoolSpec) { p.StripeSize = ecstore.MaxStripeSize + 1 },
	} {
		p := s.pool
		mutate(&p)
		if _, _, err := st.Write(ctx, p, nil, bytes.NewReader(data)); !errors.Is(err, ecstore.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := st.Write(cctx, s.pool, nil, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	local, err := ecstore.New(ecstore.Config{Node: "n1", Local: s.cluster.Disks("n1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := local.Write(ctx, s.pool, nil, bytes.NewReader(data)); !errors.Is(err, ecstore.ErrDiskUnavailable) {
		t.Errorf("remote locations without a transport: %v", err)
	}
}

func TestNewConfig(t *testing.T) {
	d, err := ecstore.OpenDisks(vfs.NewMem(), "n1", []ecstore.DiskConfig{{ID: "a", Dir: "/a"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]ecstore.Config{
		"nothing":     {},
		"wrong node":  {Node: "n2", Local: d},
		"huge stripe": {Node: "n1", Local: d, StripeSize: ecstore.MaxStripeSize + 1},
	} {
		if _, err := ecstore.New(cfg); !errors.Is(err, ecstore.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if err := ecstore.DefaultConfig().Validate(); !errors.Is(err, ecstore.ErrInvalid) {
		t.Errorf("DefaultConfig without disks or transport validated: %v", err)
	}
}

// countingTransport records how far Write has read ahead of the stripes it
// has written, to check that Write streams.
type countingTransport struct {
	*ecstoretest.Cluster
	mu      sync.Mutex
	read    *int64
	puts    int
	maxLead int64
	n       int
	stripe  int64
}

func (c *countingTransport) PutShard(ctx context.Context, loc ecstore.Location, scheme ecstore.IDScheme, id ecstore.ShardID, data []byte) error {
	c.mu.Lock()
	c.puts++
	lead := *c.read - int64(c.puts/c.n)*c.stripe
	c.maxLead = max(c.maxLead, lead)
	c.mu.Unlock()
	return c.Cluster.PutShard(ctx, loc, scheme, id, data)
}

type countingReader struct {
	r  io.Reader
	mu *sync.Mutex
	n  *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	*c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func TestStoreWriteStreams(t *testing.T) {
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 0)
	const stripe = 1024
	var readBytes int64
	tr := &countingTransport{Cluster: s.cluster, read: &readBytes, n: 6, stripe: stripe}
	st, err := ecstore.New(ecstore.Config{Transport: tr, StripeSize: stripe})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("stream"), 50*stripe/6)
	cr := countingReader{r: bytes.NewReader(data), mu: &tr.mu, n: &readBytes}
	m, _, err := st.Write(context.Background(), s.pool, nil, cr)
	if err != nil {
		t.Fatal(err)
	}
	// At most the stripe being written and the one being read are ahead.
	if tr.maxLead > 2*stripe {
		t.Fatalf("Write read %d bytes ahead of the shards written, want ≤ %d", tr.maxLead, 2*stripe)
	}
	if got, err := read(st, m, 0, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
}

// TestStoreReadsManifestsWithoutCells: manifests written before stripes
// were dealt in rows (cell_size 0) hold one contiguous range per data
// shard, which is what cells as large as the shards give.
func TestStoreReadsManifestsWithoutCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(ecstore.Seed(t)), 31))
	s := newSite(t, nil, 3, 2, ecstore.DefaultProfile(), 1002)
	s.cell = ecstore.MaxStripeSize
	st := s.store(t, "n1")
	for _, size := range []int{1, 5, 1002, 2500} {
		data := randBytes(rng, size)
		m := write(t, st, s.pool, fmt.Sprint("old", size), data)
		m.CellSize = 0
		if got, err := read(st, m, 0, int64(size)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d as a manifest without cells: read %d bytes, %v", size, len(got), err)
		}
		if size > 300 {
			if got, err := read(st, m, 300, 2); err != nil || !bytes.Equal(got, data[300:302]) {
				t.Fatalf("size %d: read [300,+2): %v", size, err)
			}
		}
	}
}
