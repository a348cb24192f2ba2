package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// The root user's keys, given to ferryd through its environment.
const (
	rootAccessKey = "FKINTEROPROOTACCESS1"
	rootSecretKey = "interop-root-secret-key-0123456789abcdefghij"
	region        = "us-east-1"
)

const (
	startTimeout   = 60 * time.Second // ferryd printing its address and creating the root user
	stopTimeout    = 30 * time.Second // ferryd exiting after SIGINT
	commandTimeout = 5 * time.Minute  // one CLI command, 100 MiB transfers included
)

var seedFlag = flag.Int64("seed", 0, "seed for the interop test content (0: FERRY_INTEROP_SEED, else the clock)")

// testSeed returns the seed of this run's random content and logs it.
func testSeed(t *testing.T) int64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if v := os.Getenv("FERRY_INTEROP_SEED"); v != "" {
			var err error
			if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
				t.Fatalf("FERRY_INTEROP_SEED=%q: %v", v, err)
			}
		}
	}
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with -seed=%d or FERRY_INTEROP_SEED=%d)", seed, seed, seed)
	return seed
}

// buildFerryd builds cmd/ferryd into a temporary directory.
func buildFerryd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/ferrydr/ferry/cmd/ferryd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ferryd: %v\n%s", err, out)
	}
	return filepath.Join(dir, "ferryd")
}

// site is one running `ferryd --dev`.
type site struct {
	endpoint string // http://127.0.0.1:PORT
	hostPort string // 127.0.0.1:PORT
}

var s3AddrRE = regexp.MustCompile(`S3 on (http://\S+),`)

