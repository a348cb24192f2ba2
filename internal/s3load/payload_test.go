package s3load

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// readAll reads p to the end with reads of n bytes.
func readAll(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, n)
	for {
		m, err := r.Read(buf)
		out = append(out, buf[:m]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

const testPayloadSize = 3*patternBytes + 1234 // four blocks, the last partial

func TestPayloadDeterministic(t *testing.T) {
	a := readAll(t, NewGenerator(7).Payload("k1", testPayloadSize), 4096)
	if len(a) != testPayloadSize {
		t.Fatalf("read %d bytes, want %d", len(a), testPayloadSize)
	}
	if b := readAll(t, NewGenerator(7).Payload("k1", testPayloadSize), 1000); !bytes.Equal(a, b) {
		t.Error("two generators with one seed made different payloads for one key")
	}
	// The content at an offset does not depend on the object's size.
	if short := readAll(t, NewGenerator(7).Payload("k1", 100_000), 4096); !bytes.Equal(short, a[:100_000]) {
		t.Error("a shorter object is not a prefix of a longer one")
	}
	for name, other := range map[string][]byte{
		"other key":  readAll(t, NewGenerator(7).Payload("k2", testPayloadSize), 4096),
		"other seed": readAll(t, NewGenerator(8).Payload("k1", testPayloadSize), 4096),
	} {
		if same := countEqualBytes(a, other); same > len(a)/100 {
			t.Errorf("%s: %d of %d bytes equal, want about 1/256", name, same, len(a))
		}
	}
	// No two 64 KiB blocks of an object are alike (no dedup shortcut).
	for i := 0; i < 3; i++ {
		for j := i + 1; j < 3; j++ {
			x, y := a[i*patternBytes:(i+1)*patternBytes], a[j*patternBytes:(j+1)*patternBytes]
			if same := countEqualBytes(x, y); same > len(x)/100 {
				t.Errorf("blocks %d and %d: %d of %d bytes equal", i, j, same, len(x))
			}
		}
	}
}

func countEqualBytes(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			n++
		}
	}
	return n
}

func TestPayloadOddReadSizes(t *testing.T) {
	want := readAll(t, NewGenerator(1).Payload("k", testPayloadSize), 1<<20)
	for _, n := range []int{1, 3, 7, 8, 9, 31, 33, 4095, patternBytes + 5} {
		if got := readAll(t, NewGenerator(1).Payload("k", testPayloadSize), n); !bytes.Equal(got, want) {
			t.Errorf("reads of %d bytes produce different bytes", n)
		}
	}
}

func TestPayloadSeek(t *testing.T) {
	full := readAll(t, NewGenerator(3).Payload("seek", testPayloadSize), 1<<20)
	p := NewGenerator(3).Payload("seek", testPayloadSize)
	size := int64(testPayloadSize)
	for _, tc := range []struct {
		offset  int64
		whence  int
		wantPos int64
	}{
		{0, io.SeekStart, 0},
		{patternBytes - 3, io.SeekStart, patternBytes - 3}, // reads straddle a block
		{10, io.SeekCurrent, patternBytes + 7 + 10},        // after the 10-byte read below
		{-5, io.SeekCurrent, patternBytes + 17 + 10 - 5},
		{-1, io.SeekEnd, size - 1},
		{0, io.SeekEnd, size},
		{100, io.SeekEnd, size + 100},
		{12345, io.SeekStart, 12345},
	} {
		pos, err := p.Seek(tc.offset, tc.whence)
		if err != nil || pos != tc.wantPos {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", tc.offset, tc.whence, pos, err, tc.wantPos)
		}
		buf := make([]byte, 10)
		n, err := p.Read(buf)
		if pos >= size {
			if n != 0 || err != io.EOF {
				t.Errorf("read at %d past the end: %d, %v; want 0, EOF", pos, n, err)
			}
			continue
		}
		wantN := int(min(10, size-pos))
		if n != wantN || err != nil || !bytes.Equal(buf[:n], full[pos:pos+int64(n)]) {
			t.Errorf("read at %d: %d bytes %x, %v; want %x", pos, n, buf[:n], err, full[pos:pos+int64(wantN)])
		}
	}
	if _, err := p.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to -1 succeeded")
	}
	if _, err := p.Seek(0, 42); err == nil {
		t.Error("Seek with whence 42 succeeded")
	}
	// Rewinding, as the SDK does after hashing a body, gives the same body.
	if _, err := p.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if again := readAll(t, p, 32<<10); !bytes.Equal(again, full) {
		t.Error("payload read after a rewind differs")
	}
}

