package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal"
)

// Snapshot format. A snapshot is a logical image of the index, not a copy
// of its files, so that two replicas at the same applied index write
// byte-identical snapshots whatever their file layout:
//
//	"FERRYSNAP1\n"
//	records:  u8 tag=1 | u8 len | bucket name | u32 klen | key | u32 vlen | value
//	          (buckets in name order, keys in byte order)
//	trailer:  u8 tag=2 | u64 record count | u32 CRC32C of every byte before the trailer
//
// Writing streams from a read snapshot; restoring streams into a new index
// in batches. Neither holds the state in memory.
const snapMagic = "FERRYSNAP1\n"

const (
	snapTagRecord  = 1
	snapTagTrailer = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// writeSnapshot streams the index as seen by tx to w. Payloads the index
// keeps in the journal (payloads.go) are read from jr, which must still
// hold every one tx marks (a cursor taken before tx pins them).
func writeSnapshot(tx *kvTx, jr *journal.Journal, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	sw := &snapWriter{crc: crc32.New(castagnoli)}
	sw.out = io.MultiWriter(bw, sw.crc)
	if _, err := io.WriteString(sw.out, snapMagic); err != nil {
		return err
	}
	it, err := tx.r.NewIter(nil)
	if err != nil {
		return fmt.Errorf("%w: index iterator: %w", errIO, err)
	}
	marksPrefix := append(bytes.Clone(bktPayloadMarks), 0)
	payloadsPrefix := append(bytes.Clone(bktPayloads), 0)
	for ok := it.First(); ok; ok = it.Next() {
		full := it.Key()
		if bytes.HasPrefix(full, marksPrefix) {
			// Written with the payloads, below.
			if ok = it.SeekGE(prefixEnd(marksPrefix)); !ok {
				break
			}
			full = it.Key()
		}
		if bytes.Compare(full, payloadsPrefix) >= 0 {
			break // the payloads, the last bucket, below
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return errors.Join(fmt.Errorf("%w: index read: %w", errIO, err), it.Close())
		}
		if err := sw.record(full, v); err != nil {
			return errors.Join(err, it.Close())
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("%w: index iterator: %w", errIO, err)
	}
	if err := writePayloads(tx, jr, sw); err != nil {
		return err
	}
	var trailer [13]byte
	trailer[0] = snapTagTrailer
	binary.BigEndian.PutUint64(trailer[1:], sw.count)
	if _, err := sw.crc.Write(trailer[:9]); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(trailer[9:], sw.crc.Sum32())
	if _, err := bw.Write(trailer[:]); err != nil {
		return err
	}
	return bw.Flush()
}

// snapWriter writes a snapshot's records.
type snapWriter struct {
	out   io.Writer
	crc   hash.Hash32
	count uint64
}

// record writes the index entry full (bucket NUL key) = v.
func (sw *snapWriter) record(full, v []byte) error {
	sep := bytes.IndexByte(full, 0)
	if sep <= 0 || sep > 255 {
		return fmt.Errorf("%w: index key %q has no bucket", ErrCorrupt, full)
	}
	if _, err := sw.out.Write([]byte{snapTagRecord, byte(sep)}); err != nil {
		return err
	}
	if _, err := sw.out.Write(full[:sep]); err != nil {
		return err
	}
	var hdr [4]byte
	for _, part := range [][]byte{full[sep+1:], v} {
		binary.BigEndian.PutUint32(hdr[:], uint32(len(part)))
		if _, err := sw.out.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := sw.out.Write(part); err != nil {
			return err
		}
	}
	sw.count++
	return nil
}

// writePayloads writes every stripped payload as a "~payloads" record, in
// journal order, whether the index holds its bytes or only its mark: the
// image does not depend on how far the mover got.
func writePayloads(tx *kvTx, jr *journal.Journal, sw *snapWriter) error {
	held := tx.Bucket(bktPayloads).Cursor()
	defer held.Close()
	marked := tx.Bucket(bktPayloadMarks).Cursor()
	defer marked.Close()
	r := &journalReader{ctx: context.Background(), jr: jr}
	full := append(bytes.Clone(bktPayloads), 0)
	full = full[:len(full):len(full)] // appends copy
	hk, hv := held.First()
	mk, _ := marked.First()
	for hk != nil || mk != nil {
		if mk == nil || (hk != nil && bytes.Compare(hk, mk) <= 0) {
			if err := sw.record(append(full, hk...), hv); err != nil {
				return err
			}
			if mk != nil && bytes.Equal(hk, mk) {
				mk, _ = marked.Next() // moved, its mark left by a crash
			}
			hk, hv = held.Next()
			continue
		}
		j := u64(mk)
		if jr == nil {
			return fmt.Errorf("raftstore: snapshot: the payload at journal index %d is in the journal, and there is none", j)
		}
		ev, err := r.event(j)
		if err != nil {
			return fmt.Errorf("raftstore: snapshot: payload at journal index %d: %w", j, err)
		}
		v, err := payloadFrom(ev, j, nil)
		if err != nil {
			return err
		}
		if err := sw.record(append(full, mk...), v); err != nil {
			return err
		}
		mk, _ = marked.Next()
	}
	if tx.err != nil {
		return tx.err
	}
	// Nothing may sort after the payloads: it would be left out.
	it, err := tx.r.NewIter(&pebble.IterOptions{LowerBound: prefixEnd(full)})
	if err != nil {
		return fmt.Errorf("%w: index iterator: %w", errIO, err)
	}
	if it.First() {
		err = fmt.Errorf("%w: index key %q sorts after the payloads", ErrCorrupt, it.Key())
	}
	return errors.Join(err, it.Close())
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

// readSnapshot builds a new index in dir from a snapshot stream. The index
// is synced and marked complete (restoreDoneFile) before it returns; on
// error dir is removed.
func readSnapshot(dir string, r io.Reader, o indexOptions) (err error) {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	x, err := openIndex(dir, o)
	if err != nil {
		return err
	}
	defer func() {
		if x != nil {
			err = errors.Join(err, x.db.Close())
		}
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	cr := &crcReader{r: bufio.NewReaderSize(r, 1<<20), crc: crc32.New(castagnoli)}
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(cr, magic); err != nil || string(magic) != snapMagic {
		return fmt.Errorf("%w: bad header", errSnapshot)
	}
	batch := x.db.NewBatch()
	defer func() { _ = batch.Close() }()
	var count uint64
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
		if len(name) == 0 || bytes.IndexByte(name, 0) >= 0 {
			return fmt.Errorf("%w: bad bucket name %q", errSnapshot, name)
		}
		k, err := readPart()
		if err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		v, err := readPart()
		if err != nil {
			return fmt.Errorf("%w: %v", errSnapshot, err)
		}
		full := make([]byte, 0, len(name)+1+len(k))
		full = append(append(append(full, name...), 0), k...)
		if err := batch.Set(full, v, nil); err != nil {
			return err
		}
		count++
		if batch.Len() >= 32<<20 {
			if err := batch.Commit(pebble.NoSync); err != nil {
				return err
			}
			if err := batch.Close(); err != nil {
				return err
			}
			batch = x.db.NewBatch()
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
	if err := batch.Commit(pebble.NoSync); err != nil {
		return err
	}
	err = x.close() // flushes: the index has no WAL
	x = nil
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(vfs.Default, filepath.Join(dir, restoreDoneFile), []byte("ok\n"))
}
