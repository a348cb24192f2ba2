package raftstore

import (
	"context"

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