func TestPayloadReadAt(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	full := readAll(t, NewGenerator(3).Payload("at", testPayloadSize), 1<<20)
	p := NewGenerator(3).Payload("at", testPayloadSize)
	for range 500 {
		off := rng.Int64N(testPayloadSize + 10)
		buf := make([]byte, rng.IntN(2*patternBytes))
		n, err := p.ReadAt(buf, off)
		want := full[min(off, testPayloadSize):min(off+int64(len(buf)), testPayloadSize)]
		wantErr := error(nil)
		if len(want) < len(buf) {
			wantErr = io.EOF
		}
		if n != len(want) || err != wantErr || !bytes.Equal(buf[:n], want) {
			t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d, %v", len(buf), off, n, err, len(want), wantErr)
		}
	}
	if _, err := p.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at -1 succeeded")
	}
}

func TestVerifierAcceptsPayload(t *testing.T) {
	g := NewGenerator(5)
	for _, chunk := range []int{1, 7, 4096, patternBytes + 3, testPayloadSize} {
		v := g.Verifier("v", testPayloadSize)
		if _, err := io.CopyBuffer(struct{ io.Writer }{v}, g.Payload("v", testPayloadSize), make([]byte, chunk)); err != nil {
			t.Fatalf("chunks of %d: %v", chunk, err)
		}
		if err := v.Close(); err != nil {
			t.Fatalf("chunks of %d: Close: %v", chunk, err)
		}
	}
}

func TestVerifierCatchesFlippedByte(t *testing.T) {
	g := NewGenerator(5)
	good := readAll(t, g.Payload("v", testPayloadSize), 1<<20)
	for _, at := range []int64{0, 1, 7, 8, 9, patternBytes - 1, patternBytes, patternBytes + 1, testPayloadSize - 1} {
		for _, bit := range []byte{0x01, 0x80} {
			body := bytes.Clone(good)
			body[at] ^= bit
			if got := g.check(body, g.keyHash("v"), 0); got != at {
				t.Errorf("flip %#x at %d: check found offset %d", bit, at, got)
			}
			v := g.Verifier("v", testPayloadSize)
			_, err := io.CopyBuffer(struct{ io.Writer }{v}, bytes.NewReader(body), make([]byte, 1000))
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("flip %#x at %d: Verifier returned %v, want ErrMismatch", bit, at, err)
			}
		}
	}
	// A body checked from an offset other than 0 is checked at that offset.
	if got := g.check(good[100:200], g.keyHash("v"), 100); got != -1 {
		t.Errorf("a correct slice at offset 100 fails at %d", got)
	}
	if got := g.check(good[100:200], g.keyHash("v"), 101); got == -1 {
		t.Error("a slice checked one byte off passes")
	}
}

func TestVerifierCatchesWrongLength(t *testing.T) {
	g := NewGenerator(5)
	good := readAll(t, g.Payload("v", testPayloadSize), 1<<20)
	short := g.Verifier("v", testPayloadSize)
	if _, err := short.Write(good[:testPayloadSize-1]); err != nil {
		t.Fatal(err)
	}
	if err := short.Close(); !errors.Is(err, ErrSize) {
		t.Errorf("short body: Close returned %v, want ErrSize", err)
	}
	long := g.Verifier("v", testPayloadSize-1)
	if _, err := long.Write(good); !errors.Is(err, ErrSize) {
		t.Errorf("long body: Write returned %v, want ErrSize", err)
	}
}

func BenchmarkPayloadRead(b *testing.B) {
	p := NewGenerator(1).Payload("bench", 1<<62)
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		p.Read(buf)
	}
}

func BenchmarkVerify(b *testing.B) {
	g := NewGenerator(1)
	buf := make([]byte, 256<<10)
	g.Fill(buf, "bench", 0)
	v := g.Verifier("bench", int64(len(buf)))
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		v.off = 0
		if _, err := v.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPayloadGolden pins the payload function. Objects written by one build
// are verified by another (a put run now, a get -verify run later), so a
// change here is a format change, not a refactoring.
func TestPayloadGolden(t *testing.T) {
	b := make([]byte, 200_003)
	NewGenerator(1).Fill(b, "s3load/4MiB/00000042", 0)
	if got := fmt.Sprintf("%x", b[:16]); got != "1ddab498fec3bfccbb6a3874b3635ee3" {
		t.Errorf("first bytes %s", got)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != "231cfa21e64444376e3667ff503d366d38d39e2fd2e7527ee732d4f5521e0e52" {
		t.Errorf("digest %s", got)
	}
}
