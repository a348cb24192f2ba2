//go:build linux

package mmaptrim

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// residentKiB sums the Rss of this process's mappings of path.
func residentKiB(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && strings.Join(f[5:], " ") == path
		case in && len(f) >= 2 && f[0] == "Rss:":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			total += n
		}
	}
	return total
}

func TestTrimReleasesSharedReadOnlyMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	const size = 8 << 20
	data := bytes.Repeat([]byte("ferry-journal-"), size/14+1)[:size]
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Munmap(m) }()
	touch := func() (sum int) {
		for i := 0; i < size; i += 4096 {
			sum += int(m[i]) // fault every page in
		}
		return sum
	}
	sum := touch()
	before := residentKiB(t, path)
	if before < size/1024/2 {
		t.Fatalf("only %d KiB resident after touching %d KiB", before, size/1024)
	}
	n, err := Trim(path)
	if err != nil {
		t.Fatal(err)
	}
	if n < size {
		t.Fatalf("Trim advised %d bytes, want at least %d", n, size)
	}
	if after := residentKiB(t, path); after > before/4 {
		t.Fatalf("resident %d KiB after Trim (was %d)", after, before)
	}
	if !bytes.Equal(m, data) {
		t.Fatal("the mapping's contents changed after Trim")
	}
	if touch() != sum {
		t.Fatal("pages read back differently after Trim")
	}
}

func TestTrimLeavesPrivateMappingsAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Munmap(m) }()
	m[100] = 42 // a private modification Trim must not discard
	n, err := Trim(path)
	if err != nil || n != 0 {
		t.Fatalf("Trim of a private mapping: %d bytes, %v", n, err)
	}
	if m[100] != 42 {
		t.Fatal("a private modification was lost")
	}
	if n, err := Trim(filepath.Join(t.TempDir(), "absent")); err != nil || n != 0 {
		t.Fatalf("Trim of an unmapped file: %d, %v", n, err)
	}
}
