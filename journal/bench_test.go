package journal

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

// benchEvents returns n events carrying size bytes of data each: half
// random (incompressible), half repetitive, like a mix of block writes and
// metadata.
func benchEvents(n, size int) []*journalpb.Event {
	rng := newRand(uint64(n*size + 1))
	evs := make([]*journalpb.Event, n)
	for i := range evs {
		ev := testEvent(uint64(i+1), size, 1, nil)
		data := ev.GetVolumeWrite().Data
		for k := range data[:size/2] {
			data[k] = byte(rng.Uint32())
		}
		evs[i] = ev
	}
	return evs
}

func benchAppend(b *testing.B, fs vfs.FS, dir string, n, size int) {
	cfg := DefaultConfig()
	cfg.FS, cfg.Dir = fs, dir
	j, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
	}()
	evs := benchEvents(n, size)
	b.SetBytes(int64(n * size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := j.Append(evs...); err != nil {
			b.Fatal(err)
		}
	}
	st := j.Stats()
	b.ReportMetric(float64(st.Bytes)/float64(st.LastIndex-st.FirstIndex+1)/float64(size), "disk/data")
}

// BenchmarkAppend appends batches to a journal on a real directory, fsync
// on: the cost of one durable batch.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 64} {
		for _, size := range []int{128, 4096} {
			b.Run(fmt.Sprintf("events=%d/size=%d", n, size), func(b *testing.B) {
				benchAppend(b, vfs.Default, filepath.Join(b.TempDir(), "j"), n, size)
			})
		}
	}
}

// BenchmarkRead reads a journal on a real directory from start to end in
// 64 KiB pieces, over and over (from the page cache).
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{128, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Dir = filepath.Join(b.TempDir(), "j")
			cfg.SegmentBytes = 4 << 20
			j, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := j.Close(); err != nil {
					b.Fatal(err)
				}
			}()
			pin, err := j.Subscribe(1)
			if err != nil {
				b.Fatal(err)
			}
			defer pin.Close()
			evs := benchEvents(64, size)
			for range (16 << 20) / (64 * size) { // 16 MiB of events
				if _, err := j.Append(evs...); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			from := uint64(1)
			var bytes int64
			b.ReportAllocs()
			for b.Loop() {
				recs, err := j.Read(ctx, from, 64<<10)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					bytes += int64(proto.Size(r.Event))
				}
				from = recs[len(recs)-1].Index + 1
				if from > j.LastIndex() {
					from = 1
				}
			}
			b.SetBytes(bytes / int64(b.N))
		})
	}
}
