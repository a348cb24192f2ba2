// Package journal is a site's ordered, durable, compressed event log.
//
// Every mutation of a site is a journalpb.Event. Append gives each event of a
// batch the next consecutive index (from 1) and returns once the batch is
// fsynced. Write does the same without waiting for the fsync, for a writer
// that can rebuild a lost tail (the state machine, from its raft log): its
// batches become durable at the next Sync, Append, segment roll or Close.
// Readers either Read a range without blocking, or Subscribe a
// Cursor: an index, never a buffer, whose Next waits for the head to move
// and whose Ack tells retention what it may release. "Head advanced" is the
// channel Changed returns, closed and replaced on every append. A reader
// asking for an index retention has released gets ErrCompacted and must
// resync (from a snapshot) at FirstIndex or later.
//
// # Example
//
//	j, err := journal.Open(journal.Config{Dir: dir})
//	if err != nil { ... }
//	defer j.Close()
//	c, err := j.Subscribe(j.FirstIndex()) // pins everything not yet acked
//	...
//	last, err := j.Append(ev1, ev2)      // durable when err == nil
//	...
//	recs, err := c.Next(ctx, 1<<20)      // blocks until there is something
//	for _, r := range recs { ship(r.Index, r.Event) }
//	c.Ack(recs[len(recs)-1].Index)       // retention may release them now
//
// # Invariants
//
//   - The journal holds the gap-free index range [FirstIndex, LastIndex];
//     segment files are consecutive: each starts at the index after the
//     previous one's last record, and every record starts at the index after
//     the previous record's last event. Open and Read check this.
//   - An Append that returned nil survives any crash, and so does every
//     batch written before a Sync or Append that returned nil. An Append
//     that returned an error was not acknowledged: after a crash its batch
//     may be there (whole) or not, never in part, and nothing after it is.
//     A crash may lose batches Write wrote since the last sync, always a
//     suffix of them and always whole batches.
//   - Only the last segment can have an unsynced tail: a segment is synced
//     before the next one is created.
//   - Retention deletes only whole segments, oldest first, never the one
//     being written, and only when every registered cursor has acked every
//     index in it and (with a RetentionWindow) every event in it has an HLC
//     wall time older than Now()-RetentionWindow. Events without an HLC
//     count as infinitely old. With no cursor and no window, nothing but the
//     active segment is kept: subscribe before appending what you need to
//     read later.
//   - Events returned by Read and Next are new allocations the caller owns.
//
// # Goroutines
//
// None. Appends run on the caller's goroutine and are serialized; reads run
// on their callers' goroutines in parallel with appends. Retention runs on
// the goroutine of the Append, Ack or Cursor.Close that made it possible
// (its errors are logged, not returned), or of Compact. The zstd encoder and
// decoder are shared by all journals and start no goroutines (EncodeAll and
// DecodeAll only).
//
// # Files
//
// Dir holds segment files named by their first index, zero-padded to 20
// digits so names sort like indexes: 00000000000000000001.seg. A new segment
// is written as NAME.seg.tmp (header only), fsynced, renamed to NAME.seg,
// and the directory is fsynced before any record goes into it. Segments
// are removed oldest first, with a directory fsync after each removal, so a
// crash never leaves a gap. Open removes *.seg.tmp leftovers and ignores
// other names.
//
// # Segment format (version 1)
//
// All integers are little-endian. CRC32C is CRC-32 with the Castagnoli
// polynomial.
//
//	segment header, 32 bytes at offset 0:
//	  0  4  magic "FYJL"
//	  4  2  version = 1
//	  6  2  reserved, zero
//	  8  8  first index (equals the file name; >= 1)
//	 16  8  generation (0 for a new journal, +1 on every Reset)
//	 24  4  reserved, zero
//	 28  4  CRC32C of bytes 0..27; also the segment's salt
//
//	then records, back to back, one per Append batch:
//	  0  4  body length N (25 <= N <= 25 + 256 MiB)
//	  4  4  CRC32C, seeded with the salt, of bytes 0..3 and then the body
//	  8  N  body:
//	        0  8  first index of the batch
//	        8  4  count of events, >= 1
//	       12  1  flags: bit 0 = payload is zstd-compressed; others zero
//	       13  4  raw payload length R (<= 256 MiB)
//	       17  8  largest HLC wall time (ns) of the batch's events (retention)
//	       25  .  payload: raw, or one zstd frame that decompresses to R bytes
//
//	raw payload: count times { uvarint L, L bytes of a protobuf journalpb.Event }
//
// Batches whose raw payload is under 128 bytes, or that zstd does not
// shrink, are stored raw. Seeding every record's CRC with the segment's salt
// makes a record copied from another segment or generation (a misdirected
// write) fail its checksum.
//
// # Recovery
//
// Open reads every segment once, checking headers, checksums and index
// continuity, and builds a sparse offset index (an entry every 64 KiB of a
// segment, so memory does not grow per event; reads decode record headers
// from the nearest entry, and cursors remember where they stopped). Then:
//
//   - Segments of a generation older than the newest are what an
//     interrupted Reset left: they are removed. (Reset makes the new,
//     empty segment durable first; from that moment the reset has happened.)
//   - In the last segment, a bad or incomplete record after which no valid
//     record (checksum correct, index at or past the expected one) starts
//     at any byte offset is a torn tail: the file is truncated there,
//     fsynced, and a warning is logged.
//   - Anything else is ErrCorrupt naming the file and the offset and never
//     skipped: a bad record with a valid one after it, any damage in a
//     segment that is not the last, a bad header, a header whose first index
//     disagrees with the name, a valid record with an unexpected index, or a
//     gap or overlap between segments.
//
// Damage to the very last record of the last segment is indistinguishable
// from a torn write and is truncated like one, as is a segment truncated
// exactly at a record boundary: the journal cannot know such a record was
// acknowledged. Read rechecks checksums, so damage after Open is reported as
// ErrCorrupt too, with file and offset.
//
// # Failures
//
// A failed write during Append truncates the segment back to the end of
// the last good record, fsyncs the cut and seeks back, so no later record
// follows a half-written one; the journal stays usable. A failed fsync
// (after which the page cache's state is unknown: in Append, Sync, a roll
// or Close), a failed roll-back, or a failure after a new segment was
// renamed into place makes the journal refuse every later Append, Write,
// Sync and Reset with ErrIO until it is reopened;
// reads keep working. Errors wrap a class (ErrCompacted, ErrCorrupt,
// ErrClosed, ErrInvalid, ErrIO) and, for I/O, the file system's error; the
// one exception is a done context, whose own error Read and Next wrap.
package journal
