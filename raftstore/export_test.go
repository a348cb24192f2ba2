package raftstore

import (
	"context"
	"path/filepath"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// ManifestForTest returns the manifest of bucket/key as the index holds it.
func (n *Node) ManifestForTest(ctx context.Context, bucket, key string) (*journalpb.Manifest, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	rec, err := n.fsm.index().getObject(bucket, key)
	if err != nil {
		return nil, err
	}
	return rec.put().GetManifest(), nil
}

// CrashForTest stops the node as a crash would leave its index: the
// memtable the index had not flushed is lost (it has no WAL), while the
// raft log, synced on every write, keeps everything. atCrash, when set,
// runs once raft has stopped and before anything else closes: the moment
// to clone a crashable file system holding the journal (whose unsynced
// tail a real crash may lose; closing it would sync it).
func (n *Node) CrashForTest(atCrash func()) error {
	return n.shutdown(func(x *index) error {
		if atCrash != nil {
			atCrash()
		}
		x.use.Lock()
		defer x.use.Unlock()
		if x.use.closed {
			return nil
		}
		x.use.closed = true
		return x.db.Close() // no flush
	})
}

// IndexAppliedForTest reads the applied raft index recorded in the index
// under a stopped node's data directory.
func IndexAppliedForTest(dataDir string) (uint64, error) {
	x, err := openIndex(filepath.Join(dataDir, "index"), indexOptions{})
	if err != nil {
		return 0, err
	}
	defer x.close()
	m, err := x.meta()
	return m.Applied, err
}
