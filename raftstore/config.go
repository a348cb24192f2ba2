package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/raftstore/ecstore"
)

// Config configures a Node. Start from DefaultConfig.
type Config struct {
	// NodeID names the node inside its site; stable across restarts. Required.
	NodeID string
	// Site names the site the node belongs to. Default: "site1".
	Site string
	// DataDir holds the raft log, snapshots, journal and index. Required.
	DataDir string
	// RaftAddr is the raft TCP listen address. Default: 127.0.0.1:7401.
	RaftAddr string
	// RaftAdvertise is the raft address other nodes dial. Default: the
	// listener's address.
	RaftAdvertise string
	// APIAddr is the node API (gRPC) listen address. Default: 127.0.0.1:7400.
	APIAddr string
	// APIAdvertise is the API address other nodes and clients dial.
	// Default: the listener's address.
	APIAdvertise string
	// Disks are this node's shard directories. Required (at least one).
	Disks []ecstore.DiskConfig
	// Bootstrap makes the node start a new site when it has no raft state.
	// Default: false.
	Bootstrap bool
	// Join lists API addresses of existing members to ask for admission
	// when the node is not yet a member. Default: none.
	Join []string
	// DataShards and ParityShards are the profile of the default pool the
	// site creates when it has none. Default: 4 and 2.
	DataShards, ParityShards int
	// StripeBytes is the payload per EC stripe. Default: 4 MiB.
	StripeBytes int
	// InlineBytes: payloads up to this size ride inside the event instead
	// of being erasure coded. Default: 64 KiB.
	InlineBytes int
	// MaxStreams bounds the erasure-coded payloads this node writes at
	// once, and separately those it reads; more wait their turn. Each
	// holds a few stripes of buffers, so this bounds the node's memory
	// under many concurrent large requests. Default (0): 16.
	MaxStreams int
	// SnapshotThreshold is how many new log entries trigger a snapshot.
	// Default: 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often raft checks whether to snapshot.
	// Default: 30s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many entries a snapshot leaves in the log.
	// Default: 10240.
	TrailingLogs uint64
	// HeartbeatTimeout and ElectionTimeout bound failure detection.
	// Default: 1s each. LeaderLeaseTimeout: Default 500ms.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout time.Duration
	// MaintainInterval is how often the node retries joining, registering
	// and creating the default pool. Default: 500ms.
	MaintainInterval time.Duration
	// ScrubInterval is the period of the background scrub; 0 disables it.
	// Default: 24h.
	ScrubInterval time.Duration
	// GCInterval is the period of shard garbage collection; 0 disables it.
	// Default: 10m. GCGrace is how old an unreferenced shard must be before
	// it is removed. Default: 1h.
	GCInterval, GCGrace time.Duration
	// JournalRetention keeps journal segments holding events newer than
	// this (the point-in-time window), beyond what registered cursors hold.
	// Default: 24h.
	JournalRetention time.Duration
	// JournalSegmentBytes is the size of a journal segment file. Inline
	// payloads of 1 KiB or more stay in the journal (not in the index
	// record) until their segment is sealed, then move into the index in
	// one sorted table (payloads.go); a snapshot reads at most about one
	// segment of them from the journal. Default: 64 MiB; at least
	// journal.MinSegmentBytes.
	JournalSegmentBytes int64
	// MappedTrimInterval is how often the node releases the resident pages
	// of the raft log's memory mapping (they stay in the page cache), so
	// that its RSS does not grow with the log; 0 disables. Default: 2s (at
	// 3,400 puts/s a 10 s interval let 70 MiB of them build up; a trim is
	// one madvise and costs the next reads minor faults only).
	MappedTrimInterval time.Duration
	// IndexCacheBytes is the metadata index's block cache; with
	// IndexMemTableBytes (its write buffer, two of which may exist at once)
	// it bounds the index's memory whatever the number of objects.
	// Default: 32 MiB and 8 MiB.
	IndexCacheBytes, IndexMemTableBytes int64
	// RootAccessKey and RootSecretKey are the credentials of the site's root
	// user (its first administrator) when this node creates it; ferryd
	// takes them from FERRY_ROOT_ACCESS_KEY and FERRY_ROOT_SECRET_KEY. Both
	// or neither. A site whose root user exists keeps it: different values
	// here are reported with a warning and change nothing. Default: empty —
	// the node that bootstraps the site generates them once and writes them
	// to DataDir/root-credentials (mode 0600).
	RootAccessKey string
	RootSecretKey Secret
	// OnRootCredentials, when set, is called once, from the node's
	// housekeeping goroutine, with root credentials this node generated,
	// after the root user holding them was created. ferryd prints them.
	// Default: nil (they are only in the file).
	OnRootCredentials func(RootCredentials)
	// FS is the file system for the journal and shard disks. Default: the OS.
	FS vfs.FS
	// Logger receives structured logs; nil is silent.
	Logger *slog.Logger
	// RaftLogOutput, when set, receives hashicorp/raft's own log lines.
	// Default: discarded unless Logger is set, then stderr at warn level.
	RaftLogLevel string
}

