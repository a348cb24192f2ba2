package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

func TestConfigValidate(t *testing.T) {
	err := Config{SegmentBytes: 10, RetentionWindow: -time.Second}.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate: %v, want ErrInvalid", err)
	}
	for _, want := range []string{"Dir", "SegmentBytes", "RetentionWindow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %s", err, want)
		}
	}
	if err := (Config{Dir: "/x"}).Validate(); err != nil {
		t.Errorf("zero Config with Dir: %v", err)
	}
	if _, err := Open(Config{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(Config{}): %v, want ErrInvalid", err)
	}
}

func TestSegmentNames(t *testing.T) {
	for _, first := range []uint64{1, 42, 1<<63 + 5, ^uint64(0)} {
		name := segName(first)
		got, ok := parseSegName(name)
		if !ok || got != first {
			t.Errorf("parseSegName(%q) = %d, %v; want %d", name, got, ok, first)
		}
	}
	if segName(1) != "00000000000000000001.seg" {
		t.Errorf("segName(1) = %q", segName(1))
	}
	for _, bad := range []string{"1.seg", "0000000000000000000a.seg", "00000000000000000001.seg.tmp", "99999999999999999999.seg"} {
		if _, ok := parseSegName(bad); ok {
			t.Errorf("parseSegName(%q) accepted", bad)
		}
	}
}

// fsKinds runs f on a MemFS and on the OS file system.
func fsKinds(t *testing.T, f func(t *testing.T, cfg Config)) {
	t.Run("mem", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.FS, cfg.Dir = vfs.NewMem(), "/data/journal"
		f(t, cfg)
	})
	t.Run("os", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Dir = filepath.Join(t.TempDir(), "journal")
		f(t, cfg)
	})
}

func TestRoundTrip(t *testing.T) {
	fsKinds(t, func(t *testing.T, cfg Config) {
		seed := testSeed(t)
		rng := newRand(seed)
		cfg.SegmentBytes = 8 << 10
		j := mustOpen(t, cfg)
		if f, l := j.FirstIndex(), j.LastIndex(); f != 1 || l != 0 {
			t.Fatalf("empty journal: first %d last %d", f, l)
		}
		pin, err := j.Subscribe(1) // without a cursor, retention keeps only the active segment
		if err != nil {
			t.Fatal(err)
		}
		if recs, err := j.Read(context.Background(), 1, 1<<20); err != nil || len(recs) != 0 {
			t.Fatalf("Read of empty journal: %d records, %v", len(recs), err)
		}
		model := map[uint64]*journalpb.Event{}
		next := uint64(1)
		for range 300 {
			n := 1 + rng.IntN(8)
			evs := make([]*journalpb.Event, n)
			for k := range evs {
				var r = rng
				if rng.IntN(2) == 0 {
					r = nil // compressible
				}
				evs[k] = testEvent(next+uint64(k), rng.IntN(600), int64(next), r)
				model[next+uint64(k)] = evs[k]
			}
			last := mustAppend(t, j, evs...)
			if want := next + uint64(n) - 1; last != want {
				t.Fatalf("Append returned %d, want %d", last, want)
			}
			next = last + 1
		}
		st := j.Stats()
		if st.Segments < 10 || st.FirstIndex != 1 || st.LastIndex != next-1 || st.Bytes <= 0 {
			t.Fatalf("Stats %+v: want many segments holding 1..%d", st, next-1)
		}
		for _, maxBytes := range []int{0, 1, 700, 5000, 1 << 20} {
			recs := readAll(t, j, 1, maxBytes)
			if uint64(len(recs)) != next-1 {
				t.Fatalf("maxBytes %d: read %d records, want %d", maxBytes, len(recs), next-1)
			}
			checkRecords(t, recs, model)
		}
		// Random starting points.
		for range 50 {
			from := 1 + rng.Uint64N(next-1)
			recs, err := j.Read(context.Background(), from, 2000)
			if err != nil || len(recs) == 0 || recs[0].Index != from {
				t.Fatalf("Read(%d): %d records, %v", from, len(recs), err)
			}
			checkRecords(t, recs, model)
		}
		mustClose(t, j)
		pin.Close()
		if _, err := j.Append(testEvent(1, 1, 1, nil)); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Close: %v", err)
		}
		if _, err := j.Read(context.Background(), 1, 1); !errors.Is(err, ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}

		j = mustOpen(t, cfg)
		defer mustClose(t, j)
		pin, err = j.Subscribe(1)
		if err != nil {
			t.Fatal(err)
		}
		defer pin.Close()
		if st2 := j.Stats(); st2 != st {
			t.Fatalf("Stats after reopen %+v, before %+v", st2, st)
		}
		checkRecords(t, readAll(t, j, 1, 1<<16), model)
		ev := testEvent(next, 10, 1, nil)
		model[next] = ev
		if last := mustAppend(t, j, ev); last != next {
			t.Fatalf("Append after reopen got %d, want %d", last, next)
		}
		checkRecords(t, readAll(t, j, next-5, 1<<16), model)
	})
}