// startFerryd starts `ferryd --dev` on a temporary directory, waits until
// its S3 gateway accepts the root keys, and stops it (SIGINT, then SIGKILL)
// when t ends. Its log is shown if t failed.
func startFerryd(t *testing.T, bin string) *site {
	t.Helper()
	devDir := t.TempDir() // before the stop below: cleanups run last-in first-out
	logPath := filepath.Join(t.TempDir(), "ferryd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--dev", devDir, "--api-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0",
		"--s3-addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "FERRY_ROOT_ACCESS_KEY="+rootAccessKey, "FERRY_ROOT_SECRET_KEY="+rootSecretKey)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = logFile.Close() // the child holds its own descriptor
	showLog := func() string {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err.Error()
		}
		const max = 64 << 10
		if len(b) > max {
			b = append([]byte("…"), b[len(b)-max:]...)
		}
		return string(b)
	}

	// The goroutine reads ferryd's standard output to its end, then reaps
	// the process; the cleanup waits for it.
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		found := false
		for lines.Scan() {
			if m := s3AddrRE.FindStringSubmatch(lines.Text()); m != nil && !found {
				addr <- m[1]
				found = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("ferryd (pid %d) exited with %v", cmd.Process.Pid, err)
				}
			case <-time.After(stopTimeout):
				_ = cmd.Process.Kill()
				<-done
				t.Errorf("ferryd (pid %d) did not stop within %v of SIGINT; killed", cmd.Process.Pid, stopTimeout)
			}
		}
		if t.Failed() {
			t.Logf("ferryd log:\n%s", showLog())
		}
	})

	s := &site{}
	select {
	case s.endpoint = <-addr:
	case err := <-done:
		exited = true
		t.Fatalf("ferryd exited before serving S3: %v", err)
	case <-time.After(startTimeout):
		t.Fatalf("ferryd did not print its S3 address within %v", startTimeout)
	}
	s.hostPort = strings.TrimPrefix(s.endpoint, "http://")
	t.Logf("ferryd pid %d serves S3 on %s", cmd.Process.Pid, s.endpoint)

	// The root user is created once the site has a leader; until then its
	// key is unknown. Wait for it instead of sleeping.
	c := awss3.New(awss3.Options{
		Region: region, BaseEndpoint: aws.String(s.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(rootAccessKey, rootSecretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		_, err := c.ListBuckets(ctx, &awss3.ListBucketsInput{})
		if err == nil {
			return s
		}
		if !strings.Contains(err.Error(), "InvalidAccessKeyId") || ctx.Err() != nil {
			t.Fatalf("ferryd did not accept the root keys: %v", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // polling a real process
		}
	}
}

// toolPath finds a CLI: $FERRY_INTEROP_<NAME>, else Debian's /usr/bin/NAME,
// else NAME on PATH. A missing tool fails the test: it is not optional.
func toolPath(t *testing.T, name string) string {
	t.Helper()
	env := "FERRY_INTEROP_" + strings.ToUpper(name)
	if p := os.Getenv(env); p != "" {
		if !isExecutable(p) {
			t.Fatalf("%s=%s: not an executable file", env, p)
		}
		return p
	}
	if p := filepath.Join("/usr/bin", name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s is not installed: run .ci/run, which installs the Debian packages awscli, s3cmd and rclone "+
		"(or apt-get install awscli s3cmd rclone); these interop tests do not skip", name)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// isolatedEnv is the caller's environment without what could point a tool
// elsewhere (AWS_*, RCLONE_*, S3CMD*, proxies, HOME and XDG dirs), with
// HOME and the XDG dirs under home, plus extra.
func isolatedEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "RCLONE_"), strings.HasPrefix(u, "S3CMD"),
			strings.HasSuffix(u, "_PROXY"), strings.HasPrefix(u, "XDG_"), u == "HOME", u == "BOTO_CONFIG":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	return append(env, extra...)
}

// tool runs one CLI with fixed leading arguments and environment.
type tool struct {
	name  string
	path  string
	args  []string // before each command's own arguments
	extra []string // the environment variables set for it, shown in command lines
	env   []string
	dir   string // working directory
}

func newTool(name, path, dir string, args []string, extraEnv ...string) *tool {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		panic(err) // a fresh temporary directory
	}
	return &tool{name: name, path: path, args: args, extra: extraEnv, env: isolatedEnv(home, extraEnv...), dir: dir}
}

// result is one finished command.
type result struct {
	line     string // the command line, with the environment set for it
	stdout   []byte
	combined []byte // stdout and stderr interleaved
	err      error
}

// String shows the command line and its combined output, for failures.
func (r *result) String() string {
	out := string(r.combined)
	const head, tail = 4 << 10, 12 << 10 // errors come first, tracebacks last
	if len(out) > head+tail {
		out = fmt.Sprintf("%s\n… %d bytes elided …\n%s", out[:head], len(out)-head-tail, out[len(out)-tail:])
	}
	status := "exit 0"
	if r.err != nil {
		status = r.err.Error()
	}
	return fmt.Sprintf("$ %s\n%s\n(%s)", r.line, strings.TrimRight(out, "\n"), status)
}

// exec runs the tool and returns its result, failed or not.
func (c *tool) exec(args ...string) *result {
	full := append(append([]string(nil), c.args...), args...)
	var line []string
	line = append(line, c.extra...)
	line = append(line, c.path)
	for _, a := range full {
		line = append(line, shellQuote(a))
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, full...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.WaitDelay = 10 * time.Second
	var stdout bytes.Buffer
	combined := &lockedBuffer{}
	cmd.Stdout = io.MultiWriter(&stdout, combined)
	cmd.Stderr = combined
	err := cmd.Run()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w (killed after %v)", err, commandTimeout)
	}
	return &result{line: strings.Join(line, " "), stdout: stdout.Bytes(), combined: combined.Bytes(), err: err}
}

// run runs the tool and fails t, showing the command and its output, if
// the command fails.
func (c *tool) run(t *testing.T, args ...string) *result {
	t.Helper()
	r := c.exec(args...)
	if r.err != nil {
		t.Fatalf("%s failed:\n%s", c.name, r)
	}
	return r
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockedBuffer collects a command's stdout and stderr, which os/exec
// copies from two goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}