// DefaultConfig returns a Config with every default filled in; NodeID,
// DataDir and Disks remain to be set.
func DefaultConfig() Config {
	return Config{
		Site:                "site1",
		RaftAddr:            "127.0.0.1:7401",
		APIAddr:             "127.0.0.1:7400",
		DataShards:          4,
		ParityShards:        2,
		StripeBytes:         4 << 20,
		InlineBytes:         64 << 10,
		SnapshotThreshold:   8192,
		SnapshotInterval:    30 * time.Second,
		TrailingLogs:        10240,
		HeartbeatTimeout:    time.Second,
		ElectionTimeout:     time.Second,
		LeaderLeaseTimeout:  500 * time.Millisecond,
		MaintainInterval:    500 * time.Millisecond,
		ScrubInterval:       24 * time.Hour,
		GCInterval:          10 * time.Minute,
		GCGrace:             time.Hour,
		JournalRetention:    24 * time.Hour,
		JournalSegmentBytes: 64 << 20,
		MappedTrimInterval:  2 * time.Second,
		IndexCacheBytes:     32 << 20,
		IndexMemTableBytes:  8 << 20,
		FS:                  vfs.Default,
		RaftLogLevel:        "warn",
	}
}

// Validate returns every problem with the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, args...)...))
	}
	if c.NodeID == "" {
		bad("node id is required")
	}
	if c.Site == "" {
		bad("site is required")
	}
	if c.DataDir == "" {
		bad("data dir is required")
	}
	if c.RaftAddr == "" {
		bad("raft address is required")
	}
	if c.APIAddr == "" {
		bad("api address is required")
	}
	if len(c.Disks) == 0 {
		bad("at least one disk is required")
	}
	seen := map[string]bool{}
	for i, d := range c.Disks {
		if d.ID == "" || d.Dir == "" {
			bad("disk %d needs an id and a dir", i)
		}
		if seen[d.ID] {
			bad("disk id %q appears twice", d.ID)
		}
		seen[d.ID] = true
	}
	if c.DataShards < 1 || c.ParityShards < 0 || c.DataShards+c.ParityShards > 256 {
		bad("profile %d+%d is not valid (1 ≤ k, 0 ≤ m, k+m ≤ 256)", c.DataShards, c.ParityShards)
	}
	if c.StripeBytes < c.DataShards || c.StripeBytes > 64<<20 {
		bad("stripe bytes %d out of range (k .. 64 MiB)", c.StripeBytes)
	}
	if c.InlineBytes < 0 || c.InlineBytes > 1<<20 {
		bad("inline bytes %d out of range (0 .. 1 MiB)", c.InlineBytes)
	}
	if c.HeartbeatTimeout <= 0 || c.ElectionTimeout <= 0 || c.LeaderLeaseTimeout <= 0 {
		bad("raft timeouts must be positive")
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		bad("leader lease timeout %v must not exceed the heartbeat timeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.MaintainInterval <= 0 {
		bad("maintain interval must be positive")
	}
	if c.ScrubInterval < 0 || c.GCInterval < 0 || c.GCGrace < 0 || c.JournalRetention < 0 || c.MappedTrimInterval < 0 {
		bad("scrub and gc intervals must not be negative")
	}
	if c.IndexCacheBytes < 1<<20 || c.IndexMemTableBytes < 1<<20 || c.IndexMemTableBytes > 1<<30 {
		bad("index cache (%d) and memtable (%d) bytes must be at least 1 MiB (memtable at most 1 GiB)", c.IndexCacheBytes, c.IndexMemTableBytes)
	}
	if c.JournalSegmentBytes < journal.MinSegmentBytes {
		bad("journal segment bytes %d below the minimum %d", c.JournalSegmentBytes, journal.MinSegmentBytes)
	}
	if c.FS == nil {
		bad("file system is required")
	}
	if (c.RootAccessKey == "") != (c.RootSecretKey == "") {
		bad("root access key and root secret key must be given together")
	} else if c.RootAccessKey != "" {
		// Neither error holds the value (validate.go).
		if err := validAccessKey(c.RootAccessKey); err != nil {
			errs = append(errs, fmt.Errorf("root credentials: %w", err))
		}
		if err := validSecret(string(c.RootSecretKey)); err != nil {
			errs = append(errs, fmt.Errorf("root credentials: %w", err))
		}
	}
	return errors.Join(errs...)
}
