package journal

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal/journalpb"
)

var seedFlag = flag.Uint64("journal.seed", 0, "seed for randomized journal tests (0: JOURNAL_SEED or random)")

// testSeed returns the seed of a randomized test and logs it, so a failure
// can be replayed with -journal.seed or JOURNAL_SEED.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if s := os.Getenv("JOURNAL_SEED"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("JOURNAL_SEED=%q: %v", s, err)
			}
			seed = v
		}
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -journal.seed=%d)", seed, seed)
	return seed
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// TestMain fails the run when goroutines outlive the tests: the journal
// starts none, so every goroutine a test starts must be joined.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := settleLeaks(); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines outlived the tests:\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// settleLeaks gives exiting goroutines a chance to finish (yielding, not
// sleeping) and returns the stacks of those still running ferry or zstd
// code. Goroutines of the testing package and the runtime are not ours.
func settleLeaks() []string {
	var leaked []string
	for range 10000 {
		if leaked = leakedGoroutines(); len(leaked) == 0 {
			return nil
		}
		runtime.Gosched()
	}
	return leaked
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "journal.TestMain") {
			continue
		}
		if strings.Contains(g, "github.com/ferrydr/ferry/") || strings.Contains(g, "klauspost/compress") {
			leaked = append(leaked, g)
		}
	}
	return leaked
}

// testEvent returns a deterministic event whose body depends on i and has
// about size bytes of data (incompressible when rng is not nil).
func testEvent(i uint64, size int, wall int64, rng *rand.Rand) *journalpb.Event {
	data := make([]byte, size)
	if rng != nil {
		for k := range data {
			data[k] = byte(rng.Uint32())
		}
	} else {
		copy(data, strings.Repeat(fmt.Sprintf("event-%d|", i), size/8+1))
	}
	return &journalpb.Event{
		OriginSite: "site-a",
		OriginSeq:  i,
		Hlc:        &journalpb.Timestamp{WallNanos: wall, Logical: uint32(i)},
		Epoch:      1,
		Principal:  "tester",
		Kind:       journalpb.Kind_VOLUME_WRITE,
		Body: &journalpb.Event_VolumeWrite{VolumeWrite: &journalpb.VolumeWrite{
			Volume: "vol", Offset: i * 4096, Data: data, Length: uint64(size),
		}},
	}
}

// testLogger is a slog.Logger writing into a buffer a test can inspect.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *testLogger) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func memConfig(fs vfs.FS, segBytes int64) Config {
	cfg := DefaultConfig()
	cfg.Dir = "/j"
	cfg.FS = fs
	cfg.SegmentBytes = segBytes
	return cfg
}

func mustOpen(t testing.TB, cfg Config) *Journal {
	t.Helper()
	j, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return j
}

func mustClose(t testing.TB, j *Journal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustAppend(t testing.TB, j *Journal, evs ...*journalpb.Event) uint64 {
	t.Helper()
	last, err := j.Append(evs...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return last
}

// readAll reads [from, LastIndex] in pieces of maxBytes.
func readAll(t testing.TB, j *Journal, from uint64, maxBytes int) []Record {
	t.Helper()
	var out []Record
	for {
		recs, err := j.Read(context.Background(), from, maxBytes)
		if err != nil {
			t.Fatalf("Read(%d, %d): %v", from, maxBytes, err)
		}
		if len(recs) == 0 {
			return out
		}
		for k, r := range recs {
			if r.Index != from+uint64(k) {
				t.Fatalf("Read(%d): record %d has index %d", from, k, r.Index)
			}
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Index + 1
	}
}

// checkRecords compares records with the model (index -> event).
func checkRecords(t testing.TB, recs []Record, model map[uint64]*journalpb.Event) {
	t.Helper()
	for _, r := range recs {
		want, ok := model[r.Index]
		if !ok {
			t.Fatalf("record %d is not in the model", r.Index)
		}
		if !proto.Equal(r.Event, want) {
			t.Fatalf("record %d differs:\n got %v\nwant %v", r.Index, r.Event, want)
		}
	}
}

// isCorruptAt checks that err is ErrCorrupt naming file and an offset.
func isCorruptAt(t testing.TB, err error, file string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "offset ") {
		t.Fatalf("error %q does not name file %s and an offset", err, file)
	}
}

// wait blocks until ch is closed or the test's deadline is near.
func wait(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
