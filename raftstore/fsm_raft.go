package raftstore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"

	"github.com/ferrydr/ferry/journal"
)

// This is the one file that knows *raft.Log: it adapts hashicorp/raft's FSM
// contract to the pure fsm.

// raftFSM implements raft.BatchingFSM.
type raftFSM struct {
	f      *fsm
	log    *slog.Logger
	stop   <-chan struct{}
	status *applyStatus
	// onFatal is told of an error that must stop the node.
	onFatal func(error)
	// snapshotReleased, when set, is told each time raft is done with a
	// snapshot, which it releases after compacting its log.
	snapshotReleased func()
}

var (
	_ raft.FSM         = (*raftFSM)(nil)
	_ raft.BatchingFSM = (*raftFSM)(nil)
)

func (a *raftFSM) Apply(l *raft.Log) any { return a.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries. A failure that may pass (a full or
// failing disk) is retried with backoff while the node runs, so applying
// stalls instead of skipping an entry; a failure that cannot pass (an event
// this version does not know) stops the node. Either way no entry is
// reported applied unless the index recorded it.
func (a *raftFSM) ApplyBatch(logs []*raft.Log) []any {
	entries := make([]entry, len(logs))
	for i, l := range logs {
		entries[i] = entry{Index: l.Index}
		if l.Type == raft.LogCommand {
			entries[i].Data = l.Data
		}
	}
	out := make([]any, len(logs))
	backoff := 100 * time.Millisecond
	for {
		results, err := a.f.applyBatch(entries)
		if err == nil {
			a.status.set(nil)
			for i := range results {
				out[i] = results[i]
			}
			return out
		}
		a.status.set(err)
		if !retryable(err) {
			a.log.Error("apply failed; stopping the node", "err", err)
			a.onFatal(err)
		} else {
			a.log.Error("apply failed; retrying", "err", err, "backoff", backoff)
			if errors.Is(err, journal.ErrIO) {
				// A reopen that finds written events may be lost records it
				// (journalSync), and the next apply stops the node.
				if rerr := a.f.reopenJournal(); rerr != nil {
					a.log.Error("reopen journal", "err", rerr)
				}
			}
		}
		t := time.NewTimer(backoff)
		select {
		case <-a.stop:
			t.Stop()
			for i := range out {
				out[i] = applyResult{Err: ErrShutdown}
			}
			return out
		case <-t.C:
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func retryable(err error) bool { return errors.Is(err, errIO) }

// errIO marks an I/O failure of the journal or index that may pass (a full
// disk, a failing write).
var errIO = errors.New("raftstore: i/o error")

func (a *raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	if err := a.status.get(); err != nil {
		return nil, fmt.Errorf("raftstore: no snapshot while applying is failing: %w", err)
	}
	// Raft may drop log entries up to this snapshot once it is persisted;
	// the journal and the index are written without syncing, so they are
	// made durable here first, the journal before the index.
	if err := a.f.js.sync(); err != nil {
		return nil, fmt.Errorf("raftstore: snapshot: %w", err)
	}
	idx := a.f.index()
	if err := idx.sync(); err != nil {
		return nil, fmt.Errorf("raftstore: snapshot: %w", err)
	}
	tx, jr, release, err := a.f.snapshotView()
	if err != nil {
		return nil, fmt.Errorf("raftstore: snapshot: %w", err)
	}
	return &indexSnapshot{tx: tx, jr: jr, release: release, released: a.snapshotReleased}, nil
}

func (a *raftFSM) Restore(rc io.ReadCloser) error {
	err := a.f.restore(rc)
	return errors.Join(err, rc.Close())
}

type indexSnapshot struct {
	tx *kvTx
	jr *journal.Journal
	// release ends tx and the journal's pin; released is then called.
	release, released func()
}

// Persist streams the index from disk into the sink; the state is never
// held in memory whole.
func (s *indexSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(s.tx, s.jr, sink); err != nil {
		return errors.Join(fmt.Errorf("raftstore: persist snapshot: %w", err), sink.Cancel())
	}
	return sink.Close()
}

func (s *indexSnapshot) Release() {
	s.release()
	if s.released != nil {
		s.released()
	}
}
