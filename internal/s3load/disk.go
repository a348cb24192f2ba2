package s3load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
)

// diskBlockBytes is the size of each write of DiskWriteBandwidth.
const diskBlockBytes = 4 << 20

// DiskWriteBandwidth measures sequential write bandwidth in dir: it writes
// size bytes of incompressible data to a new temporary file in 4 MiB
// blocks, fsyncs it, and divides size by the time from the first write to
// the end of the fsync. The file is removed before it returns, whatever
// happens.
func DiskWriteBandwidth(dir string, size int64) (bytesPerSec float64, err error) {
	if size <= 0 {
		return 0, fmt.Errorf("s3load: disk measurement: size %d: want at least 1 byte", size)
	}
	f, err := os.CreateTemp(dir, ".s3load-disk-*")
	if err != nil {
		return 0, fmt.Errorf("s3load: disk measurement: %w", err)
	}
	defer func() {
		if rerr := os.Remove(f.Name()); rerr != nil {
			err = errors.Join(err, fmt.Errorf("s3load: disk measurement: %w", rerr))
		}
	}()
	buf := make([]byte, min(size, diskBlockBytes))
	NewGenerator(0).Fill(buf, f.Name(), 0)
	start := time.Now()
	var werr error
	for off := int64(0); off < size && werr == nil; off += int64(len(buf)) {
		// A different first word in every 4 KiB page keeps each block
		// unique for file systems that deduplicate.
		for p := 0; p+8 <= len(buf); p += 4096 {
			binary.LittleEndian.PutUint64(buf[p:], uint64(off)+uint64(p))
		}
		_, werr = f.Write(buf[:min(int64(len(buf)), size-off)])
	}
	if werr == nil {
		werr = f.Sync()
	}
	elapsed := time.Since(start)
	if err := errors.Join(werr, f.Close()); err != nil {
		return 0, fmt.Errorf("s3load: disk measurement in %s: %w", dir, err)
	}
	if elapsed <= 0 {
		elapsed = time.Nanosecond
	}
	return float64(size) / elapsed.Seconds(), nil
}

// PutTarget is the PUT throughput a gateway should reach on a disk that
// writes diskBytesPerSec sequentially: half of it, divided by the EC
// expansion (k+m)/k. It returns 0 for a profile with k < 1 or m < 0.
func PutTarget(diskBytesPerSec float64, k, m int) float64 {
	if k < 1 || m < 0 {
		return 0
	}
	return diskBytesPerSec / 2 * float64(k) / float64(k+m)
}
