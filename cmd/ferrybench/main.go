// Command ferrybench measures a ferry site and prints the figures that go
// to docs/benchmarks.md:
//
//   - propose: journal append (Propose → committed and applied) on a
//     three-node site next to bare hashicorp/raft with a no-op FSM on the
//     same setup (loopback TCP, raft-boltdb with fsync);
//   - ec: erasure-coded write and rebuild of 4 MiB objects next to raw
//     reedsolomon encode in the same process, disk time excluded (shards
//     go to an in-memory file system);
//   - memory: resident memory of three real ferryd processes while one
//     million small objects are written.
//
// Usage: ferrybench [-only propose,ec,memory] [-duration 5s] [-objects 1000000] [-out FILE]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/reedsolomon"

	"github.com/ferrydr/ferry/internal/highway"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/raftbench"
)

func main() {
	only := flag.String("only", "propose,ec,memory", "comma-separated sections to run")
	duration := flag.Duration("duration", 5*time.Second, "measurement time per propose configuration and round")
	rounds := flag.Int("rounds", 3, "propose: rounds per configuration (bare raft and ferry alternate)")
	ecRounds := flag.Int("ec-rounds", 20, "ec: rounds of every row in turn (100 objects a row and round; the report gives the median round)")
	sizes := flag.String("sizes", "128,4096", "propose: event payload sizes in bytes")
	writers := flag.String("writers", "1,16,64", "propose: concurrent writer counts")
	preload := flag.Int("preload", 0, "propose: 128-byte entries written to each fresh cluster before it is measured (a loaded site)")
	objects := flag.Int("objects", 1_000_000, "objects written by the memory section")
	ferryd := flag.String("ferryd", "", "ferryd binary for the memory section (default: beside ferrybench)")
	out := flag.String("out", "", "also write the report to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the in-process sections to this file")
	flag.Parse()
	po := proposeOptions{duration: *duration, rounds: *rounds, preload: *preload}
	var err error
	if po.sizes, err = intList(*sizes); err == nil {
		po.writers, err = intList(*writers)
	}
	if err == nil && po.preload < 0 {
		err = fmt.Errorf("-preload %d: want 0 or more", po.preload)
	}
	if err == nil && po.rounds < 1 {
		err = fmt.Errorf("-rounds %d: want at least 1", po.rounds)
	}
	if err == nil && *ecRounds < 1 {
		err = fmt.Errorf("-ec-rounds %d: want at least 1", *ecRounds)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferrybench:", err)
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ferrybench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "ferrybench:", err)
			os.Exit(1)
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintln(os.Stderr, "ferrybench:", err)
			}
		}()
	}
	var report bytes.Buffer
	w := io.MultiWriter(os.Stdout, &report)
	fmt.Fprintf(w, "ferrybench %s on %s/%s, %d CPUs, %s\n", time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	sections := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		sections[strings.TrimSpace(s)] = true
	}
	failed := false
	run := func(name string, fn func(io.Writer) error) {
		if !sections[name] {
			return
		}
		fmt.Fprintf(w, "\n## %s\n", name)
		if err := fn(w); err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", name, err)
			failed = true
		}
	}
	run("propose", func(w io.Writer) error { return benchPropose(w, po) })
	run("ec", func(w io.Writer) error { return benchEC(w, *ecRounds) })
	run("memory", func(w io.Writer) error { return benchMemory(w, *ferryd, *objects) })
	if *out != "" {
		if err := os.WriteFile(*out, report.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ferrybench:", err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// proposeOptions shape the propose section.
type proposeOptions struct {
	duration time.Duration
	rounds   int
	sizes    []int
	writers  []int
	preload  int
}

// benchPropose measures each configuration in rounds, alternating bare
// raft and ferry (bare, ferry, bare, ferry, ...), so that a disturbance on
// the shared machine (another process, a page-cache writeback) lands on
// both about equally. The ratio is of the throughputs summed over the
// rounds; the per-round ratios show the spread. Latencies are the median
// of the rounds' percentiles. Each configuration starts on a fresh
// cluster of each kind (so no row measures the data the rows before it
// left behind), which first takes o.preload 128-byte entries when asked:
// the same count for both, to measure a loaded site.
func benchPropose(w io.Writer, o proposeOptions) error {
	dir, err := os.MkdirTemp("", "ferrybench-propose-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(w, "%d rounds of %v per system and configuration, alternating; fresh clusters per configuration", o.rounds, o.duration)
	if o.preload > 0 {
		fmt.Fprintf(w, ", each preloaded with %d entries of 128 B", o.preload)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintln(w, "| size | writers | bare raft ops/s | ferry ops/s | ratio | ratio per round | bare p50 / p99 | ferry p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	cfg := 0
	for _, size := range o.sizes {
		for _, writers := range o.writers {
			cfg++
			line, err := proposeConfig(filepath.Join(dir, fmt.Sprint(cfg)), o, size, writers)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}

// proposeConfig measures one configuration on fresh clusters under dir
// and returns its table row.
func proposeConfig(dir string, o proposeOptions, size, writers int) (string, error) {
	bare, err := raftbench.StartBareRaft(filepath.Join(dir, "bare"))
	if err != nil {
		return "", err
	}
	defer bare.Close()
	site, err := raftbench.StartFerry(filepath.Join(dir, "ferry"))
	if err != nil {
		return "", err
	}
	defer site.Close()
	if o.preload > 0 {
		if err := bare.Preload(o.preload, 128); err != nil {
			return "", err
		}
		if err := site.Preload("preload", o.preload, 128); err != nil {
			return "", err
		}
	}
	var bs, fs []raftbench.Result
	var per []string
	for r := range o.rounds {
		b, err := bare.Run(writers, size, o.duration)
		if err != nil {
			return "", err
		}
		f, err := site.Run(fmt.Sprintf("bench-%d", r), writers, size, o.duration)
		if err != nil {
			return "", err
		}
		bs, fs = append(bs, b), append(fs, f)
		per = append(per, fmt.Sprintf("%.2f", f.OpsPerSec()/b.OpsPerSec()))
	}
	b, f := raftbench.Combine(bs), raftbench.Combine(fs)
	return fmt.Sprintf("| %d B | %d | %.0f | %.0f | %.2f | %s | %v / %v | %v / %v |", size, writers, b.OpsPerSec(), f.OpsPerSec(), f.OpsPerSec()/b.OpsPerSec(),
		strings.Join(per, " "), b.P50.Round(time.Microsecond), b.P99.Round(time.Microsecond), f.P50.Round(time.Microsecond), f.P99.Round(time.Microsecond)), nil
}

// intList parses "1,16,64".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad list element %q: want a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// benchEC compares the store's write and rebuild paths with a raw
// reedsolomon encode of the same 4 MiB objects, disk and network time
// excluded (shards go to an in-process transport that drops or keeps
// them). Every measurement runs in each of rounds rounds, in turn, so
// that the machine's drift (the raw encode's speed moves by half between
// runs with the heap's state) lands on all of them. A round's ratio
// compares two rows of the same round; the report gives the median round
// of each row, the median of its ratios and their spread, so that a round
// the VM stalled in shows in the spread instead of moving the figure.
func benchEC(w io.Writer, rounds int) error {
	const size = 4 << 20
	const iters = 100 // per measurement and round
	const conc = 4    // writers of the concurrent rows
	// Every worker has its own object, so writes can mark theirs as new.
	datas := make([][]byte, conc)
	for i := range datas {
		datas[i] = make([]byte, size)
		if _, err := rand.Read(datas[i]); err != nil {
			return err
		}
	}
	data := datas[0]
	enc, err := reedsolomon.New(4, 2)
	if err != nil {
		return err
	}
	// encode times Split + Encode of what input returns.
	encode := func(input func(worker int) ([]byte, error)) func(int) error {
		return func(worker int) error {
			in, err := input(worker)
			if err != nil {
				return err
			}
			shards, err := enc.Split(in)
			if err != nil {
				return err
			}
			return enc.Encode(shards)
		}
	}
	inMemory := func(worker int) ([]byte, error) { return datas[worker], nil }
	// The same encode of a body that arrives as a stream, as the store's
	// does: it must first be read into the encoder's buffer (Split of a
	// slice that is already in memory shares it, copying nothing).
	body := make([]byte, size)
	streamed := func(int) ([]byte, error) {
		_, err := io.ReadFull(bytes.NewReader(data), body)
		return body, err
	}
	// The hashing a store write cannot skip: the keyed ids of the four
	// 1 MiB data shards, advanced together as the store does (four streams
	// in one loop with AVX-512, two with AVX2; internal/highway).
	idKey := bytes.Repeat([]byte{0x42}, ecstore.IDKeySize)
	hashIDs := func(int) error {
		m, err := highway.NewMulti(idKey, 4)
		if err != nil {
			return err
		}
		shards := make([][]byte, 4)
		for i := range shards {
			shards[i] = data[i*size/4 : (i+1)*size/4]
		}
		m.Write(shards)
		for i := range shards {
			m.Sum(i, nil)
		}
		return nil
	}

	var pool ecstore.PoolSpec
	pool.Name, pool.Profile = "bench", ecstore.Profile{K: 4, M: 2}
	for n := range 3 {
		for d := range 2 {
			pool.Disks = append(pool.Disks, ecstore.Location{Node: fmt.Sprintf("n%d", n), Disk: fmt.Sprintf("d%d", d)})
		}
	}
	ctx := context.Background()
	keyedPool := pool
	keyedPool.IDKey = idKey // every new pool
	mem := &memTransport{shards: map[ecstore.Location]map[ecstore.ShardID][]byte{}, down: map[ecstore.Location]bool{}}
	// write measures Store.Write: every shard goes to the transport, which
	// keeps (mem) or drops it. Each worker writes its own object, changed
	// each time so no write repeats an earlier one.
	write := func(p ecstore.PoolSpec, tr ecstore.Transport, last **journalpb.Manifest) (func(int) error, error) {
		store, err := ecstore.New(ecstore.Config{Transport: tr, StripeSize: size})
		if err != nil {
			return nil, err
		}
		var seq atomic.Int64
		return func(worker int) error {
			i := seq.Add(1)
			d := datas[worker]
			d[0], d[1], d[2] = byte(i), byte(i>>8), byte(i>>16)
			m, _, err := store.Write(ctx, p, []byte(fmt.Sprint(i)), bytes.NewReader(d))
			if last != nil {
				*last = m
			}
			return err
		}, nil
	}
	shaW, err := write(pool, discardTransport{}, nil) // pools created before keyed ids
	if err != nil {
		return err
	}
	keyedW, err := write(keyedPool, discardTransport{}, nil)
	if err != nil {
		return err
	}
	keep := &memTransport{shards: map[ecstore.Location]map[ecstore.ShardID][]byte{}}
	keptW, err := write(keyedPool, keep, nil)
	if err != nil {
		return err
	}
	var rebuildObj *journalpb.Manifest
	setup, err := write(keyedPool, mem, &rebuildObj)
	if err != nil {
		return err
	}
	if err := setup(0); err != nil {
		return err
	}
	// Rebuild: read the object with two data shards' disks down.
	reader, err := ecstore.New(ecstore.Config{Transport: mem, StripeSize: size})
	if err != nil {
		return err
	}
	for _, l := range rebuildObj.GetLocations()[:2] {
		mem.down[ecstore.Location{Node: l.GetNode(), Disk: l.GetDisk()}] = true
	}
	rebuild := func(int) error { return reader.Read(ctx, rebuildObj, 0, size, io.Discard) }

	rows := []struct {
		name string
		conc int // workers running op at once
		base int // the row this one is compared with
		op   func(worker int) error
		took []time.Duration // per round
	}{
		{name: "raw reedsolomon encode (Split + Encode of an in-memory slice)", conc: 1, op: encode(inMemory)},
		{name: "raw encode of a streamed body (ReadFull into a buffer, Split, Encode)", conc: 1, op: encode(streamed)},
		{name: fmt.Sprintf("keyed HighwayHash-256 of the 4 data shards alone, %d at a time on one core: the ids a write must hash", highway.Ways()), conc: 1, op: hashIDs},
		{name: "store write, keyed ids (data hashed, parity ids derived; new pools), shards dropped", conc: 1, op: keyedW},
		{name: "store write, keyed ids, shards copied into memory", conc: 1, op: func(int) error {
			keep.mu.Lock()
			clear(keep.shards) // hold one object, not all of them
			keep.mu.Unlock()
			return keptW(0)
		}},
		{name: "store write, SHA-256 ids of all six shards (pools without an id key), shards dropped", conc: 1, op: shaW},
		{name: "store read with 2 data shards missing (rebuild)", conc: 1, op: rebuild},
		{name: "raw reedsolomon encode (Split + Encode of an in-memory slice)", conc: conc, op: encode(inMemory)},
		{name: "store write, keyed ids, shards dropped", conc: conc, base: 7, op: keyedW},
		{name: "store read with 2 data shards missing (rebuild)", conc: conc, base: 7, op: rebuild},
	}
	for range rounds {
		for i := range rows {
			r := &rows[i]
			t0 := time.Now()
			errs := make([]error, r.conc)
			var wg sync.WaitGroup
			for worker := range r.conc {
				wg.Go(func() {
					for range iters / r.conc {
						if errs[worker] = r.op(worker); errs[worker] != nil {
							return
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			r.took = append(r.took, time.Since(t0))
		}
	}
	rate := func(d time.Duration) float64 { return float64(size*iters) / d.Seconds() / (1 << 20) }
	fmt.Fprintf(w, "%d rounds of %d objects per row, rows in turn; the median round, and the spread of the rounds' ratios\n\n", rounds, iters)
	fmt.Fprintln(w, "| 4 MiB objects, 4+2, disk time excluded | at once | MiB/s | vs raw encode at as many at once | rounds' ratios |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		base := rows[r.base].took
		ratios := make([]float64, rounds)
		for i := range ratios {
			ratios[i] = base[i].Seconds() / r.took[i].Seconds()
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f – %.2f |\n", r.name, r.conc, rate(median(r.took)), median(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	return nil
}

// median returns the median of xs (the mean of the middle two for an
// even count); xs is not changed.
func median[T time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// memTransport keeps shards in a map (one copy per put); down makes
// locations fail.
type memTransport struct {
	mu     sync.Mutex
	shards map[ecstore.Location]map[ecstore.ShardID][]byte
	down   map[ecstore.Location]bool
}

func (t *memTransport) PutShard(_ context.Context, loc ecstore.Location, _ ecstore.IDScheme, id ecstore.ShardID, data []byte) error {
	c := bytes.Clone(data)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shards[loc] == nil {
		t.shards[loc] = map[ecstore.ShardID][]byte{}
	}
	t.shards[loc][id] = c
	return nil
}

func (t *memTransport) GetShard(_ context.Context, loc ecstore.Location, id ecstore.ShardID) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down[loc] {
		return nil, ecstore.ErrDiskUnavailable
	}
	if b, ok := t.shards[loc][id]; ok {
		return b, nil
	}
	return nil, ecstore.ErrNotFound
}

// discardTransport drops every shard.
type discardTransport struct{}

func (discardTransport) PutShard(context.Context, ecstore.Location, ecstore.IDScheme, ecstore.ShardID, []byte) error {
	return nil
}

func (discardTransport) GetShard(context.Context, ecstore.Location, ecstore.ShardID) ([]byte, error) {
	return nil, ecstore.ErrNotFound
}
