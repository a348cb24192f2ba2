package ecstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Shard file format (little endian), version 1:
//
//	offset size field
//	     0    4 magic "FRSH"
//	     4    2 version (1)
//	     6    2 header size (64)
//	     8    8 data length in bytes
//	    16    4 CRC-32C (Castagnoli) of the data
//	    20   32 shard id (SHA-256 of the data)
//	    52    8 reserved, zero
//	    60    4 CRC-32C of bytes [0, 60)
//	    64    … data
//
// The file's size must be exactly 64 + data length.
const (
	shardHeaderSize = 64
	shardVersion    = 1
	// maxShardData bounds the data a shard file may claim: a 64 MiB
	// stripe with k = 1.
	maxShardData = 64 << 20
)

var (
	shardMagic = [4]byte{'F', 'R', 'S', 'H'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// shardHeader returns the header of the shard file holding data.
func shardHeader(id ShardID, data []byte) [shardHeaderSize]byte {
	return shardHeaderCRC(id, len(data), castagnoliOf(data))
}

func shardHeaderCRC(id ShardID, n int, crc uint32) [shardHeaderSize]byte {
	var h [shardHeaderSize]byte
	copy(h[0:4], shardMagic[:])
	binary.LittleEndian.PutUint16(h[4:6], shardVersion)
	binary.LittleEndian.PutUint16(h[6:8], shardHeaderSize)
	binary.LittleEndian.PutUint64(h[8:16], uint64(n))
	binary.LittleEndian.PutUint32(h[16:20], crc)
	copy(h[20:52], id[:])
	binary.LittleEndian.PutUint32(h[60:64], crc32.Checksum(h[:60], castagnoli))
	return h
}

// decodeShardHeader checks a header and returns the id, data length and
// data CRC it records.
func decodeShardHeader(h []byte) (id ShardID, n int, crc uint32, err error) {
	switch {
	case len(h) < shardHeaderSize:
		return id, 0, 0, fmt.Errorf("%w: file of %d bytes is shorter than the header", ErrCorrupt, len(h))
	case !bytes.Equal(h[0:4], shardMagic[:]):
		return id, 0, 0, fmt.Errorf("%w: bad magic %q", ErrCorrupt, h[0:4])
	case binary.LittleEndian.Uint32(h[60:64]) != crc32.Checksum(h[:60], castagnoli):
		return id, 0, 0, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	case binary.LittleEndian.Uint16(h[4:6]) != shardVersion:
		return id, 0, 0, fmt.Errorf("%w: unknown version %d", ErrCorrupt, binary.LittleEndian.Uint16(h[4:6]))
	case binary.LittleEndian.Uint16(h[6:8]) != shardHeaderSize:
		return id, 0, 0, fmt.Errorf("%w: header size %d", ErrCorrupt, binary.LittleEndian.Uint16(h[6:8]))
	case binary.LittleEndian.Uint64(h[8:16]) > maxShardData:
		return id, 0, 0, fmt.Errorf("%w: data length %d", ErrCorrupt, binary.LittleEndian.Uint64(h[8:16]))
	case !isZero(h[52:60]):
		return id, 0, 0, fmt.Errorf("%w: reserved bytes set", ErrCorrupt)
	}
	copy(id[:], h[20:52])
	return id, int(binary.LittleEndian.Uint64(h[8:16])), binary.LittleEndian.Uint32(h[16:20]), nil
}

// decodeShardFile checks a whole shard file (header, length, data CRC) and
// returns its id and data, which aliases b. Errors wrap ErrCorrupt.
func decodeShardFile(b []byte) (ShardID, []byte, error) {
	id, n, crc, err := decodeShardHeader(b)
	if err != nil {
		return id, nil, err
	}
	if len(b)-shardHeaderSize != n {
		return id, nil, fmt.Errorf("%w: %d data bytes, header says %d", ErrCorrupt, len(b)-shardHeaderSize, n)
	}
	data := b[shardHeaderSize:]
	if castagnoliOf(data) != crc {
		return id, nil, fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)
	}
	return id, data, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func castagnoliOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