func TestReadMaxBytes(t *testing.T) {
	j := mustOpen(t, memConfig(vfs.NewMem(), 0))
	defer mustClose(t, j)
	var evs []*journalpb.Event
	for i := range uint64(10) { // all of one size
		evs = append(evs, &journalpb.Event{OriginSeq: 1000 + i, Principal: strings.Repeat("p", 100)})
	}
	mustAppend(t, j, evs[:5]...)
	mustAppend(t, j, evs[5:]...)
	size := proto.Size(evs[0])
	ctx := context.Background()
	for _, tc := range []struct {
		from     uint64
		maxBytes int
		want     int
	}{
		{1, 0, 1}, {1, -1, 1}, {1, 1, 1}, {1, size, 1}, {1, size + 1, 1}, {1, 3 * size, 3},
		{4, 3 * size, 3}, {1, 1 << 20, 10}, {10, 1 << 20, 1}, {11, 1 << 20, 0}, {1000, 1, 0},
	} {
		recs, err := j.Read(ctx, tc.from, tc.maxBytes)
		if err != nil || len(recs) != tc.want {
			t.Errorf("Read(%d, %d): %d records, %v; want %d", tc.from, tc.maxBytes, len(recs), err, tc.want)
			continue
		}
		for k, r := range recs {
			if r.Index != tc.from+uint64(k) || !proto.Equal(r.Event, evs[r.Index-1]) {
				t.Errorf("Read(%d, %d): record %d wrong", tc.from, tc.maxBytes, k)
			}
		}
	}
	if _, err := j.Read(ctx, 0, 1); !errors.Is(err, ErrCompacted) {
		t.Errorf("Read(0): %v, want ErrCompacted", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := j.Read(cctx, 1, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with canceled ctx: %v", err)
	}
	if last, err := j.Append(); err != nil || last != 10 {
		t.Errorf("empty Append: %d, %v", last, err)
	}
	if _, err := j.Append(evs[0], nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append(nil event): %v, want ErrInvalid", err)
	}
	if j.LastIndex() != 10 {
		t.Errorf("LastIndex %d after a refused Append", j.LastIndex())
	}
}

// TestReadNoAliasing checks that returned events own their bytes: reading
// again (which reuses the journal's buffers) leaves earlier results intact.
func TestReadNoAliasing(t *testing.T) {
	j := mustOpen(t, memConfig(vfs.NewMem(), 0))
	defer mustClose(t, j)
	rng := newRand(testSeed(t))
	var evs []*journalpb.Event
	for i := range uint64(20) {
		evs = append(evs, testEvent(i+1, 3000, 1, rng))
		if i%2 == 0 {
			evs[i] = testEvent(i+1, 3000, 1, nil) // compressed
		}
	}
	mustAppend(t, j, evs[:10]...)
	mustAppend(t, j, evs[10:]...)
	first := readAll(t, j, 1, 1)
	for range 3 {
		second := readAll(t, j, 1, 1<<20)
		for _, r := range second {
			r.Event.GetVolumeWrite().Data[0] ^= 0xff
		}
	}
	for _, r := range first {
		if !proto.Equal(r.Event, evs[r.Index-1]) {
			t.Fatalf("record %d changed after later reads", r.Index)
		}
	}
}

func TestConcurrentReadersAndAppender(t *testing.T) {
	fsKinds(t, func(t *testing.T, cfg Config) {
		cfg.SegmentBytes = 4 << 10
		j := mustOpen(t, cfg)
		defer mustClose(t, j)
		const total = 400
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for r := range 4 {
			c, err := j.Subscribe(1)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				ctx := context.Background()
				for c.Index() <= total {
					recs, err := c.Next(ctx, 100*(r+1))
					if err != nil {
						errs <- err
						return
					}
					for _, rec := range recs {
						if rec.Event.GetOriginSeq() != rec.Index {
							errs <- fmt.Errorf("reader %d: record %d holds event %d", r, rec.Index, rec.Event.GetOriginSeq())
							return
						}
					}
					c.Ack(recs[len(recs)-1].Index)
				}
			}()
		}
		wg.Add(1)
		go func() { // a reader without a cursor, racing retention
			defer wg.Done()
			for from := uint64(1); from <= total; {
				recs, err := j.Read(context.Background(), from, 64)
				if errors.Is(err, ErrCompacted) {
					from = j.FirstIndex()
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if len(recs) == 0 {
					wait(t, j.Changed(), "append")
					continue
				}
				from = recs[len(recs)-1].Index + 1
			}
		}()
		for i := uint64(1); i <= total; i++ {
			mustAppend(t, j, testEvent(i, 50, 1, nil))
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestCursorNextBlocks(t *testing.T) {
	j := mustOpen(t, memConfig(vfs.NewMem(), 0))
	defer mustClose(t, j)
	c, err := j.Subscribe(1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	type result struct {
		recs []Record
		err  error
	}
	got := make(chan result, 1)
	changed := j.Changed()
	go func() {
		recs, err := c.Next(context.Background(), 1<<20)
		got <- result{recs, err}
	}()
	select {
	case r := <-got:
		t.Fatalf("Next returned %v, %v before any append", r.recs, r.err)
	default:
	}
	mustAppend(t, j, testEvent(1, 10, 1, nil), testEvent(2, 10, 1, nil))
	wait(t, changed, "Changed after append")
	r := <-got
	if r.err != nil || len(r.recs) != 2 || r.recs[0].Index != 1 {
		t.Fatalf("Next: %v, %v", r.recs, r.err)
	}
	if c.Index() != 3 {
		t.Fatalf("cursor at %d, want 3", c.Index())
	}

	// A canceled context unblocks Next.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := c.Next(ctx, 1)
		got <- result{nil, err}
	}()
	cancel()
	if r := <-got; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Next after cancel: %v", r.err)
	}

	// Closing the cursor unblocks Next.
	go func() {
		_, err := c.Next(context.Background(), 1)
		got <- result{nil, err}
	}()
	c.Close()
	if r := <-got; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("Next after cursor Close: %v", r.err)
	}

	// Closing the journal unblocks every cursor.
	c2, err := j.Subscribe(3)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := c2.Next(context.Background(), 1)
		got <- result{nil, err}
	}()
	mustClose(t, j)
	if r := <-got; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("Next after journal Close: %v", r.err)
	}
	if _, err := j.Subscribe(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestRetentionCursors(t *testing.T) {
	fs := vfs.NewMem()
	cfg := memConfig(fs, MinSegmentBytes)
	j := mustOpen(t, cfg)
	defer mustClose(t, j)
	a, err := j.Subscribe(1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := j.Subscribe(1)
	if err != nil {
		t.Fatal(err)
	}
	// Each 600-byte event fills a segment: one segment per append.
	for i := uint64(1); i <= 10; i++ {
		mustAppend(t, j, testEvent(i, 600, 1, newRand(i)))
	}
	if st := j.Stats(); st.Segments != 10 || st.FirstIndex != 1 {
		t.Fatalf("Stats %+v, want 10 segments from 1", st)
	}
	if got := j.SealedThrough(); got != 9 {
		t.Fatalf("SealedThrough %d, want 9 (index 10 is in the active segment)", got)
	}
	a.Ack(5)
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	if f := j.FirstIndex(); f != 1 {
		t.Fatalf("one cursor acked: first %d, want 1", f)
	}
	b.Ack(3)
	if f := j.FirstIndex(); f != 4 {
		t.Fatalf("acks 5 and 3: first %d, want 4", f)
	}
	if _, err := j.Read(context.Background(), 3, 1); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Read below first: %v, want ErrCompacted", err)
	}
	if _, err := j.Subscribe(2); !errors.Is(err, ErrCompacted) {
		t.Fatalf("Subscribe below first: %v, want ErrCompacted", err)
	}
	names, _ := fs.List("/j")
	if len(names) != 7 || names[0] != segName(4) {
		t.Fatalf("files %v, want 7 from %s", names, segName(4))
	}
	b.Close() // only a remains, acked at 5
	if f := j.FirstIndex(); f != 6 {
		t.Fatalf("after closing b: first %d, want 6", f)
	}
	a.Ack(100) // past the end: never deletes the active segment
	if st := j.Stats(); st.FirstIndex != 10 || st.Segments != 1 || st.LastIndex != 10 {
		t.Fatalf("all acked: Stats %+v, want the active segment only", st)
	}
	a.Ack(2) // acks never go back
	mustAppend(t, j, testEvent(11, 600, 1, newRand(11)))
	if f := j.FirstIndex(); f != 11 {
		t.Fatalf("append after full ack: first %d, want 11", f)
	}
	a.Close()
	recs := readAll(t, j, 11, 1<<20)
	if len(recs) != 1 {
		t.Fatalf("read %d records, want 1", len(recs))
	}
}

func TestRetentionWindow(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	cfg := memConfig(vfs.NewMem(), MinSegmentBytes)
	cfg.RetentionWindow = 100 * time.Second
	cfg.Now = clock.Now
	j := mustOpen(t, cfg)
	defer mustClose(t, j)
	// Event i has wall time i*10 s: segments 1..10.
	for i := uint64(1); i <= 10; i++ {
		mustAppend(t, j, testEvent(i, 600, int64(i)*10*int64(time.Second), newRand(i)))
	}
	// Now 1000 s, window 100 s: events at or after 900 s are kept: none of
	// them exist, so everything but the active segment goes.
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	if f := j.FirstIndex(); f != 10 {
		t.Fatalf("first %d, want 10", f)
	}

	j2cfg := memConfig(vfs.NewMem(), MinSegmentBytes)
	j2cfg.RetentionWindow, j2cfg.Now = cfg.RetentionWindow, clock.Now
	j2 := mustOpen(t, j2cfg)
	defer mustClose(t, j2)
	clock.Set(time.Unix(0, 0)) // nothing is old yet
	for i := uint64(1); i <= 10; i++ {
		mustAppend(t, j2, testEvent(i, 600, int64(i)*10*int64(time.Second), newRand(i)))
	}
	clock.Set(time.Unix(150, 0)) // keep events newer than 50 s: index 5 on
	if err := j2.Compact(); err != nil {
		t.Fatal(err)
	}
	if f := j2.FirstIndex(); f != 5 {
		t.Fatalf("window: first %d, want 5", f)
	}
	// A cursor holds back retention the window would allow.
	c, err := j2.Subscribe(5)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Unix(10000, 0))
	if err := j2.Compact(); err != nil {
		t.Fatal(err)
	}
	if f := j2.FirstIndex(); f != 5 {
		t.Fatalf("cursor: first %d, want 5", f)
	}
	c.Ack(7)
	if f := j2.FirstIndex(); f != 8 {
		t.Fatalf("after ack: first %d, want 8", f)
	}
	c.Close()
}

func TestReset(t *testing.T) {
	fsKinds(t, func(t *testing.T, cfg Config) {
		cfg.SegmentBytes = MinSegmentBytes
		j := mustOpen(t, cfg)
		c, err := j.Subscribe(1)
		if err != nil {
			t.Fatal(err)
		}
		for i := uint64(1); i <= 5; i++ {
			mustAppend(t, j, testEvent(i, 600, 1, newRand(i)))
		}
		changed := j.Changed()
		if err := j.Reset(0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Reset(0): %v", err)
		}
		if err := j.Reset(100); err != nil {
			t.Fatal(err)
		}
		wait(t, changed, "Changed after Reset")
		if f, l := j.FirstIndex(), j.LastIndex(); f != 100 || l != 99 {
			t.Fatalf("after Reset(100): first %d last %d", f, l)
		}
		if _, err := c.Next(context.Background(), 1); !errors.Is(err, ErrCompacted) {
			t.Fatalf("cursor below a reset: %v, want ErrCompacted", err)
		}
		c.Close()
		if recs, err := j.Read(context.Background(), 100, 1); err != nil || len(recs) != 0 {
			t.Fatalf("Read at next after reset: %v, %v", recs, err)
		}
		if last := mustAppend(t, j, testEvent(100, 10, 1, nil)); last != 100 {
			t.Fatalf("Append after Reset got %d", last)
		}
		mustClose(t, j)

		j = mustOpen(t, cfg)
		if st := j.Stats(); st.FirstIndex != 100 || st.LastIndex != 100 || st.Segments != 1 {
			t.Fatalf("reopen after reset: %+v", st)
		}
		// A cursor past the reset point refers to the old history; one
		// exactly at it continues.
		past, err := j.Subscribe(101)
		if err != nil {
			t.Fatal(err)
		}
		at, err := j.Subscribe(101)
		if err != nil {
			t.Fatal(err)
		}
		past.Ack(100)
		// Reset backwards, onto the name of the existing segment.
		if err := j.Reset(100); err != nil {
			t.Fatal(err)
		}
		if err := j.Reset(3); err != nil {
			t.Fatal(err)
		}
		at.Close()
		if at, err = j.Subscribe(3); err != nil {
			t.Fatal(err)
		}
		mustAppend(t, j, testEvent(3, 10, 1, nil))
		if _, err := past.Next(context.Background(), 1); !errors.Is(err, ErrCompacted) {
			t.Fatalf("cursor past a reset: %v, want ErrCompacted", err)
		}
		if recs, err := at.Next(context.Background(), 1); err != nil || len(recs) != 1 || recs[0].Index != 3 {
			t.Fatalf("cursor at the reset point: %v, %v", recs, err)
		}
		past.Close()
		at.Close()
		mustClose(t, j)
		j = mustOpen(t, cfg)
		defer mustClose(t, j)
		if st := j.Stats(); st.FirstIndex != 3 || st.LastIndex != 3 || st.Segments != 1 {
			t.Fatalf("reopen after reset backwards: %+v", st)
		}
		names, err := cfg.FS.List(cfg.Dir)
		if err != nil || len(names) != 1 || names[0] != segName(3) {
			t.Fatalf("files %v, %v", names, err)
		}
	})
}

func TestOpenIgnoresAndCleans(t *testing.T) {
	fs := vfs.NewMem()
	cfg := memConfig(fs, 0)
	j := mustOpen(t, cfg)
	mustAppend(t, j, testEvent(1, 10, 1, nil))
	mustClose(t, j)
	if err := vfs.WriteFileAtomic(fs, "/j/README", []byte("not a segment")); err != nil {
		t.Fatal(err)
	}
	if err := vfs.WriteFileAtomic(fs, "/j/"+segName(2)+tmpSuffix, []byte("half-made")); err != nil {
		t.Fatal(err)
	}
	j = mustOpen(t, cfg)
	defer mustClose(t, j)
	names, _ := fs.List("/j")
	if strings.Join(names, ",") != segName(1)+",README" {
		t.Fatalf("files after open: %v", names)
	}
	if l := j.LastIndex(); l != 1 {
		t.Fatalf("last %d", l)
	}
}
