package ecstore

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
)

func openTestDisks(t *testing.T, fsys vfs.FS, ids ...string) *Disks {
	t.Helper()
	var cfg []DiskConfig
	for _, id := range ids {
		cfg = append(cfg, DiskConfig{ID: id, Dir: "/node/" + id})
	}
	d, err := OpenDisks(fsys, "n1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDisksPutGetWalkRemove(t *testing.T) {
	for name, fsys := range map[string]vfs.FS{"mem": vfs.NewMem(), "os": nil} {
		t.Run(name, func(t *testing.T) {
			var d *Disks
			if fsys == nil {
				dir := t.TempDir()
				var err error
				d, err = OpenDisks(vfs.Default, "n1", []DiskConfig{{ID: "a", Dir: filepath.Join(dir, "a")}})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				d = openTestDisks(t, fsys, "a")
			}
			var ids []ShardID
			for i := range 20 {
				data := bytes.Repeat([]byte{byte(i)}, 100+i)
				id := ShardIDOf(data)
				ids = append(ids, id)
				if err := d.Put("a", IDScheme{}, id, data); err != nil {
					t.Fatal(err)
				}
				got, err := d.Get("a", id)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("Get = %d bytes, %v", len(got), err)
				}
			}
			seen := map[ShardID]bool{}
			if err := d.Walk("a", func(id ShardID, mod time.Time) error {
				seen[id] = true
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(seen) != len(ids) {
				t.Fatalf("Walk saw %d shards, want %d", len(seen), len(ids))
			}
			if err := d.Remove("a", ids[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Get("a", ids[0]); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get after Remove = %v, want ErrNotFound", err)
			}
			if err := d.Remove("a", ids[0]); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second Remove = %v, want ErrNotFound", err)
			}
			if _, err := d.Get("nope", ids[1]); !errors.Is(err, ErrDiskUnavailable) {
				t.Fatalf("Get on unknown disk = %v", err)
			}
		})
	}
}

// TestDisksDurable: every shard Put returned for survives a power loss.
func TestDisksDurable(t *testing.T) {
	mem := vfs.NewMem()
	d := openTestDisks(t, mem, "a", "b")
	var ids []ShardID
	for i := range 50 {
		data := []byte(strings.Repeat("x", i+1))
		id := ShardIDOf(data)
		ids = append(ids, id)
		if err := d.Put([]string{"a", "b"}[i%2], IDScheme{}, id, data); err != nil {
			t.Fatal(err)
		}
	}
	d2 := openTestDisks(t, mem.CrashClone(nil), "a", "b")
	for i, id := range ids {
		if _, err := d2.Get([]string{"a", "b"}[i%2], id); err != nil {
			t.Fatalf("shard %d lost in crash: %v", i, err)
		}
	}
}

type opLog struct {
	mu  sync.Mutex
	ops []vfs.Op
}

func (l *opLog) rule(op vfs.Op, _ string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
	return nil
}

func (l *opLog) take() []vfs.Op {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := l.ops
	l.ops = nil
	return ops
}

func TestDisksDedupRefreshes(t *testing.T) {
	mem := vfs.NewMem()
	inj := vfs.NewInjector(mem)
	var log opLog
	inj.SetRule(log.rule)
	d := openTestDisks(t, inj, "a")
	data := []byte("same content")
	id := ShardIDOf(data)
	if err := d.Put("a", IDScheme{}, id, data); err != nil {
		t.Fatal(err)
	}
	name, _ := d.Path("a", id)
	st1, _ := mem.Stat(name)
	log.take()
	if err := d.Put("a", IDScheme{}, id, data); err != nil {
		t.Fatal(err)
	}
	ops := log.take()
	for _, op := range ops {
		if op == vfs.OpCreate || op == vfs.OpRename {
			t.Fatalf("dedup Put rewrote the file: ops %v", ops)
		}
	}
	if !containsOp(ops, vfs.OpWrite) || !containsOp(ops, vfs.OpSync) {
		t.Fatalf("dedup Put did not refresh the file: ops %v", ops)
	}
	st2, _ := mem.Stat(name)
	if st2.ModTime().Before(st1.ModTime()) {
		t.Fatalf("mtime went back: %v then %v", st1.ModTime(), st2.ModTime())
	}
	if got, err := d.Get("a", id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after dedup = %q, %v", got, err)
	}

	// A damaged copy is replaced, not refreshed.
	if err := mem.Corrupt(name, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get("a", id); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
		t.Fatalf("Get of damaged shard = %v, want ErrCorrupt naming %s", err, name)
	}
	if err := d.Put("a", IDScheme{}, id, data); err != nil {
		t.Fatal(err)
	}
	if !containsOp(log.take(), vfs.OpRename) {
		t.Fatal("damaged shard was not rewritten")
	}
	if got, err := d.Get("a", id); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after repair = %q, %v", got, err)
	}
}

func containsOp(ops []vfs.Op, op vfs.Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func TestDisksFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   vfs.Op
		err  error
	}{
		{"enospc on write", vfs.OpWrite, vfs.ErrNoSpace},
		{"eio on sync", vfs.OpSync, syscall.EIO},
		{"eio on rename", vfs.OpRename, syscall.EIO},
		{"eio on syncdir", vfs.OpSyncDir, syscall.EIO},
		{"eio on create", vfs.OpCreate, syscall.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			inj := vfs.NewInjector(mem)
			d := openTestDisks(t, inj, "a")
			inj.SetRule(vfs.FailAfter(tc.op, 1, tc.err))
			data := []byte("payload")
			id := ShardIDOf(data)
			err := d.Put("a", IDScheme{}, id, data)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Put = %v, want %v", err, tc.err)
			}
			inj.SetRule(nil)
			var left []string
			_ = d.walk("a", func(name string, _ ShardID, tmp bool, _ time.Time) error {
				if tmp {
					left = append(left, name)
				}
				return nil
			})
			if len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
			if err := d.Put("a", IDScheme{}, id, data); err != nil {
				t.Fatalf("Put after the fault cleared: %v", err)
			}
		})
	}
}

