package journal

import (
	"errors"
	"fmt"
)

// Error classes. Check them with errors.Is; never match error text. Every
// error the journal returns wraps exactly one of these (an I/O failure also
// wraps the file system's own error, so errors.Is(err, syscall.ENOSPC)
// holds too).
var (
	// ErrCompacted: the requested index is below FirstIndex (released by
	// retention or dropped by Reset). A reader must resync from elsewhere
	// (a snapshot) and continue at FirstIndex or later.
	ErrCompacted = errors.New("journal: compacted")
	// ErrCorrupt: bytes on disk failed a checksum, a format check or the
	// index-continuity check somewhere other than a torn tail. The message
	// names the file and the offset.
	ErrCorrupt = errors.New("journal: corrupt")
	// ErrClosed: the journal or the cursor is closed.
	ErrClosed = errors.New("journal: closed")
	// ErrInvalid: the caller passed something the journal cannot store or
	// a configuration that does not validate (nil event, batch too large,
	// Reset(0), missing Dir).
	ErrInvalid = errors.New("journal: invalid argument")
	// ErrIO: the file system failed (EIO, ENOSPC, ...). After a failed
	// write the journal rolls the segment back and stays usable; after a
	// failed fsync (whose effect on the page cache is unknown) it refuses
	// every later Append, Write, Sync and Reset until it is reopened.
	ErrIO = errors.New("journal: i/o error")
	// ErrWritesLost is the ErrIO of a failure that came while batches
	// Write wrote were not yet synced (a failed Sync, or any failure after
	// unsynced writes): those batches may be lost, on disk and, after a
	// failed fsync, in what a reopen would read. errors.Is(err, ErrIO)
	// holds for it too. A caller that wrote with Write must rebuild what
	// it wrote since its last good Sync, for a state machine by restarting
	// and replaying its log.
	ErrWritesLost = fmt.Errorf("%w: unsynced writes may be lost", ErrIO)
)
