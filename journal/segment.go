package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"

	"github.com/ferrydr/ferry/internal/vfs"
)

const (
	// sparseEvery is the distance in bytes between two entries of a
	// segment's sparse offset index: a read decodes at most this many bytes
	// of record headers before it reaches its first record.
	sparseEvery = 64 << 10
	// readChunk is how much a frameReader reads at once.
	readChunk = 256 << 10
)

// sparseEntry says that the record at byte offset Off starts at Index.
type sparseEntry struct {
	Index uint64
	Off   int64
}

// segment is one segment file. Fields below mu are guarded by Journal.mu.
type segment struct {
	name  string // base name, segName(first)
	path  string
	first uint64
	gen   uint64
	salt  uint32
	rf    vfs.File // read handle; closed when dead and refs == 0

	// Guarded by Journal.mu.
	last    uint64 // index of the last record; first-1 when empty
	size    int64  // bytes of complete, synced records (and the header)
	maxWall int64  // largest HLC wall time of its events; MinInt64 when empty
	// sparse has an entry for the first record and then one every
	// sparseEvery bytes. Entries are only appended, so a reader may keep a
	// copy of the slice header.
	sparse []sparseEntry
	refs   int  // readers using rf
	dead   bool // removed from the journal; rf closes when refs reaches 0
}

// noteRecordLocked records a complete record at off.
func (s *segment) noteRecordLocked(off int64, h recordHeader, frameLen int) {
	if n := len(s.sparse); n == 0 || off-s.sparse[n-1].Off >= sparseEvery {
		s.sparse = append(s.sparse, sparseEntry{Index: h.First, Off: off})
	}
	s.last = h.Last()
	s.size = off + int64(frameLen)
	s.maxWall = max(s.maxWall, h.MaxWall)
}

// startFor returns the sparse entry to start reading index idx from.
// REQUIRES: s.first <= idx <= s.last.
func startFor(sparse []sparseEntry, idx uint64) sparseEntry {
	i := sort.Search(len(sparse), func(i int) bool { return sparse[i].Index > idx })
	if i == 0 {
		return sparseEntry{} // cannot happen for idx >= first; caller checks
	}
	return sparse[i-1]
}

func newSegment(dir, name string, h segHeader, salt uint32, rf vfs.File) *segment {
	return &segment{
		name: name, path: filepath.Join(dir, name), first: h.First, gen: h.Generation, salt: salt, rf: rf,
		last: h.First - 1, size: segHeaderSize, maxWall: math.MinInt64,
	}
}

// frameReader reads consecutive frames of one segment through a buffer.
type frameReader struct {
	f      vfs.File
	salt   uint32
	end    int64 // no byte at or past end is read
	buf    []byte
	bufOff int64 // file offset of buf[0]
}

// fill makes buf cover [off, off+n), reading at least readChunk bytes when
// the file has them. It returns errIncomplete when end comes first.
func (r *frameReader) fill(off int64, n int) error {
	if off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		return nil
	}
	if off+int64(n) > r.end {
		return errIncomplete
	}
	want := int(min(int64(max(n, readChunk)), r.end-off))
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	got, err := r.f.ReadAt(r.buf, off)
	r.buf, r.bufOff = r.buf[:got], off
	if got >= n {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errIncomplete // the file is shorter than we were told
	}
	return fmt.Errorf("%w: read at offset %d: %w", ErrIO, off, err)
}

// frameAt decodes the frame at off; the payload aliases the buffer until the
// next call.
func (r *frameReader) frameAt(off int64) (recordHeader, []byte, int, error) {
	if err := r.fill(off, frameHeaderSize); err != nil {
		return recordHeader{}, nil, 0, err
	}
	n, err := parseFrameHeader(r.buf[off-r.bufOff:])
	if err != nil {
		return recordHeader{}, nil, 0, err
	}
	if err := r.fill(off, frameHeaderSize+n); err != nil {
		return recordHeader{}, nil, 0, err
	}
	return decodeFrame(r.salt, r.buf[off-r.bufOff:])
}

// plausibleAt is a cheap filter for resync scanning: could a record that
// continues the log from index next start at off? It reads only the fixed
// headers, so most offsets are rejected without a checksum.
func (r *frameReader) plausibleAt(off int64, next uint64) bool {
	if r.fill(off, minFrameSize) != nil {
		return false
	}
	b := r.buf[off-r.bufOff:]
	n, err := parseFrameHeader(b)
	if err != nil || off+frameHeaderSize+int64(n) > r.end {
		return false
	}
	first := binary.LittleEndian.Uint64(b[frameHeaderSize:])
	count := binary.LittleEndian.Uint32(b[frameHeaderSize+8:])
	flags := b[frameHeaderSize+12]
	return count > 0 && flags&^knownFlags == 0 && first >= next && first-next < 1<<32
}

// validFrameAfter reports whether a complete, valid record continuing the
// log from index next starts anywhere in (bad, end). It tells a torn tail
// (nothing valid after the damage) from corruption in the middle.
func (r *frameReader) validFrameAfter(bad int64, next uint64) (int64, bool, error) {
	for off := bad + 1; off+minFrameSize <= r.end; off++ {
		if !r.plausibleAt(off, next) {
			continue
		}
		_, _, _, err := r.frameAt(off)
		if err == nil {
			return off, true, nil
		}
		if errors.Is(err, ErrIO) {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// scanResult is what scanning a segment found.
type scanResult struct {
	validEnd int64 // offset just past the last valid record
	badOff   int64 // offset of the first bad record, when err != nil
	err      error // why the record at badOff is bad (errIncomplete, errBadFrame, a continuity error) or ErrIO
}

// scanSegment reads every record of s from the header on, checks checksums
// and index continuity, and fills s's last index, size, wall time and sparse
// index. It stops at the first bad record.
func scanSegment(s *segment, fileSize int64) scanResult {
	r := &frameReader{f: s.rf, salt: s.salt, end: fileSize}
	off := int64(segHeaderSize)
	next := s.first
	for off < fileSize {
		h, _, n, err := r.frameAt(off)
		if err != nil {
			return scanResult{validEnd: off, badOff: off, err: err}
		}
		if h.First != next {
			return scanResult{validEnd: off, badOff: off,
				err: fmt.Errorf("%w: record holds indexes %d..%d, want %d next", errGap, h.First, h.Last(), next)}
		}
		s.noteRecordLocked(off, h, n)
		next = h.Last() + 1
		off += int64(n)
	}
	return scanResult{validEnd: off}
}
