package raftstore

import (
	"errors"
	"fmt"
)

// Error classes. Check them with errors.Is; never match error text.
var (
	// ErrNotLeader: this node cannot commit; the request was not applied
	// and may be retried against the leader. Returned as *NotLeaderError.
	ErrNotLeader = errors.New("raftstore: not the leader")
	// ErrIndeterminate: leadership was lost while a proposal was in flight;
	// it may or may not commit.
	ErrIndeterminate = errors.New("raftstore: outcome unknown")
	// ErrShutdown: the node is closing.
	ErrShutdown = errors.New("raftstore: shut down")
	// ErrInvalidArgument: the request is malformed.
	ErrInvalidArgument = errors.New("raftstore: invalid argument")
	// ErrNoSuchBucket, ErrNoSuchKey: the named thing does not exist.
	ErrNoSuchBucket = errors.New("raftstore: no such bucket")
	ErrNoSuchKey    = errors.New("raftstore: no such key")
	// ErrBucketExists, ErrBucketNotEmpty: bucket namespace conflicts.
	ErrBucketExists   = errors.New("raftstore: bucket already exists")
	ErrBucketNotEmpty = errors.New("raftstore: bucket not empty")
	// ErrPrecondition: a conditional put or delete did not hold at commit.
	ErrPrecondition = errors.New("raftstore: precondition failed")
	// ErrCorrupt: stored data failed a checksum and could not be repaired.
	ErrCorrupt = errors.New("raftstore: corrupt")
	// ErrNoSpace: a disk is full.
	ErrNoSpace = errors.New("raftstore: no space left")
	// ErrUnavailable: not enough of the site is reachable (too few shards,
	// too few disks, no leader).
	ErrUnavailable = errors.New("raftstore: unavailable")
	// ErrNotFound: a shard, member, user or access key is unknown.
	ErrNotFound = errors.New("raftstore: not found")
	// ErrExists: a user or access key of that name exists already.
	ErrExists = errors.New("raftstore: already exists")
	// ErrNoSuchVersion: the object version named does not exist.
	ErrNoSuchVersion = errors.New("raftstore: no such version")
	// ErrNoSuchUpload: the multipart upload named does not exist (never
	// did, or was completed or aborted).
	ErrNoSuchUpload = errors.New("raftstore: no such upload")
	// ErrInvalidPart: a part named in a completion was not uploaded, or its
	// ETag differs; ErrInvalidPartOrder: the parts are not in ascending
	// order; ErrEntityTooSmall: a part other than the last is below the
	// minimum part size.
	ErrInvalidPart      = errors.New("raftstore: invalid part")
	ErrInvalidPartOrder = errors.New("raftstore: parts out of order")
	ErrEntityTooSmall   = errors.New("raftstore: part too small")
	// ErrLocked: object lock (retention or legal hold) forbids the change.
	ErrLocked = errors.New("raftstore: object locked")
	// ErrDeleteMarker: the version asked for is a delete marker, which has
	// no content (S3 answers 405 when it is named by version id).
	ErrDeleteMarker = errors.New("raftstore: version is a delete marker")
)

// NotLeaderError says who the leader is, when known, so a caller can
// forward. It matches ErrNotLeader with errors.Is.
type NotLeaderError struct {
	// LeaderID and LeaderAPIAddr are empty when no leader is known.
	LeaderID      string
	LeaderAPIAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return "raftstore: not the leader (leader unknown)"
	}
	return fmt.Sprintf("raftstore: not the leader (leader %s at %s)", e.LeaderID, e.LeaderAPIAddr)
}

// Is makes errors.Is(err, ErrNotLeader) hold.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }
