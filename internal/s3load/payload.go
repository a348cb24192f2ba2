package s3load

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// Verification failures. A GET whose body differs from the generated
// payload fails with an error wrapping ErrMismatch; one whose length differs
// from the expected object size, with ErrSize.
var (
	ErrMismatch = errors.New("s3load: payload mismatch")
	ErrSize     = errors.New("s3load: object size mismatch")
)

// patternBytes is the length of the shared base block; a multiple of 8.
const patternBytes = 64 << 10

// Generator derives object payloads from a seed. The byte at offset o of
// the object named key is a pure function of (seed, key, o), so a payload
// can be regenerated or checked at any offset, in any order, without being
// kept. It is base[o mod 64KiB] XOR one byte of a 64-bit word w(key, o/64KiB):
// the 64 KiB base block comes from splitmix64(seed) and w from a hash of the
// key and the block number, so no two blocks of one object, or of two
// objects, are equal (no dedup or compression shortcut for the target), yet
// filling a buffer is a vectorized XOR of two buffers (crypto/subtle) at
// tens of GB/s, and so is checking one.
//
// A Generator is safe for concurrent use. Filling and checking more than
// 512 bytes borrow two 64 KiB scratch buffers from a pool for the length
// of the call.
type Generator struct {
	seed    uint64
	base    [patternBytes]byte
	scratch sync.Pool // of *scratch
}

// NewGenerator returns the generator for seed.
func NewGenerator(seed int64) *Generator {
	g := &Generator{seed: uint64(seed)}
	g.scratch.New = func() any { return new(scratch) }
	s := g.seed
	for i := 0; i < patternBytes; i += 8 {
		s += golden
		binary.LittleEndian.PutUint64(g.base[i:], mix64(s))
	}
	return g
}

const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finalizer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// keyHash names an object's payload: FNV-1a of key, mixed with the seed.
func (g *Generator) keyHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return mix64(h ^ mix64(g.seed))
}

// blockWord is the XOR word of block blk of the object hashed to kh.
func blockWord(kh uint64, blk uint64) uint64 {
	return mix64(kh + (blk+1)*golden)
}

// smallBytes is the largest fill or check served by buffers on the stack
// instead of pooled scratch.
const smallBytes = 512

// scratch is a pair of pattern-sized buffers fill and check borrow.
type scratch struct {
	mask, diff [patternBytes]byte
}

// buffers returns mask and diff buffers for a call on n bytes, and the
// function that gives them back.
func (g *Generator) buffers(n int, small *[2][smallBytes]byte) (mask, diff []byte, done func()) {
	if n <= smallBytes {
		return small[0][:], small[1][:], func() {}
	}
	m := g.scratch.Get().(*scratch)
	return m.mask[:], m.diff[:], func() { g.scratch.Put(m) }
}

// repeat fills mask[:n] with w repeated, little-endian: one 8-byte store,
// then doubling copies, so the work is memmoves rather than a loop per
// word.
func repeat(mask []byte, w uint64, n int) []byte {
	binary.LittleEndian.PutUint64(mask[:8], w)
	for done := 8; done < n; done *= 2 {
		copy(mask[done:n], mask[:done])
	}
	return mask[:n]
}

// fill writes the payload bytes [off, off+len(p)) of the object hashed to
// kh into p.
func (g *Generator) fill(p []byte, kh uint64, off int64) {
	var small [2][smallBytes]byte
	mask, _, done := g.buffers(len(p), &small)
	defer done()
	for len(p) > 0 {
		blk, in := uint64(off)/patternBytes, int(uint64(off)%patternBytes)
		n := min(len(p), patternBytes-in)
		// Byte in+i of the block is XORed with byte (in+i)%8 of w; rotating
		// w right by in%8 bytes lines those up with byte i%8.
		w := bits.RotateLeft64(blockWord(kh, blk), -8*(in%8))
		subtle.XORBytes(p[:n], g.base[in:in+n], repeat(mask, w, n))
		p, off = p[n:], off+int64(n)
	}
}

// check compares p with the payload bytes [off, off+len(p)) of the object
// hashed to kh and returns the offset of the first difference, or -1.
func (g *Generator) check(p []byte, kh uint64, off int64) int64 {
	var small [2][smallBytes]byte
	mask, diff, done := g.buffers(len(p), &small)
	defer done()
	for len(p) > 0 {
		blk, in := uint64(off)/patternBytes, int(uint64(off)%patternBytes)
		n := min(len(p), patternBytes-in)
		w := bits.RotateLeft64(blockWord(kh, blk), -8*(in%8))
		subtle.XORBytes(diff[:n], p[:n], repeat(mask, w, n))
		if src := g.base[in : in+n]; !bytes.Equal(diff[:n], src) {
			for i := range n {
				if diff[i] != src[i] {
					return off + int64(i)
				}
			}
		}
		p, off = p[n:], off+int64(n)
	}
	return -1
}

// Payload returns the payload of the object named key, size bytes long, as
// a reader positioned at 0.
func (g *Generator) Payload(key string, size int64) *Payload {
	return &Payload{g: g, kh: g.keyHash(key), size: size}
}

// Fill writes bytes [off, off+len(p)) of the payload of key into p.
func (g *Generator) Fill(p []byte, key string, off int64) {
	g.fill(p, g.keyHash(key), off)
}

// Payload is a generated object body: an io.Reader, io.Seeker and
// io.ReaderAt over bytes that exist nowhere in memory. The SDK needs the
// Seeker to hash a body and rewind it before sending it over plain HTTP; the
// upload manager uses the ReaderAt to cut parts without buffering them.
// Read and Seek share a position and are not safe for concurrent use;
// ReadAt is.
type Payload struct {
	g    *Generator
	kh   uint64
	size int64
	off  int64
}

var (
	_ io.ReadSeeker = (*Payload)(nil)
	_ io.ReaderAt   = (*Payload)(nil)
)

// Size is the payload's length in bytes.
func (p *Payload) Size() int64 { return p.size }

// Read implements io.Reader.
func (p *Payload) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-p.off))
	p.g.fill(b[:n], p.kh, p.off)
	p.off += int64(n)
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (p *Payload) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("s3load: payload ReadAt at negative offset %d", off)
	}
	if off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-off))
	p.g.fill(b[:n], p.kh, off)
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// Seek implements io.Seeker. Seeking past the end is allowed (reads then
// return io.EOF); seeking before the start is an error.
func (p *Payload) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = p.off + offset
	case io.SeekEnd:
		abs = p.size + offset
	default:
		return 0, fmt.Errorf("s3load: payload Seek: bad whence %d", whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("s3load: payload Seek to negative position %d", abs)
	}
	p.off = abs
	return abs, nil
}

// Verifier checks a body, written to it in order, against the payload of
// one object. Write fails with ErrMismatch at the first wrong byte; Close
// fails with ErrSize if fewer or more bytes than expected arrived.
type Verifier struct {
	g    *Generator
	key  string
	kh   uint64
	size int64
	off  int64
}

// Verifier returns a checker for the object named key of size bytes.
func (g *Generator) Verifier(key string, size int64) *Verifier {
	return &Verifier{g: g, key: key, kh: g.keyHash(key), size: size}
}

// Write implements io.Writer.
func (v *Verifier) Write(b []byte) (int, error) {
	if extra := v.off + int64(len(b)) - v.size; extra > 0 {
		return 0, fmt.Errorf("%w: key %q: more than the expected %d bytes", ErrSize, v.key, v.size)
	}
	if at := v.g.check(b, v.kh, v.off); at >= 0 {
		want := make([]byte, 1)
		v.g.fill(want, v.kh, at)
		return int(at - v.off), fmt.Errorf("%w: key %q offset %d: got %#02x, want %#02x",
			ErrMismatch, v.key, at, b[at-v.off], want[0])
	}
	v.off += int64(len(b))
	return len(b), nil
}

// Close reports whether the whole object arrived.
func (v *Verifier) Close() error {
	if v.off != v.size {
		return fmt.Errorf("%w: key %q: got %d bytes, want %d", ErrSize, v.key, v.off, v.size)
	}
	return nil
}
