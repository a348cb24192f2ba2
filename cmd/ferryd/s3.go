package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferrydr/ferry/gateways/s3"
	"github.com/ferrydr/ferry/raftstore"
)

// s3Config is the S3 gateway part of the file configuration.
type s3Config struct {
	// Addr is the S3 listen address; "off" disables the gateway.
	// Default: 127.0.0.1:9000.
	Addr string `yaml:"addr"`
	// Region is the region the gateway reports and signs for. Default: us-east-1.
	Region string `yaml:"region"`
	// LifecycleInterval is how often the leader runs buckets' lifecycle
	// rules. Default: 1h.
	LifecycleInterval *time.Duration `yaml:"lifecycle_interval"`
}

// gatewayConfig turns the file's s3 section into the gateway's
// configuration; ok is false when the gateway is disabled.
func (c s3Config) gatewayConfig(n *raftstore.Node, log *slog.Logger) (s3.Config, bool) {
	if c.Addr == "off" {
		return s3.Config{}, false
	}
	cfg := s3.DefaultConfig()
	if c.Addr != "" {
		cfg.Addr = c.Addr
	}
	if c.Region != "" {
		cfg.Region = c.Region
	}
	cfg.Logger = log.With("component", "s3")
	cfg.Lookup = func(ctx context.Context, accessKey string) (string, string, error) {
		return n.LookupKey(ctx, accessKey)
	}
	return cfg, true
}

// s3Service is the S3 gateway of a node and its lifecycle worker.
type s3Service struct {
	*s3.Server
	stop context.CancelFunc
	done chan struct{}
}

// startS3 serves the S3 gateway of n and starts its lifecycle worker; nil
// when the gateway is disabled.
func startS3(c s3Config, n *raftstore.Node, log *slog.Logger) (*s3Service, error) {
	cfg, ok := c.gatewayConfig(n, log)
	if !ok {
		return nil, nil
	}
	g, err := s3.New(n, cfg)
	if err != nil {
		return nil, err
	}
	srv, err := s3.Listen(g)
	if err != nil {
		return nil, err
	}
	lc := s3.LifecycleConfig{Logger: log.With("component", "lifecycle")}
	if c.LifecycleInterval != nil {
		lc.Interval = *c.LifecycleInterval
	}
	ctx, stop := context.WithCancel(context.Background())
	svc := &s3Service{Server: srv, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(svc.done)
		s3.NewLifecycle(n, lc).Run(ctx)
	}()
	return svc, nil
}

// Close stops the lifecycle worker, then the gateway.
func (s *s3Service) Close() error {
	s.stop()
	<-s.done
	return s.Server.Close()
}
