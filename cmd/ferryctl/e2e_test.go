package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// buildBinaries compiles ferryd and ferryctl into dir.
func buildBinaries(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/ferrydr/ferry/cmd/ferryd", "github.com/ferrydr/ferry/cmd/ferryctl")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// startDev starts `ferryd --dev` on ephemeral ports and returns its API
// address once it has printed it.
func startDev(t *testing.T, bin, dir string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "ferryd"), "--dev", dir, "--api-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--s3-addr", "127.0.0.1:0", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ferryd exited with %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("ferryd did not stop on SIGINT\n%s", stderr.String())
		}
	})
	addrRE := regexp.MustCompile(`node API on (\S+),`)
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			go func() {
				for lines.Scan() {
				}
			}()
			return m[1]
		}
	}
	t.Fatalf("ferryd did not print its address\n%s", stderr.String())
	return ""
}

type ctl struct {
	t    *testing.T
	bin  string
	addr string
}

func (c ctl) run(args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "ferryctl"), append([]string{"--addr", c.addr}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), 0
}

func (c ctl) ok(args ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("ferryctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestFerryctlAgainstFerryd drives a real ferryd --dev with the real
// ferryctl: the operator's view, end to end.
func TestFerryctlAgainstFerryd(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	buildBinaries(t, bin)
	addr := startDev(t, bin, filepath.Join(tmp, "dev"))
	c := ctl{t: t, bin: bin, addr: addr}

	// Wait for the site to elect itself and create its pool.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, code := c.run("--json", "status")
		var st struct {
			State string
			Pools []struct{ Active bool }
		}
		if code == 0 && json.Unmarshal([]byte(out), &st) == nil && st.State == "Leader" && len(st.Pools) == 1 && st.Pools[0].Active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("site not ready: exit %d\n%s", code, out)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process's state
	}
	out := c.ok("status")
	for _, want := range []string{"Leader", "journal", "default", "4+2"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	c.ok("bucket", "create", "photos")
	if _, code := c.run("bucket", "create", "photos"); code != exitConflict {
		t.Fatalf("second bucket create exited %d, want %d", code, exitConflict)
	}
	big := make([]byte, 9<<20+123) // erasure coded, several stripes
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(tmp, "big.bin")
	if err := os.WriteFile(src, big, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("obj", "put", "photos/2026/big.bin", src)
	small := filepath.Join(tmp, "small.txt")
	if err := os.WriteFile(small, []byte("hello ferry\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("obj", "put", "photos/2026/small.txt", small)

	dst := filepath.Join(tmp, "back.bin")
	c.ok("obj", "get", "photos/2026/big.bin", dst)
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("downloaded object differs (%d bytes, %v)", len(got), err)
	}

	var listed []map[string]any
	if err := json.Unmarshal([]byte(c.ok("--json", "obj", "ls", "photos/2026/")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0]["key"] != "2026/big.bin" || listed[1]["key"] != "2026/small.txt" {
		t.Fatalf("ls = %v", listed)
	}

	if _, code := c.run("obj", "get", "photos/nope", filepath.Join(tmp, "nope")); code != exitNotFound {
		t.Fatalf("get of a missing key exited %d, want %d", code, exitNotFound)
	}
	if _, err := os.Stat(filepath.Join(tmp, "nope")); !os.IsNotExist(err) {
		t.Fatal("a failed get left a file behind")
	}
	if _, code := c.run("bucket", "rm", "photos"); code != exitConflict {
		t.Fatalf("removing a non-empty bucket exited %d, want %d", code, exitConflict)
	}
	if out := c.ok("scrub"); !strings.Contains(out, "unrepairable 0") {
		t.Fatalf("scrub: %s", out)
	}
	c.ok("obj", "rm", "photos/2026/big.bin")
	c.ok("obj", "rm", "photos/2026/small.txt")
	c.ok("bucket", "rm", "photos")
	if _, code := c.run("frobnicate"); code != exitUsage {
		t.Fatalf("unknown command exited %d, want %d", code, exitUsage)
	}
	if _, code := c.run("obj", "put", "Bad_Bucket/k", small); code != exitUsage {
		t.Fatalf("invalid bucket exited %d, want %d", code, exitUsage)
	}
	// A node that is not there: a clear "unavailable".
	down := ctl{t: t, bin: bin, addr: "127.0.0.1:1"}
	if _, code := down.run("--timeout", "2s", "status"); code != exitUnavailable {
		t.Fatalf("status against no node exited %d, want %d", code, exitUnavailable)
	}
}
