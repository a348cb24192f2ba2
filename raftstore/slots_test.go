package raftstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestStreamSlotsBound: a full set of slots makes the next stream wait,
// as long as its context allows, and a released slot lets it in.
func TestStreamSlotsBound(t *testing.T) {
	slots := make(chan struct{}, 2)
	var releases []func()
	for range 2 {
		r, err := acquireSlot(t.Context(), slots)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := acquireSlot(ctx, slots); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third stream with two slots: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := acquireSlot(t.Context(), slots)
		if err == nil {
			r()
		}
		got <- err
	}()
	releases[0]()
	if err := <-got; err != nil {
		t.Fatalf("after a release: %v", err)
	}
	releases[1]()
}
