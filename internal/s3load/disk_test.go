package s3load

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestDiskWriteBandwidth(t *testing.T) {
	dir := t.TempDir()
	bps, err := DiskWriteBandwidth(dir, 8<<20+1) // two blocks and one byte
	if err != nil {
		t.Fatal(err)
	}
	if bps <= 0 || math.IsInf(bps, 0) {
		t.Errorf("bandwidth %v", bps)
	}
	left, err := os.ReadDir(dir)
	if err != nil || len(left) != 0 {
		t.Errorf("left behind in %s: %v, %v", dir, left, err)
	}
}

func TestDiskWriteBandwidthErrors(t *testing.T) {
	if _, err := DiskWriteBandwidth(filepath.Join(t.TempDir(), "missing"), 1<<20); err == nil {
		t.Error("a missing directory measured")
	}
	if _, err := DiskWriteBandwidth(t.TempDir(), 0); err == nil {
		t.Error("zero bytes measured")
	}
}

func TestPutTarget(t *testing.T) {
	for _, tc := range []struct {
		disk float64
		k, m int
		want float64
	}{
		{1200, 4, 2, 400}, // half of 1200, divided by 6/4
		{1200, 8, 4, 400},
		{1000, 1, 0, 500}, // no redundancy: half the disk
		{1000, 1, 2, 1000.0 / 6},
		{1000, 10, 4, 5000.0 / 14},
		{1000, 0, 2, 0},
		{1000, 4, -1, 0},
	} {
		if got := PutTarget(tc.disk, tc.k, tc.m); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("PutTarget(%v, %d, %d) = %v, want %v", tc.disk, tc.k, tc.m, got, tc.want)
		}
	}
}
