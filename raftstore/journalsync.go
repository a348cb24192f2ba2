package raftstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	pebblevfs "github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferrydr/ferry/journal"
)

// journalSync keeps the durable index from running ahead of the durable
// journal, which lets the state machine skip an fsync per batch.
//
// The state machine writes each batch's events with journal.Write (no
// fsync) and commits the index batch to Pebble's memtable (no WAL). Neither
// is durable then, and neither needs to be: the raft log, synced on a
// quorum before the entry committed, is what a crash recovers from. The
// one rule is that the index on disk must never hold a journal position
// the journal on disk lacks, or the replay after a crash would skip
// events the journal lost. The index reaches disk only through files
// Pebble creates (a memtable flush writes a table before the manifest
// records it; index.sync flushes before every snapshot and at close), and
// Pebble's file system here is syncFS, which calls sync before each file
// it creates. So the journal is synced first, every time.
//
// A failed sync may have lost events the in-memory index already holds
// (journal.ErrWritesLost): nothing written after it can be trusted, so
// sync fails from then on, Pebble's flushes fail with it (retried, slowly:
// syncFS waits before it reports the failure), a flush the node waits for
// (index.sync) returns the failure through aborted, and the state machine
// stops the node (errFatal). A restart drops the memtable and replays the
// log from the last index flush, which the journal covers.
//
// It is separate from the fsm because Pebble calls it from a flush that
// an apply may be waiting for while it holds the fsm's lock.
type journalSync struct {
	jr     atomic.Pointer[journal.Journal]
	failed atomic.Pointer[error]
	// aborted is closed when failed is first set.
	aborted chan struct{}
	once    sync.Once
}

func newJournalSync(jr *journal.Journal) *journalSync {
	s := &journalSync{aborted: make(chan struct{})}
	s.set(jr)
	return s
}

// set points sync at the state machine's current journal.
func (s *journalSync) set(jr *journal.Journal) { s.jr.Store(jr) }

// sync makes every event written to the journal durable.
func (s *journalSync) sync() error {
	if err := s.err(); err != nil {
		return err
	}
	jr := s.jr.Load()
	if jr == nil {
		return nil
	}
	err := jr.Sync()
	if errors.Is(err, journal.ErrWritesLost) {
		return s.fail(err)
	}
	// Other errors leave nothing unsynced behind (a closed journal synced
	// at Close; one that failed before any unsynced write lost nothing):
	// the flush waits for the state machine to reopen it.
	return err
}

// fail records err, which may have lost written events, as the reason the
// node must stop, and returns it (the first one recorded).
func (s *journalSync) fail(err error) error {
	err = fmt.Errorf("%w: journal events written since its last sync may be lost, restart the node to replay its log: %w", errFatal, err)
	s.failed.CompareAndSwap(nil, &err)
	s.once.Do(func() { close(s.aborted) })
	return *s.failed.Load()
}

// err returns the failure that stops the node, if any.
func (s *journalSync) err() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// syncFS is Pebble's file system with before run ahead of every file
// creation.
type syncFS struct {
	pebblevfs.FS
	before func() error
}

// syncFailedBackoff is how long syncFS holds a failure before Pebble sees
// it: Pebble retries a failed flush at once, in a loop, until one works.
const syncFailedBackoff = 100 * time.Millisecond

func (f *syncFS) Create(name string, category pebblevfs.DiskWriteCategory) (pebblevfs.File, error) {
	if err := f.before(); err != nil {
		time.Sleep(syncFailedBackoff) // pacing Pebble's retries, not waiting for a condition
		return nil, fmt.Errorf("raftstore: sync journal before index file %s: %w", name, err)
	}
	return f.FS.Create(name, category)
}
