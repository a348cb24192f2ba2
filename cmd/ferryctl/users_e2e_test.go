package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a process's standard error while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type ferrydProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	done   chan error
}

// startFerryd starts `ferryd --dev dir` with extra environment variables
// and returns once it has printed its API address.
func startFerryd(t *testing.T, bin, dir string, env ...string) *ferrydProc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "ferryd"), "--dev", dir, "--api-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--s3-addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &ferrydProc{t: t, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(p.stop)
	addrRE := regexp.MustCompile(`node API on (\S+),`)
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			p.addr = m[1]
			go func() {
				for lines.Scan() {
				}
			}()
			return p
		}
	}
	t.Fatalf("ferryd did not print its address\n%s", p.stderr.String())
	return nil
}

// stop interrupts ferryd and waits for it; safe to call twice.
func (p *ferrydProc) stop() {
	if p.done == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("ferryd exited with %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("ferryd did not stop on SIGINT\n%s", p.stderr.String())
	}
	p.done = nil
}

// runStdin runs ferryctl with stdin as its standard input.
func (c ctl) runStdin(stdin string, args ...string) (string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "ferryctl"), append([]string{"--addr", c.addr}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
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

func (c ctl) exits(want int, args ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != want {
		c.t.Fatalf("ferryctl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

type userJSON struct {
	User  string
	Admin bool
	Keys  int
}

type keyJSON struct {
	AccessKey string
	User      string
}

// waitRoot polls (an external process) until the site lists its root user.
func waitRoot(t *testing.T, c ctl) []userJSON {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, code := c.run("--json", "user", "ls")
		var resp struct{ Users []userJSON }
		if code == 0 && json.Unmarshal([]byte(out), &resp) == nil && slices.ContainsFunc(resp.Users, func(u userJSON) bool { return u.User == "root" }) {
			return resp.Users
		}
		if time.Now().After(deadline) {
			t.Fatalf("no root user: exit %d\n%s", code, out)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process's state
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process's output
	}
}

var seedFlag = flag.Uint64("ferryctl.seed", 0, "seed of the randomized names (0: time-based)")

var blockRE = regexp.MustCompile(`access key:\s+(\S+)\n\s+secret key:\s+(\S+)\n`)

// TestUserAndKeyCommands drives user and key management through the real
// ferryctl against real ferryd processes: the root credentials a new site
// generates (printed once, kept in a private file, the same after a
// restart), the ones it takes from the environment, and the user and key
// commands, whose listings never print a secret.
func TestUserAndKeyCommands(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -ferryctl.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	buildBinaries(t, bin)
	dev := filepath.Join(tmp, "dev")
	d := startFerryd(t, bin, dev)
	c := ctl{t: t, bin: bin, addr: d.addr}

	// Generated root credentials: one block on stderr, the same in a 0600
	// file in the data directory.
	users := waitRoot(t, c)
	if len(users) != 1 || !users[0].Admin || users[0].Keys != 1 {
		t.Fatalf("users of a new site: %+v", users)
	}
	waitFor(t, "the root credentials block", func() bool { return blockRE.MatchString(d.stderr.String()) })
	m := blockRE.FindAllStringSubmatch(d.stderr.String(), -1)
	if len(m) != 1 {
		t.Fatalf("root credentials printed %d times:\n%s", len(m), d.stderr.String())
	}
	rootAK, rootSecret := m[0][1], m[0][2]
	credFile := filepath.Join(dev, "root-credentials")
	raw, err := os.ReadFile(credFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "aws_access_key_id = "+rootAK+"\n") || !strings.Contains(string(raw), "aws_secret_access_key = "+rootSecret+"\n") {
		t.Fatalf("%s does not hold the printed credentials", credFile)
	}
	if fi, err := os.Stat(credFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, %v", credFile, fi.Mode(), err)
	}
	if out := c.ok("key", "ls", "root"); !strings.Contains(out, rootAK) || strings.Contains(out, rootSecret) {
		t.Fatalf("key ls root:\n%s", out)
	}

	// Users.
	alice := fmt.Sprintf("alice.%d@bank", rng.IntN(1_000_000))
	if out := c.ok("user", "create", alice); !strings.Contains(out, "created user "+alice) {
		t.Fatalf("user create: %s", out)
	}
	c.exits(exitConflict, "user", "create", alice)
	c.exits(exitUsage, "user", "create", "bad name")
	c.exits(exitUsage, "user", "create", "root", "--admin")
	c.exits(exitUsage, "user", "create")
	var ops userJSON
	if err := json.Unmarshal([]byte(c.ok("--json", "user", "create", "--admin", "ops")), &ops); err != nil || ops.User != "ops" || !ops.Admin {
		t.Fatalf("user create --json: %+v, %v", ops, err)
	}

	// Keys: a generated one (JSON), a given one with the secret on stdin.
	var created struct {
		Key       keyJSON
		SecretKey string
	}
	if err := json.Unmarshal([]byte(c.ok("--json", "key", "create", alice)), &created); err != nil {
		t.Fatal(err)
	}
	genAK, genSecret := created.Key.AccessKey, created.SecretKey
	if len(genAK) != 20 || !strings.HasPrefix(genAK, "FK") || len(genSecret) != 40 || created.Key.User != alice {
		t.Fatalf("key create --json: %+v (secret of %d characters)", created.Key, len(genSecret))
	}
	givenAK := fmt.Sprintf("AKIATEST%012d", rng.Int64N(1e12))
	givenSecret := fmt.Sprintf("given/Secret+%d", rng.Int64())
	out, code := c.runStdin(givenSecret+"\n", "key", "create", alice, "--access-key", givenAK, "--secret-key", "-")
	if code != 0 || !strings.Contains(out, "access key: "+givenAK) || !strings.Contains(out, "secret key: "+givenSecret) {
		t.Fatalf("key create with a given key: exit %d\n%s", code, out)
	}
	c.exits(exitConflict, "key", "create", "ops", "--access-key", givenAK)
	c.exits(exitNotFound, "key", "create", "nobody")
	if out := c.exits(exitUsage, "key", "create", alice, "--secret-key", "tiny-s3"); strings.Contains(out, "tiny-s3") {
		t.Fatalf("an invalid secret was echoed:\n%s", out)
	}

	// Listings never print a secret, in text or JSON.
	secrets := []string{rootSecret, genSecret, givenSecret}
	for _, args := range [][]string{
		{"key", "ls"}, {"key", "ls", alice}, {"--json", "key", "ls"}, {"--json", "key", "ls", alice},
		{"user", "ls"}, {"--json", "user", "ls"}, {"status"}, {"--json", "status"},
	} {
		out := c.ok(args...)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("ferryctl %s printed a secret:\n%s", strings.Join(args, " "), out)
			}
		}
		if args[len(args)-1] == alice && (!strings.Contains(out, genAK) || !strings.Contains(out, givenAK)) {
			t.Fatalf("ferryctl %s lacks a key:\n%s", strings.Join(args, " "), out)
		}
	}
	var listed struct{ Keys []keyJSON }
	if err := json.Unmarshal([]byte(c.ok("--json", "key", "ls")), &listed); err != nil || len(listed.Keys) != 3 {
		t.Fatalf("key ls --json: %+v, %v", listed, err)
	}
	c.exits(exitNotFound, "key", "ls", "nobody")

	// Deletion rules.
	c.exits(exitConflict, "user", "rm", alice) // still has keys
	c.exits(exitUsage, "user", "rm", "root")
	c.ok("key", "rm", genAK)
	c.ok("key", "rm", givenAK)
	c.exits(exitNotFound, "key", "rm", givenAK)
	c.ok("user", "rm", alice)
	c.exits(exitNotFound, "user", "rm", alice)
	if out := c.ok("user", "ls"); strings.Contains(out, alice) || !strings.Contains(out, "ops") {
		t.Fatalf("user ls after rm:\n%s", out)
	}

	// Everything ferryd wrote is private to its user.
	err = filepath.WalkDir(dev, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("%s has mode %v", path, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A restart neither generates nor prints credentials again.
	d.stop()
	d2 := startFerryd(t, bin, dev)
	c.addr = d2.addr
	users = waitRoot(t, c)
	if len(users) != 2 || users[0].User != "ops" || users[1].Keys != 1 {
		t.Fatalf("users after a restart: %+v", users)
	}
	if out := c.ok("key", "ls", "root"); !strings.Contains(out, rootAK) {
		t.Fatalf("root's key after a restart:\n%s", out)
	}
	if raw2, err := os.ReadFile(credFile); err != nil || !bytes.Equal(raw, raw2) {
		t.Fatalf("%s changed across a restart (%v)", credFile, err)
	}
	d2.stop()
	if strings.Contains(d2.stderr.String(), "secret key:") || strings.Contains(d2.stderr.String(), rootSecret) {
		t.Fatalf("the restarted ferryd printed credentials:\n%s", d2.stderr.String())
	}

	// Credentials from the environment: used, not printed, not written.
	envAK := fmt.Sprintf("AKIAENV%013d", rng.Int64N(1e13))
	envSecret := fmt.Sprintf("env-secret-%d", rng.Int64())
	dev2 := filepath.Join(tmp, "dev2")
	d3 := startFerryd(t, bin, dev2, "FERRY_ROOT_ACCESS_KEY="+envAK, "FERRY_ROOT_SECRET_KEY="+envSecret)
	c.addr = d3.addr
	waitRoot(t, c)
	var rootKeys struct{ Keys []keyJSON }
	if err := json.Unmarshal([]byte(c.ok("--json", "key", "ls", "root")), &rootKeys); err != nil || len(rootKeys.Keys) != 1 || rootKeys.Keys[0].AccessKey != envAK {
		t.Fatalf("root's keys with credentials from the environment: %+v, %v", rootKeys, err)
	}
	if _, err := os.Stat(filepath.Join(dev2, "root-credentials")); !os.IsNotExist(err) {
		t.Fatalf("a root-credentials file was written for credentials from the environment: %v", err)
	}
	d3.stop()
	if strings.Contains(d3.stderr.String(), envSecret) || strings.Contains(d3.stderr.String(), "secret key:") {
		t.Fatalf("ferryd printed the secret from the environment:\n%s", d3.stderr.String())
	}
}