func TestDisksUnavailable(t *testing.T) {
	mem := vfs.NewMem()
	blocker, _ := mem.Create("/blocked")
	blocker.Close()
	d, err := OpenDisks(mem, "n1", []DiskConfig{{ID: "ok", Dir: "/ok"}, {ID: "bad", Dir: "/blocked/d"}})
	if err != nil {
		t.Fatalf("OpenDisks with one bad disk: %v", err)
	}
	h := d.Health()
	if h["ok"] != nil || !errors.Is(h["bad"], ErrDiskUnavailable) {
		t.Fatalf("Health = %v", h)
	}
	data := []byte("x")
	id := ShardIDOf(data)
	if err := d.Put("bad", IDScheme{}, id, data); !errors.Is(err, ErrDiskUnavailable) {
		t.Fatalf("Put on bad disk = %v", err)
	}
	if _, err := d.Get("bad", id); !errors.Is(err, ErrDiskUnavailable) {
		t.Fatalf("Get on bad disk = %v", err)
	}
	if err := d.Walk("bad", func(ShardID, time.Time) error { return nil }); !errors.Is(err, ErrDiskUnavailable) {
		t.Fatalf("Walk on bad disk = %v", err)
	}

	// A disk whose directory vanishes (unmounted) is not recreated.
	if err := d.Put("ok", IDScheme{}, id, data); err != nil {
		t.Fatal(err)
	}
	name, _ := d.Path("ok", id)
	for _, p := range []string{name, filepath.Dir(name), "/ok"} {
		if err := mem.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Get("ok", id); !errors.Is(err, ErrDiskUnavailable) {
		t.Fatalf("Get on vanished disk = %v", err)
	}
	if err := d.Put("ok", IDScheme{}, id, data); !errors.Is(err, ErrDiskUnavailable) {
		t.Fatalf("Put on vanished disk = %v", err)
	}
	if _, err := mem.Stat("/ok"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Put recreated the vanished disk directory: %v", err)
	}
}

func TestOpenDisksConfig(t *testing.T) {
	mem := vfs.NewMem()
	for _, cfg := range [][]DiskConfig{
		nil,
		{{ID: "", Dir: "/a"}},
		{{ID: "a", Dir: ""}},
		{{ID: "a", Dir: "/a"}, {ID: "a", Dir: "/b"}},
		{{ID: "a", Dir: "/a"}, {ID: "b", Dir: "/a/"}},
	} {
		if _, err := OpenDisks(mem, "n1", cfg); !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenDisks(%v) = %v, want ErrInvalid", cfg, err)
		}
	}
	if _, err := OpenDisks(mem, "", []DiskConfig{{ID: "a", Dir: "/a"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("OpenDisks without node = %v", err)
	}
}

// TestDisksRefuseIDCollision: Put of different bytes under the id of an
// intact shard (which only a hash collision could produce) is refused and
// the stored shard kept; a damaged shard under that id is replaced.
func TestDisksRefuseIDCollision(t *testing.T) {
	mem := vfs.NewMem()
	d := openTestDisks(t, mem, "a")
	orig := []byte("the shard a manifest points at")
	id := ShardIDOf(orig)
	if err := d.Put("a", IDScheme{}, id, orig); err != nil {
		t.Fatal(err)
	}
	for _, other := range [][]byte{[]byte("other bytes, same id"), append(bytes.Clone(orig), 'x'), orig[:3]} {
		if err := d.Put("a", IDScheme{}, id, other); !errors.Is(err, ErrIDCollision) {
			t.Fatalf("Put of %q under an existing id: %v, want ErrIDCollision", other, err)
		}
		if got, err := d.Get("a", id); err != nil || !bytes.Equal(got, orig) {
			t.Fatalf("stored shard after refused collision: %q, %v", got, err)
		}
	}
	// A damaged copy is not a collision: Put repairs it.
	path, err := d.Path("a", id)
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.Corrupt(path, func(b []byte) []byte { b[shardHeaderSize+2] ^= 0x10; return b }); err != nil {
		t.Fatal(err)
	}
	if err := d.Put("a", IDScheme{}, id, orig); err != nil {
		t.Fatalf("Put over a damaged shard: %v", err)
	}
	if got, err := d.Get("a", id); err != nil || !bytes.Equal(got, orig) {
		t.Fatalf("after repair: %q, %v", got, err)
	}
}

// TestDisksDerivedIDReplaces: under a derived (parity) id, Put of other
// bytes replaces the stored ones, which cannot be checked against the id
// and are the stale side: the caller has just encoded the new bytes from
// verified data.
func TestDisksDerivedIDReplaces(t *testing.T) {
	mem := vfs.NewMem()
	d := openTestDisks(t, mem, "a")
	scheme, err := NewIDScheme(bytes.Repeat([]byte{7}, IDKeySize))
	if err != nil {
		t.Fatal(err)
	}
	derived := scheme.Derived()
	id := scheme.DeriveParityIDs(1, []ShardID{ShardIDOf([]byte("data"))})[0]
	if err := d.Put("a", derived, id, []byte("wrong parity")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put("a", derived, id, []byte("right parity")); err != nil {
		t.Fatalf("Put of new bytes under a derived id: %v", err)
	}
	if got, err := d.Get("a", id); err != nil || string(got) != "right parity" {
		t.Fatalf("after Put: %q, %v", got, err)
	}
}
