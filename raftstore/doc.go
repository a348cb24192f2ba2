// Package raftstore is a site's replicated core: hashicorp/raft (log and
// stable store in raft-boltdb/v2, snapshots in a file snapshot store, TCP
// between nodes) over an event-sourced state machine that appends every
// committed event to the site's journal and projects it into a persistent
// metadata index (Pebble, kv.go) and the erasure-coded shard store
// (package ecstore).
//
// # API
//
// A Node is one member. Propose(ctx, ev) commits an event and returns one
// classified error (NotLeaderError, ErrIndeterminate, ErrShutdown, ...);
// a follower forwards proposals to the leader over the gRPC node API. The
// internal object API (PutObject, GetObject, HeadObject, DeleteObject,
// ListObjects, buckets) is what gateways and ferryctl call: large payloads
// are erasure-coded into the active pool before the event that references
// them is proposed; small ones ride inside the event. Reads are
// linearizable: a node asks the leader for a read index (the leader
// confirms its leadership with a heartbeat round) and waits until it has
// applied that far before reading its own index.
//
// # Invariants
//
//   - The state machine is a pure function of the log (fsm.go): Apply reads
//     only the entry and the replicated index; timestamps, origin site and
//     principal are stamped into the event before it is proposed. Origin
//     sequence numbers and HLC monotonicity are enforced in Apply, from
//     replicated state, so every replica journals identical events.
//   - Apply is idempotent by raft index: the index records the last applied
//     index in the same batch as the projection; the journal is appended
//     (and synced) before that batch commits, and replay never appends an
//     event the journal already holds.
//   - The index commits without fsync and is synced before every raft
//     snapshot, so it is never behind the log raft may drop; an index found
//     behind the newest snapshot at start is rebuilt from it.
//   - No entry is reported applied unless the index recorded it: an I/O
//     failure (a full disk) stalls applying and is retried; an event this
//     version cannot apply stops the node (Node.Fatal) instead of being
//     skipped, unless it is marked skippable.
//   - Snapshots are a logical, sorted image of the index (snapshot.go), so
//     replicas at the same index write byte-identical snapshots; a node
//     restored from a snapshot keeps its journal if it reaches the
//     snapshot's journal position, else restarts it after that position.
//   - Errors cross the gRPC boundary only through codes.go, in both
//     directions.
//
// # Goroutines
//
// A Node owns: the gRPC server's Serve loop; the maintain loop (join,
// register the node's API address and disks, create the default pool,
// scrub and GC timers); and one short-lived waiter per in-flight raft
// future (it ends when raft resolves the future, at the latest at
// shutdown). hashicorp/raft runs its own goroutines, stopped by Shutdown.
// Close cancels everything, then waits.
//
// # Example
//
//	cfg := raftstore.DefaultConfig()
//	cfg.NodeID, cfg.DataDir, cfg.Bootstrap = "n1", "/var/lib/ferry", true
//	cfg.Disks = []ecstore.DiskConfig{{ID: "d0", Dir: "/disks/0"}, ...}
//	n, err := raftstore.Open(cfg)
//	...
//	defer n.Close()
//	err = n.CreateBucket(ctx, "photos", "alice")
//	info, err := n.PutObject(ctx, &nodepb.PutObjectHeader{Bucket: "photos", Key: "cat.jpg", Size: -1}, file)
package raftstore
