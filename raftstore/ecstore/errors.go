package ecstore

import "errors"

// Error classes. Check them with errors.Is; the returned errors wrap them
// with the operation, disk, shard id and stripe, and never need to be
// matched by text.
var (
	// ErrCorrupt: a shard failed its checksum, length or content-hash check.
	ErrCorrupt = errors.New("ecstore: corrupt shard")
	// ErrNotFound: no shard with that id is stored there.
	ErrNotFound = errors.New("ecstore: shard not found")
	// ErrTooFewShards: fewer than k valid shards of a stripe could be read,
	// so the stripe cannot be rebuilt.
	ErrTooFewShards = errors.New("ecstore: too few shards")
	// ErrTooFewDisks: a pool has too few disks, or too few nodes, to place
	// k+m shards under the placement rule.
	ErrTooFewDisks = errors.New("ecstore: too few disks")
	// ErrInvalid: a malformed argument (profile, manifest, range, config).
	ErrInvalid = errors.New("ecstore: invalid argument")
	// ErrDiskUnavailable: a disk is unknown to this node or its directory
	// is missing or unreadable.
	ErrDiskUnavailable = errors.New("ecstore: disk unavailable")
	// ErrIDCollision: a disk already holds an intact shard with this id and
	// different bytes. The write is refused; the stored shard is kept.
	ErrIDCollision = errors.New("ecstore: shard id collision")
)
