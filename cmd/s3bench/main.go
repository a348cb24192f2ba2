package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/ferrydr/ferry/internal/s3load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default action so that a second
	// one kills the process.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the flags that are not part of s3load.Config.
type options struct {
	json  bool
	quiet bool
}

// parseFlags turns the command line into a Config; getenv supplies the
// credential defaults.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (s3load.Config, options, error) {
	cfg := s3load.DefaultConfig()
	var opt options
	fs := flag.NewFlagSet("s3bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "S3 endpoint URL, addressed path-style")
	fs.StringVar(&cfg.AccessKey, "access-key", "", "access key (default $AWS_ACCESS_KEY_ID, else $FERRY_ROOT_ACCESS_KEY)")
	fs.StringVar(&cfg.SecretKey, "secret-key", "", "secret key (default $AWS_SECRET_ACCESS_KEY, else $FERRY_ROOT_SECRET_KEY)")
	fs.StringVar(&cfg.Region, "region", cfg.Region, "signing region")
	fs.StringVar(&cfg.Bucket, "bucket", cfg.Bucket, "bucket, created if missing")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "key prefix; keys are PREFIX<size>/<8-digit index>")
	op := fs.String("op", string(cfg.Op), "put, get, or both (a put phase, then a get phase over the objects written)")
	fs.Var(&cfg.ObjectSize, "size", "object `size`: 4KiB, 64KiB, 4MiB, 5GiB, 1.5MiB, 4MB (decimal) or bytes")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "workers, each with one operation in flight")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of each phase")
	fs.Int64Var(&cfg.MaxOps, "ops", 0, "also end each phase after this many operations (0: no limit)")
	fs.IntVar(&cfg.Objects, "objects", cfg.Objects, "number of distinct keys: PUTs cycle through them, GETs read them")
	fs.BoolVar(&cfg.Verify, "verify", false, "check every GET body against the generated payload")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "payload seed; a get run verifies objects put with the same seed")
	fs.Var(&cfg.MultipartThreshold, "multipart-threshold", "objects larger than this `size` are uploaded in parts")
	fs.Var(&cfg.MultipartPartSize, "multipart-part-size", "part `size` of multipart uploads (at least 5MiB)")
	fs.IntVar(&cfg.MultipartConcurrency, "multipart-concurrency", cfg.MultipartConcurrency, "parts in flight per multipart upload")
	checksum := fs.String("checksum", string(cfg.Checksum), "SDK checksum calculation and validation: when_supported or when_required")
	fs.BoolVar(&cfg.UnsignedPayload, "unsigned-payload", false, "sign PUT bodies as UNSIGNED-PAYLOAD (no client-side SHA-256 pass)")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "SDK attempts per request (1: no retries, every failure counts)")
	fs.StringVar(&cfg.DiskDir, "disk-dir", "", "first measure sequential write bandwidth in this directory and compare PUT throughput with it")
	fs.Var(&cfg.DiskSize, "disk-size", "`size` written by the disk measurement")
	ec := fs.String("ec", fmt.Sprintf("%d+%d", cfg.ECData, cfg.ECParity), "the target's erasure-coding profile k+m, for the PUT target: disk/2 × k/(k+m)")
	fs.BoolVar(&opt.json, "json", false, "print the result as JSON")
	fs.BoolVar(&opt.quiet, "quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, opt, err
	}
	if fs.NArg() > 0 {
		return cfg, opt, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.Op = s3load.Op(*op)
	cfg.Checksum = s3load.Checksum(*checksum)
	k, m, err := parseEC(*ec)
	if err != nil {
		return cfg, opt, err
	}
	cfg.ECData, cfg.ECParity = k, m
	if cfg.AccessKey == "" {
		cfg.AccessKey = firstSet(getenv, "AWS_ACCESS_KEY_ID", "FERRY_ROOT_ACCESS_KEY")
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = firstSet(getenv, "AWS_SECRET_ACCESS_KEY", "FERRY_ROOT_SECRET_KEY")
	}
	cfg.SessionToken = getenv("AWS_SESSION_TOKEN")
	return cfg, opt, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// parseEC reads an erasure-coding profile "k+m".
func parseEC(s string) (k, m int, err error) {
	ks, ms, ok := strings.Cut(s, "+")
	if ok {
		k, err = strconv.Atoi(ks)
		if err == nil {
			m, err = strconv.Atoi(ms)
		}
	}
	if !ok || err != nil || k < 1 || m < 0 {
		return 0, 0, fmt.Errorf("-ec %q: want k+m, such as 4+2", s)
	}
	return k, m, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, opt, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "s3bench:", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "s3bench:")
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			fmt.Fprintln(stderr, "  ", e)
		}
		return 2
	}
	if !opt.quiet {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	res, runErr := s3load.Run(ctx, cfg)
	if runErr != nil && len(res.Phases) == 0 && res.Disk == nil {
		fmt.Fprintln(stderr, "s3bench:", runErr)
		if errors.Is(runErr, context.Canceled) {
			return 130
		}
		return 1
	}
	if opt.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.Format(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "s3bench: writing the result:", err)
		return 1
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		fmt.Fprintln(stderr, "s3bench: interrupted; the result above is partial")
		return 130
	case runErr != nil:
		fmt.Fprintln(stderr, "s3bench:", runErr)
		return 1
	}
	for _, p := range res.Phases {
		if p.Errors > 0 {
			return 1
		}
	}
	return 0
}
