// Command ferryd is the ferry node daemon: one node of a site, running the
// raft-replicated journal, the metadata index, the erasure-coded shard
// store and the node API.
//
//	ferryd --dev DIR             a one-node site in DIR (six local disks)
//	ferryd --config FILE [flags] a node as FILE describes; flags override it
//
// FERRY_ROOT_ACCESS_KEY and FERRY_ROOT_SECRET_KEY, when set, are the
// credentials of the root user a new site creates; otherwise the node that
// bootstraps the site generates them, prints them once to standard error
// and keeps them in DATA_DIR/root-credentials (mode 0600). ferryd runs with
// umask 077: every file it creates is private to its user.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ferrydr/ferry/raftstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, strings.Split(v, ",")...); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ferryd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configPath = fs.String("config", "", "YAML configuration `file`")
		dev        = fs.String("dev", "", "run a one-node development site in `dir` (six local directories as disks)")
		nodeID     = fs.String("node-id", "", "node id (overrides the file)")
		dataDir    = fs.String("data-dir", "", "data directory (overrides the file)")
		apiAddr    = fs.String("api-addr", "", "node API listen address (default 127.0.0.1:7400)")
		raftAddr   = fs.String("raft-addr", "", "raft listen address (default 127.0.0.1:7401)")
		bootstrap  = fs.Bool("bootstrap", false, "start a new site if this node has no state")
		logLevel   = fs.String("log-level", "", "debug, info, warn or error (default info)")
		s3Addr     = fs.String("s3-addr", "", "S3 gateway listen address, or \"off\" (default 127.0.0.1:9000)")
		join       stringList
	)
	fs.Var(&join, "join", "API `addr` of a site member to join through (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var fc fileConfig
	switch {
	case *dev != "" && *configPath != "":
		fmt.Fprintln(stderr, "ferryd: --dev and --config exclude each other")
		return 2
	case *dev != "":
		fc = devConfig(*dev)
	case *configPath != "":
		var err error
		if fc, err = loadConfigFile(*configPath); err != nil {
			fmt.Fprintln(stderr, "ferryd:", err)
			return 2
		}
	}
	over := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	over(&fc.NodeID, *nodeID)
	over(&fc.DataDir, *dataDir)
	over(&fc.APIAddr, *apiAddr)
	over(&fc.RaftAddr, *raftAddr)
	over(&fc.LogLevel, *logLevel)
	over(&fc.S3.Addr, *s3Addr)
	fc.Bootstrap = fc.Bootstrap || *bootstrap
	fc.Join = append(fc.Join, join...)
	cfg, err := fc.nodeConfig()
	rootFromEnv(os.Getenv, &cfg)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "ferryd: invalid configuration:\n%s\n", indent(err.Error()))
		if cfg.RootAccessKey != "" || cfg.RootSecretKey != "" {
			fmt.Fprintf(stderr, "(the root credentials come from %s and %s)\n", envRootAccessKey, envRootSecretKey)
		}
		return 2
	}
	cfg.Logger = newLogger(stderr, fc.LogLevel, fc.LogFormat)
	cfg.OnRootCredentials = func(c raftstore.RootCredentials) { printRootCredentials(stderr, c) }
	restrictUmask()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := raftstore.Open(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "ferryd:", err)
		return 1
	}
	gw, err := startS3(fc.S3, n, cfg.Logger)
	if err != nil {
		fmt.Fprintln(stderr, "ferryd:", err)
		if cerr := n.Close(); cerr != nil && !errors.Is(cerr, raftstore.ErrShutdown) {
			fmt.Fprintln(stderr, "ferryd: close:", cerr)
		}
		return 1
	}
	s3At := "off"
	if gw != nil {
		s3At = "http://" + gw.Addr()
	}
	fmt.Fprintf(stdout, "ferryd %s (site %s): node API on %s, S3 on %s, raft on %s, data in %s\n",
		cfg.NodeID, cfg.Site, n.APIAddr(), s3At, n.RaftAddr(), cfg.DataDir)
	fmt.Fprintf(stdout, "try: ferryctl --addr %s status\n", n.APIAddr())
	if gw != nil {
		fmt.Fprintf(stdout, "     AWS_SHARED_CREDENTIALS_FILE=%s aws --endpoint-url %s s3 ls\n",
			filepath.Join(cfg.DataDir, raftstore.RootCredentialsFile), s3At)
	}
	code := 0
	select {
	case <-ctx.Done():
		cfg.Logger.Info("shutting down")
	case err := <-n.Fatal():
		cfg.Logger.Error("state machine stopped", "err", err)
		code = 1
	}
	if gw != nil {
		if err := gw.Close(); err != nil {
			fmt.Fprintln(stderr, "ferryd: close s3 gateway:", err)
			code = 1
		}
	}
	if err := n.Close(); err != nil && !errors.Is(err, raftstore.ErrShutdown) {
		fmt.Fprintln(stderr, "ferryd: close:", err)
		code = 1
	}
	return code
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch level {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
