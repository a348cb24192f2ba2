package vfs

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func writeFile(t *testing.T, fs FS, name string, data []byte, sync bool) File {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestMemCrashKeepsOnlyDurableState(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, m, "/d/synced", []byte("hello"), true)
	if _, err := f.Write([]byte(" world")); err != nil { // never synced
		t.Fatal(err)
	}
	writeFile(t, m, "/d/nosync", []byte("lost"), false)
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, "/d/after-dirsync", []byte("x"), true) // name not durable

	c := m.CrashClone(nil)
	got, err := ReadFile(c, "/d/synced")
	if err != nil || string(got) != "hello" {
		t.Fatalf("synced file after crash = %q, %v; want hello", got, err)
	}
	if got, err := ReadFile(c, "/d/nosync"); err != nil || len(got) != 0 {
		t.Fatalf("unsynced file after crash = %q, %v; want empty", got, err)
	}
	if _, err := c.Stat("/d/after-dirsync"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file created after the last SyncDir survived the crash: %v", err)
	}
}

func TestMemCrashTearsAtSectorBoundary(t *testing.T) {
	seed := uint64(42)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for range 50 {
		m := NewMem()
		f := writeFile(t, m, "/f", make([]byte, 100), true)
		if err := m.SyncDir("/"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(make([]byte, 5000)); err != nil {
			t.Fatal(err)
		}
		fi, err := m.CrashClone(rng).Stat("/f")
		if err != nil {
			t.Fatal(err)
		}
		if size := fi.Size(); size != 100 && (size%512 != 0 || size > 5100) {
			t.Fatalf("torn file is %d bytes; want the 100 synced or a cut at a 512-byte sector boundary", size)
		}
	}
}

func TestMemRenameAndList(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/a/b"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, "/a/b/x.tmp", []byte("1"), true)
	if err := m.Rename("/a/b/x.tmp", "/a/b/x"); err != nil {
		t.Fatal(err)
	}
	names, err := m.List("/a/b")
	if err != nil || len(names) != 1 || names[0] != "x" {
		t.Fatalf("List = %v, %v", names, err)
	}
	if err := m.Remove("/a/b"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	if _, err := m.Open("/a/b/x.tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old name still opens: %v", err)
	}
}

func TestWriteFileAtomicOnOSAndMem(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		fs   FS
		path string
	}{{"os", Default, filepath.Join(dir, "f")}, {"mem", NewMem(), "/f"}} {
		if err := WriteFileAtomic(tc.fs, tc.path, []byte("v1")); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := WriteFileAtomic(tc.fs, tc.path, []byte("v2")); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := ReadFile(tc.fs, tc.path)
		if err != nil || string(got) != "v2" {
			t.Fatalf("%s: read %q, %v", tc.name, got, err)
		}
	}
	m := NewMem()
	if err := WriteFileAtomic(m, "/g", []byte("durable")); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(m.CrashClone(nil), "/g"); err != nil || string(got) != "durable" {
		t.Fatalf("atomic write lost in crash: %q, %v", got, err)
	}
}

func TestInjector(t *testing.T) {
	in := NewInjector(NewMem())
	in.SetRule(FailAfter(OpWrite, 2, ErrNoSpace))
	f, err := in.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("a")); err != nil {
		t.Fatalf("first write failed: %v", err)
	}
	_, err = f.Write([]byte("b"))
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrInjected) {
		t.Fatalf("second write: %v; want injected ENOSPC", err)
	}
	in.SetRule(nil)
	if _, err := f.Write([]byte("c")); err != nil {
		t.Fatalf("write after clearing the rule: %v", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	if string(got) != "ac" {
		t.Fatalf("content %q, want ac", got)
	}
}
