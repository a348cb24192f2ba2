package ecstore

import (
	"bytes"
	"errors"
	"testing"
)

func shardFile(data []byte) []byte {
	id := ShardIDOf(data)
	h := shardHeader(id, data)
	return append(h[:], data...)
}

func TestShardFileRoundTrip(t *testing.T) {
	for _, data := range [][]byte{{}, {0}, []byte("hello shard"), bytes.Repeat([]byte{7}, 4096)} {
		id, got, err := decodeShardFile(shardFile(data))
		if err != nil || id != ShardIDOf(data) || !bytes.Equal(got, data) {
			t.Fatalf("decode(%d bytes) = %v, %d bytes, %v", len(data), id, len(got), err)
		}
	}
}

// TestShardFileEveryBitFlip flips every bit of a small shard file in turn;
// each flip must be detected.
func TestShardFileEveryBitFlip(t *testing.T) {
	f := shardFile([]byte("a small shard for an exhaustive bit flip test"))
	for i := range len(f) * 8 {
		b := bytes.Clone(f)
		b[i/8] ^= 1 << (i % 8)
		if _, _, err := decodeShardFile(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip of bit %d undetected: %v", i, err)
		}
	}
}

func TestShardFileDamage(t *testing.T) {
	f := shardFile(bytes.Repeat([]byte("data"), 100))
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short header":   f[:shardHeaderSize-1],
		"header only":    f[:shardHeaderSize],
		"torn tail":      f[:len(f)-1],
		"torn at sector": f[:256],
		"extra byte":     append(bytes.Clone(f), 0),
		"zeroed":         make([]byte, len(f)),
	} {
		if _, _, err := decodeShardFile(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeShardFile(f *testing.F) {
	f.Add(shardFile(nil))
	f.Add(shardFile([]byte("x")))
	f.Add(shardFile(bytes.Repeat([]byte{0xff}, 300)))
	f.Add([]byte("FRSH"))
	f.Add(make([]byte, shardHeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, data, err := decodeShardFile(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error of another class: %v", err)
			}
			return
		}
		// Accepted: re-encoding gives the same file.
		h := shardHeaderCRC(id, len(data), castagnoliOf(data))
		if !bytes.Equal(append(h[:], data...), b) {
			t.Fatalf("accepted a file that does not re-encode to itself")
		}
	})
}
