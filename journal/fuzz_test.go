package journal

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// seedFrames returns frames of a few shapes: tiny (stored raw), compressible
// (zstd) and incompressible (raw after trying zstd).
func seedFrames(salt uint32) [][]byte {
	var out [][]byte
	for _, evs := range [][]*journalpb.Event{
		{{OriginSeq: 1}},
		{testEvent(7, 2000, 5, nil), testEvent(8, 10, 6, nil)},
		{testEvent(9, 300, 7, newRand(3))},
		{{}, {}, {}},
	} {
		var raw []byte
		for _, ev := range evs {
			var err error
			if raw, err = appendRawEvent(raw, ev); err != nil {
				panic(err)
			}
		}
		out = append(out, appendFrame(nil, salt, 7, uint32(len(evs)), 5, raw))
	}
	return out
}

func TestFrameRoundTrip(t *testing.T) {
	const salt = 0x1234
	evs := []*journalpb.Event{testEvent(7, 2000, 5, nil), testEvent(8, 10, 99, newRand(1))}
	var raw []byte
	for _, ev := range evs {
		var err error
		if raw, err = appendRawEvent(raw, ev); err != nil {
			t.Fatal(err)
		}
	}
	frame := appendFrame(nil, salt, 7, 2, 99, raw)
	h, payload, n, err := decodeFrame(salt, frame)
	if err != nil || n != len(frame) {
		t.Fatalf("decodeFrame: %v (n %d of %d)", err, n, len(frame))
	}
	if h.First != 7 || h.Count != 2 || h.MaxWall != 99 || h.Flags != flagZstd || int(h.RawLen) != len(raw) {
		t.Fatalf("header %+v", h)
	}
	recs, err := decodeRecord(h, payload, nil)
	if err != nil || len(recs) != 2 {
		t.Fatalf("decodeRecord: %v", err)
	}
	for k, r := range recs {
		if r.Index != 7+uint64(k) || !proto.Equal(r.Event, evs[k]) {
			t.Fatalf("record %d: %+v", k, r)
		}
	}
	if _, _, _, err := decodeFrame(salt+1, frame); !errors.Is(err, errBadFrame) {
		t.Fatalf("frame under another salt: %v", err)
	}
	if _, _, _, err := decodeFrame(salt, frame[:len(frame)-1]); !errors.Is(err, errIncomplete) {
		t.Fatalf("short frame: %v", err)
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder, as they are
// and with a checksum that matches, so the fuzzer reaches the payload
// decoder: it never panics and fails only with a codec error.
func FuzzDecodeRecord(f *testing.F) {
	for _, fr := range seedFrames(42) {
		f.Add(uint32(42), fr)
	}
	f.Add(uint32(0), []byte{})
	f.Add(uint32(0), make([]byte, minFrameSize))
	f.Fuzz(func(t *testing.T, salt uint32, data []byte) {
		check := func(b []byte) {
			h, payload, n, err := decodeFrame(salt, b)
			if err != nil {
				if !errors.Is(err, errBadFrame) && !errors.Is(err, errIncomplete) {
					t.Fatalf("decodeFrame: unclassified error %v", err)
				}
				return
			}
			if n < minFrameSize || n > len(b) {
				t.Fatalf("decodeFrame consumed %d of %d bytes", n, len(b))
			}
			recs, err := decodeRecord(h, payload, nil)
			if err != nil {
				if !errors.Is(err, errBadFrame) {
					t.Fatalf("decodeRecord: unclassified error %v", err)
				}
				return
			}
			if len(recs) != int(h.Count) {
				t.Fatalf("decodeRecord returned %d records for %d", len(recs), h.Count)
			}
		}
		check(data)
		if len(data) >= minFrameSize && len(data)-frameHeaderSize <= maxBodyBytes {
			b := append([]byte(nil), data...)
			b[0], b[1], b[2], b[3] = byte(len(b)-8), byte((len(b)-8)>>8), byte((len(b)-8)>>16), byte((len(b)-8)>>24)
			sealFrame(b, salt)
			check(b)
		}
	})
}

// seedSegment returns the bytes of a real segment holding a few batches.
func seedSegment(f *testing.F) []byte {
	mem := vfs.NewMem()
	j, err := Open(memConfig(mem, 0))
	if err != nil {
		f.Fatal(err)
	}
	for i := uint64(1); i <= 4; i++ {
		if _, err := j.Append(testEvent(i, int(i)*100, 1, nil), testEvent(i+100, 20, 1, newRand(i))); err != nil {
			f.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		f.Fatal(err)
	}
	data, err := vfs.ReadFile(mem, "/j/"+segName(1))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzOpenSegment feeds arbitrary segment bytes to Open through a MemFS
// (with a valid header, or as the whole file): Open and the reads after it
// never panic and return either valid records or ErrCorrupt.
func FuzzOpenSegment(f *testing.F) {
	seg := seedSegment(f)
	f.Add(false, seg[segHeaderSize:])
	f.Add(true, seg)
	f.Add(false, seg[segHeaderSize:len(seg)-5])
	f.Add(false, append(append([]byte(nil), seg[segHeaderSize:]...), make([]byte, 600)...))
	f.Add(true, seg[:segHeaderSize-1])
	f.Add(false, []byte{})
	f.Fuzz(func(t *testing.T, whole bool, data []byte) {
		file := data
		if !whole {
			file = append(appendSegHeader(nil, segHeader{First: 1}), data...)
		}
		mem := vfs.NewMem()
		if err := mem.MkdirAll("/j"); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteFileAtomic(mem, "/j/"+segName(1), file); err != nil {
			t.Fatal(err)
		}
		j, err := Open(memConfig(mem, 0))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: unclassified error %v", err)
			}
			return
		}
		defer func() {
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
		}()
		first, last := j.FirstIndex(), j.LastIndex()
		for from := first; from <= last; {
			recs, err := j.Read(context.Background(), from, 100)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Read(%d): unclassified error %v", from, err)
				}
				return
			}
			if len(recs) == 0 || recs[0].Index != from {
				t.Fatalf("Read(%d) in [%d, %d]: %d records", from, first, last, len(recs))
			}
			from = recs[len(recs)-1].Index + 1
		}
		if got, err := j.Append(&journalpb.Event{OriginSeq: 1}); err != nil || got != last+1 {
			t.Fatalf("Append after Open: %d, %v; want %d", got, err, last+1)
		}
	})
}
