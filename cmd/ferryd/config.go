package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// fileConfig is ferryd's YAML configuration file. Every field is optional
// unless marked required; the comment gives its default.
type fileConfig struct {
	// NodeID names this node inside its site. Required.
	NodeID string `yaml:"node_id"`
	// Site names the site. Default: site1.
	Site string `yaml:"site"`
	// DataDir holds the raft log, snapshots, journal and index. Required.
	DataDir string `yaml:"data_dir"`
	// APIAddr is the node API listen address. Default: 127.0.0.1:7400.
	APIAddr string `yaml:"api_addr"`
	// APIAdvertise is the API address others dial. Default: the listen address.
	APIAdvertise string `yaml:"api_advertise"`
	// RaftAddr is the raft listen address. Default: 127.0.0.1:7401.
	RaftAddr string `yaml:"raft_addr"`
	// RaftAdvertise is the raft address others dial. Default: the listen address.
	RaftAdvertise string `yaml:"raft_advertise"`
	// Disks are the shard directories. Default: six directories
	// data_dir/disks/d0..d5.
	Disks []diskConfig `yaml:"disks"`
	// Bootstrap starts a new site if this node has no raft state. Default: false.
	Bootstrap bool `yaml:"bootstrap"`
	// Join lists API addresses of members to ask for admission. Default: none.
	Join []string `yaml:"join"`
	// Pool is the profile of the default pool. Default: 4+2, 4 MiB stripes.
	Pool poolConfig `yaml:"pool"`
	// InlineBytes: payloads up to this size ride inside the event. Default: 65536.
	InlineBytes *int `yaml:"inline_bytes"`
	// MaxStreams: erasure-coded payloads written at once, and read at
	// once; more wait (bounds memory under many large requests). Default: 16.
	MaxStreams *int `yaml:"max_streams"`
	// SnapshotThreshold: new log entries that trigger a snapshot. Default: 8192.
	SnapshotThreshold *uint64 `yaml:"snapshot_threshold"`
	// SnapshotInterval: how often raft considers a snapshot. Default: 30s.
	SnapshotInterval *time.Duration `yaml:"snapshot_interval"`
	// TrailingLogs: entries kept in the log after a snapshot. Default: 10240.
	TrailingLogs *uint64 `yaml:"trailing_logs"`
	// HeartbeatTimeout, ElectionTimeout: Default 1s. LeaderLeaseTimeout: Default 500ms.
	HeartbeatTimeout   *time.Duration `yaml:"heartbeat_timeout"`
	ElectionTimeout    *time.Duration `yaml:"election_timeout"`
	LeaderLeaseTimeout *time.Duration `yaml:"leader_lease_timeout"`
	// ScrubInterval: period of the background scrub, 0 to disable. Default: 24h.
	ScrubInterval *time.Duration `yaml:"scrub_interval"`
	// GCInterval: period of shard garbage collection, 0 to disable. Default: 10m.
	GCInterval *time.Duration `yaml:"gc_interval"`
	// GCGrace: age before an unreferenced shard is removed. Default: 1h.
	GCGrace *time.Duration `yaml:"gc_grace"`
	// JournalRetention: the journal's point-in-time window. Default: 24h.
	JournalRetention *time.Duration `yaml:"journal_retention"`
	// JournalSegmentBytes: size of a journal segment file. Inline payloads
	// of 1 KiB or more stay in the journal until their segment is sealed,
	// then move into the index. Default: 67108864 (64 MiB).
	JournalSegmentBytes *int64 `yaml:"journal_segment_bytes"`
	// MappedTrimInterval: how often resident pages of the raft log's memory
	// mapping are released (they stay in the page cache); 0 disables. Default: 2s.
	MappedTrimInterval *time.Duration `yaml:"mapped_trim_interval"`
	// IndexCacheBytes: block cache of the metadata index. Default: 33554432 (32 MiB).
	IndexCacheBytes *int64 `yaml:"index_cache_bytes"`
	// IndexMemtableBytes: write buffer of the metadata index (two may exist
	// at once). Default: 8388608 (8 MiB).
	IndexMemtableBytes *int64 `yaml:"index_memtable_bytes"`
	// S3 is the S3 gateway: addr (Default: 127.0.0.1:9000; "off" disables
	// it) and region (Default: us-east-1).
	S3 s3Config `yaml:"s3"`
	// LogLevel: debug, info, warn or error. Default: info.
	LogLevel string `yaml:"log_level"`
	// LogFormat: text or json. Default: text.
	LogFormat string `yaml:"log_format"`
}

