package raftstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Snapshot format. A snapshot is a logical image of the index, not a copy
// of the bbolt file, so that two replicas at the same applied index write
// byte-identical snapshots whatever their page layout:
//
//	"FERRYSNAP1\n"
//	records:  u8 tag=1 | u8 len | bucket name | u32 klen | key | u32 vlen | value
//	          (buckets in allBuckets order, keys in byte order)
//	trailer:  u8 tag=2 | u64 record count | u32 CRC32C of every byte before the trailer
//
// Writing streams from a read transaction; restoring streams into a new
// bbolt file in batches. Neither holds the state in memory.
const snapMagic = "FERRYSNAP1\n"

const (
	snapTagRecord  = 1
	snapTagTrailer = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeSnapshot streams the index as seen by tx to w.
func writeSnapshot(tx *bolt.Tx, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	crc := crc32.New(castagnoli)
	out := io.MultiWriter(bw, crc)
	if _, err := io.WriteString(out, snapMagic); err != nil {
		return err
	}
	var count uint64
	var hdr [4]byte
	for _, name := range allBuckets {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		err := b.ForEach(func(k, v []byte) error {
			if _, err := out.Write([]byte{snapTagRecord, byte(len(name))}); err != nil {
				return err
			}
			if _, err := out.Write(name); err != nil {
				return err
			}
			for _, part := range [][]byte{k, v} {
				binary.BigEndian.PutUint32(hdr[:], uint32(len(part)))
				if _, err := out.Write(hdr[:]); err != nil {
					return err
				}
				if _, err := out.Write(part); err != nil {
					return err
				}
			}
			count++
			return nil
		})
		if err != nil {
			return err
		}
	}
	var trailer [13]byte
	trailer[0] = snapTagTrailer
	binary.BigEndian.PutUint64(trailer[1:], count)
	if _, err := crc.Write(trailer[:9]); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(trailer[9:], crc.Sum32())
	if _, err := bw.Write(trailer[:]); err != nil {
		return err
	}
	return bw.Flush()
}

// errSnapshot classifies a bad snapshot image.
var errSnapshot = fmt.Errorf("%w: snapshot", ErrCorrupt)

type crcReader struct {
	r   io.Reader
	crc hash.Hash32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

// readSnapshot builds a new index file at path from a snapshot stream. The
// file is synced before it returns; on error it is removed.
func readSnapshot(path string, r io.Reader) (err error) {
	_ = os.Remove(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, db.Close())
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	db.NoSync = true // one sync at the end
	cr := &crcReader{r: bufio.NewReaderSize(r, 1<<20), crc: crc32.New(castagnoli)}
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(cr, magic); err != nil || string(magic) != snapMagic {
		return fmt.Errorf("%w: bad header", errSnapshot)
	}
	tx, err := db.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx != nil {
			_ = tx.Rollback()
		}
	}()
	var count, inTx uint64
	var tag [2]byte
	var lenBuf [4]byte
	readPart := func() ([]byte, error) {
		if _, err := io.ReadFull(cr, lenBuf[:]); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(lenBuf[:])
		if n > 1<<30 {
			return nil, fmt.Errorf("record of %d bytes", n)
		}
		b := make([]byte, n)
		_, err := io.ReadFull(cr, b)
		return b, err
	}
	for {
		if _, err := io.ReadFull(cr, tag[:1]); err != nil {
			return fmt.Errorf("%w: truncated after %d records: %v", errSnapshot, count, err)
		}
		if tag[0] == snapTagTrailer {
			break
		}
		if tag[0] != snapTagRecord {
			return fmt.Errorf("%w: unknown tag %d", errSnapshot, tag[0])
		}
		if _, err := io.ReadFull(cr, tag[1:2]); err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		name := make([]byte, tag[1])
		if _, err := io.ReadFull(cr, name); err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		k, err := readPart()
		if err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		v, err := readPart()
		if err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return err
		}
		count++
		if inTx++; inTx == 50_000 {
			if err := tx.Commit(); err != nil {
				return err
			}
			if tx, err = db.Begin(true); err != nil {
				return err
			}
			inTx = 0
		}
	}
	var trailer [12]byte
	if _, err := io.ReadFull(cr, trailer[:8]); err != nil {
		return fmt.Errorf("%w: truncated trailer", errSnapshot)
	}
	want := cr.crc.Sum32()
	if _, err := io.ReadFull(cr.r, trailer[8:]); err != nil {
		return fmt.Errorf("%w: truncated trailer", errSnapshot)
	}
	if got := binary.BigEndian.Uint64(trailer[:8]); got != count {
		return fmt.Errorf("%w: %d records, trailer says %d", errSnapshot, count, got)
	}
	if got := binary.BigEndian.Uint32(trailer[8:]); got != want {
		return fmt.Errorf("%w: checksum %08x, want %08x", errSnapshot, got, want)
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	err = tx.Commit()
	tx = nil
	if err != nil {
		return err
	}
	return db.Sync()
}
