package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
)

// MinSegmentBytes is the smallest SegmentBytes Validate accepts.
const MinSegmentBytes = 1 << 10

// Config configures a Journal. Start from DefaultConfig; a zero field takes
// its default.
type Config struct {
	// Dir holds the segment files; Open creates it. Required.
	Dir string
	// FS is the file system every byte goes through. Default: vfs.Default.
	FS vfs.FS
	// SegmentBytes is the size past which Append starts a new segment
	// file. A batch larger than this gets a segment of its own. Default:
	// 64 MiB; at least MinSegmentBytes.
	SegmentBytes int64
	// RetentionWindow is the point-in-time window: a segment holding an
	// event whose HLC wall time is newer than Now()-RetentionWindow is
	// kept. Default: 0 (no window; only cursors pin segments).
	RetentionWindow time.Duration
	// Now is the clock retention compares HLC wall times against.
	// Default: time.Now.
	Now func() time.Time
	// Logger receives repairs (torn tails truncated, leftovers removed) and
	// background retention failures. Default: nil, silent.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in except Dir.
func DefaultConfig() Config {
	return Config{
		FS:           vfs.Default,
		SegmentBytes: 64 << 20,
		Now:          time.Now,
	}
}

// Validate returns every problem of c at once, each wrapping ErrInvalid.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, fmt.Errorf("%w: config: Dir is required", ErrInvalid))
	}
	if c.SegmentBytes != 0 && c.SegmentBytes < MinSegmentBytes {
		errs = append(errs, fmt.Errorf("%w: config: SegmentBytes %d is below the minimum %d",
			ErrInvalid, c.SegmentBytes, MinSegmentBytes))
	}
	if c.RetentionWindow < 0 {
		errs = append(errs, fmt.Errorf("%w: config: RetentionWindow %v is negative", ErrInvalid, c.RetentionWindow))
	}
	return errors.Join(errs...)
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.FS == nil {
		c.FS = d.FS
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