type diskConfig struct {
	ID  string `yaml:"id"`
	Dir string `yaml:"dir"`
}

type poolConfig struct {
	DataShards   *int `yaml:"data_shards"`
	ParityShards *int `yaml:"parity_shards"`
	StripeBytes  *int `yaml:"stripe_bytes"`
}

// loadConfigFile reads a YAML file; unknown fields and type errors are
// reported together.
func loadConfigFile(path string) (fileConfig, error) {
	var fc fileConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	return fc, nil
}

// devConfig is the embedded default: a one-node site in dir with six local
// directories as disks.
func devConfig(dir string) fileConfig {
	return fileConfig{NodeID: "dev", DataDir: dir, Bootstrap: true}
}

// nodeConfig turns the file configuration into raftstore's, with defaults
// filled in, and returns every problem at once.
func (fc fileConfig) nodeConfig() (raftstore.Config, error) {
	c := raftstore.DefaultConfig()
	c.NodeID, c.DataDir, c.Bootstrap, c.Join = fc.NodeID, fc.DataDir, fc.Bootstrap, fc.Join
	c.RaftAdvertise, c.APIAdvertise = fc.RaftAdvertise, fc.APIAdvertise
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setStr(&c.Site, fc.Site)
	setStr(&c.APIAddr, fc.APIAddr)
	setStr(&c.RaftAddr, fc.RaftAddr)
	for _, d := range fc.Disks {
		c.Disks = append(c.Disks, ecstore.DiskConfig{ID: d.ID, Dir: d.Dir})
	}
	if len(fc.Disks) == 0 && fc.DataDir != "" {
		for i := range 6 {
			id := fmt.Sprintf("d%d", i)
			c.Disks = append(c.Disks, ecstore.DiskConfig{ID: id, Dir: filepath.Join(fc.DataDir, "disks", id)})
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&c.DataShards, fc.Pool.DataShards)
	setInt(&c.ParityShards, fc.Pool.ParityShards)
	setInt(&c.StripeBytes, fc.Pool.StripeBytes)
	setInt(&c.InlineBytes, fc.InlineBytes)
	setInt(&c.MaxStreams, fc.MaxStreams)
	if fc.SnapshotThreshold != nil {
		c.SnapshotThreshold = *fc.SnapshotThreshold
	}
	if fc.TrailingLogs != nil {
		c.TrailingLogs = *fc.TrailingLogs
	}
	setDur := func(dst *time.Duration, v *time.Duration) {
		if v != nil {
			*dst = *v
		}
	}
	setDur(&c.SnapshotInterval, fc.SnapshotInterval)
	setDur(&c.HeartbeatTimeout, fc.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, fc.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, fc.LeaderLeaseTimeout)
	setDur(&c.ScrubInterval, fc.ScrubInterval)
	setDur(&c.GCInterval, fc.GCInterval)
	setDur(&c.GCGrace, fc.GCGrace)
	setDur(&c.JournalRetention, fc.JournalRetention)
	setDur(&c.MappedTrimInterval, fc.MappedTrimInterval)
	if fc.JournalSegmentBytes != nil {
		c.JournalSegmentBytes = *fc.JournalSegmentBytes
	}
	if fc.IndexCacheBytes != nil {
		c.IndexCacheBytes = *fc.IndexCacheBytes
	}
	if fc.IndexMemtableBytes != nil {
		c.IndexMemTableBytes = *fc.IndexMemtableBytes
	}
	var errs []error
	switch fc.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", fc.LogLevel))
	}
	switch fc.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format %q: want text or json", fc.LogFormat))
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}
