package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// benchMemory starts three ferryd processes, writes objects small enough
// to ride inside their events from 64 concurrent clients, and samples each
// process's resident memory.
func benchMemory(w io.Writer, ferryd string, objects int) error {
	if ferryd == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		ferryd = filepath.Join(filepath.Dir(self), "ferryd")
	}
	dir, err := os.MkdirTemp("", "ferrybench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(os.Interrupt)
			_ = p.Wait()
		}
	}()
	var apis []string
	for i := range 3 {
		cfg := fmt.Sprintf("node_id: n%d\ndata_dir: %s\napi_addr: 127.0.0.1:0\nraft_addr: 127.0.0.1:%d\ns3:\n  addr: 127.0.0.1:0\nlog_level: warn\n",
			i+1, filepath.Join(dir, fmt.Sprintf("n%d", i+1)), 17401+10*i)
		if i == 0 {
			cfg += "bootstrap: true\n"
		} else {
			cfg += fmt.Sprintf("join: [%s]\n", apis[0])
		}
		path := filepath.Join(dir, fmt.Sprintf("n%d.yaml", i+1))
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			return err
		}
		cmd := exec.Command(ferryd, "--config", path)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", ferryd, err)
		}
		procs = append(procs, cmd)
		addr, err := readAPIAddr(stdout)
		if err != nil {
			return err
		}
		apis = append(apis, addr)
	}
	conn, err := raftstore.Dial(apis[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	c := nodepb.NewNodeClient(conn)
	// Ctrl-C stops the writers and returns, so the deferred cleanup stops
	// the ferryd processes this section started.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Status(ctx, &nodepb.StatusRequest{})
		if err == nil && len(st.GetMembers()) == 3 {
			registered := 0
			for _, m := range st.GetMembers() {
				if m.GetApiAddr() != "" {
					registered++
				}
			}
			if registered == 3 {
				break
			}
		}
		if time.Now().After(deadline) {
			return errors.New("site did not form")
		}
		time.Sleep(50 * time.Millisecond) // set-up: polling external processes
	}
	if _, err := c.CreateBucket(ctx, &nodepb.CreateBucketRequest{Bucket: "mem"}); err != nil {
		return err
	}
	var maxRSS, maxAnon [3]atomic.Int64
	sample := func() {
		for i, p := range procs {
			if rss, err := statusBytes(p.Process.Pid, "VmRSS:"); err == nil && rss > maxRSS[i].Load() {
				maxRSS[i].Store(rss)
			}
			if anon, err := statusBytes(p.Process.Pid, "RssAnon:"); err == nil && anon > maxAnon[i].Load() {
				maxAnon[i].Store(anon)
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	payload := make([]byte, 128)
	start := time.Now()
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, err := raftstore.Dial(apis[g%3])
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			defer cc.Close()
			client := nodepb.NewNodeClient(cc)
			for {
				i := next.Add(1)
				if i > int64(objects) || firstErr.Load() != nil {
					return
				}
				s, err := client.PutObject(ctx)
				if err == nil {
					err = s.Send(&nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Header{Header: &nodepb.PutObjectHeader{Bucket: "mem", Key: fmt.Sprintf("k/%09d", i), Size: int64(len(payload))}}})
				}
				if err == nil {
					err = s.Send(&nodepb.PutObjectRequest{Msg: &nodepb.PutObjectRequest_Data{Data: payload}})
				}
				if err == nil {
					_, err = s.CloseAndRecv()
				}
				if err != nil {
					err = fmt.Errorf("put %d: %w", i, err)
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-ctx.Done():
			<-done
			return fmt.Errorf("interrupted after %d objects", min(next.Load(), int64(objects)))
		case <-tick.C:
			sample()
			if time.Since(lastReport) > 30*time.Second {
				lastReport = time.Now()
				fmt.Fprintf(os.Stderr, "memory: %d objects written, max RSS %d/%d/%d MiB, max anon %d/%d/%d MiB\n", min(next.Load(), int64(objects)),
					maxRSS[0].Load()>>20, maxRSS[1].Load()>>20, maxRSS[2].Load()>>20, maxAnon[0].Load()>>20, maxAnon[1].Load()>>20, maxAnon[2].Load()>>20)
			}
		}
	}
	sample()
	if p := firstErr.Load(); p != nil {
		return *p
	}
	elapsed := time.Since(start)
	fmt.Fprintf(w, "%d objects of %d B through 3 ferryd processes, 64 clients: %v (%.0f puts/s)\n", objects, len(payload), elapsed.Round(time.Second), float64(objects)/elapsed.Seconds())
	fmt.Fprintln(w, "| node | max VmRSS | max RssAnon (heap and stacks) | resident at the end, by mapping |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for i, p := range procs {
		fmt.Fprintf(w, "| n%d | %d MiB | %d MiB | %s |\n", i+1, maxRSS[i].Load()>>20, maxAnon[i].Load()>>20, topMappings(p.Process.Pid, 4))
	}
	return nil
}

// topMappings sums the resident bytes of /proc/PID/smaps by mapped file
// ("[anon]" for anonymous memory) and names the n largest.
func topMappings(pid, n int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	sums := map[string]int64{}
	name := ""
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "[anon]"
			if len(f) >= 6 {
				name = filepath.Base(f[5])
			}
		case len(f) >= 2 && f[0] == "Rss:":
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			sums[name] += kb << 10
		}
	}
	names := make([]string, 0, len(sums))
	for k := range sums {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(sums[b], sums[a]) })
	var parts []string
	for _, k := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %d MiB", k, sums[k]>>20))
	}
	return strings.Join(parts, ", ")
}

func readAPIAddr(r io.Reader) (string, error) {
	re := regexp.MustCompile(`node API on (\S+),`)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return m[1], nil
		}
	}
	return "", errors.New("ferryd did not print its API address")
}

// statusBytes reads a kB field of /proc/PID/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
