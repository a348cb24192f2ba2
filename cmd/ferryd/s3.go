package main

import (
	"context"
	"log/slog"

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

// startS3 serves the S3 gateway of n; nil when it is disabled.
func startS3(c s3Config, n *raftstore.Node, log *slog.Logger) (*s3.Server, error) {
	cfg, ok := c.gatewayConfig(n, log)
	if !ok {
		return nil, nil
	}
	g, err := s3.New(n, cfg)
	if err != nil {
		return nil, err
	}
	return s3.Listen(g)
}
