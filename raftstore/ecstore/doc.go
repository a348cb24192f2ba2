// Package ecstore is the erasure-coded shard store of one ferry site.
//
// Large object payloads are cut into stripes (Config.StripeSize, default
// 4 MiB of payload), each stripe is dealt to k data shards and coded
// into m parity shards (klauspost/reedsolomon), and the k+m shards are
// written, content-addressed, to disks spread over the site's nodes before
// the event that references them is proposed. The Manifest that Write
// returns is what an OBJECT_PUT event carries; Read rebuilds the payload
// from any k shards of each stripe.
//
// # Layers
//
//   - Pure, no I/O: Profile, ShardID and IDScheme (content addresses:
//     keyed HighwayHash-256 or SHA-256 of a shard's bytes, and derived
//     parity ids), Place (placement), Layout (which bytes of a stripe
//     each data shard holds), Codec (deal, encode, decode), the shard
//     file codec.
//   - Disks: one node's shard files on its local disks, over a vfs.FS.
//   - Store: the I/O shell. It writes and reads shards locally through
//     Disks or on other nodes through a Transport (raftstore implements it
//     over gRPC), and scrubs, repairs and collects this node's shards
//     against the metadata index, seen through the small RefSource
//     interface.
//
// # Placement rule
//
// Place(disks, k+m, key) deals the shards of an object round-robin over
// the pool's nodes, then over each node's disks, both ranked by rendezvous
// hashing of the key (SHA-256 of key, node and disk). So the k+m locations
// are distinct, no node holds more than ceil((k+m)/nodes) shards (4+2 on
// three nodes: losing a node costs at most m = 2), the first shards land
// on distinct nodes, and the choice is a pure function of the key and the
// set of disks. Shard i of every stripe of the object lives at
// locations[i].
//
// # Rows of cells
//
// A stripe is dealt to its data shards in rows (Layout): every row gives
// each data shard one cell of Config.CellSize bytes (default 64 KiB), in
// order, so data shard i holds the i-th cell of every row; what is left
// for a last row too short for whole cells is dealt in cells of
// ceil(rest/k) bytes, the last padded with zeros. Every shard is
// ceil(DataLen/k) bytes, as with one contiguous range per shard. Reed-
// Solomon codes each byte column on its own, so a row is encoded, and its
// data cells hashed, as soon as it is read: a 4+2 row is 384 KiB, which is
// still in the cache, where a 4 MiB stripe read whole would be encoded and
// hashed from memory after the last byte came. Manifest.cell_size records
// the cell size; 0 is the layout of stripes written before rows, one row
// of cells as large as the shards.
//
// Write reads a stripe as if it were full. When it comes up short, the
// rows already whole are where the short stripe's layout puts them too,
// and the bytes past them (under one row) are dealt again.
//
// # Shard files
//
// A shard lives at <disk dir>/<hh>/<id>, where <id> is its id in
// lowercase hex and <hh> the first two digits. The file is a 64-byte header
// then the data, all integers little endian:
//
//	offset size field
//	     0    4 magic "FRSH"
//	     4    2 version (1)
//	     6    2 header size (64)
//	     8    8 data length
//	    16    4 CRC-32C of the data
//	    20   32 shard id
//	    52    8 reserved, zero
//	    60    4 CRC-32C of bytes [0, 60)
//	    64    … data (exactly the data length; nothing follows)
//
// Files are written to <id>.tmp<n>, synced, renamed into place, and the
// directory synced. A Put of a shard already stored with identical bytes
// rewrites the identical header in place and syncs, which refreshes the
// modification time (vfs has no Chtimes) so that garbage collection, which
// goes by age, keeps a deduplicated shard until its event commits.
//
// # Shard ids
//
// A data shard's id is the hash of its bytes under the pool's IDScheme:
// HighwayHash-256 keyed with the pool's secret (every pool created since
// keyed ids) or SHA-256 (older pools). In a keyed pool the parity shards'
// ids are derived: HighwayHash-256, under a second key derived from the
// pool's, of the profile, the parity index and the stripe's k data ids
// (IDScheme.DeriveParityIDs). Parity is a function of the data, so a
// derived id still names exactly one content, and a write hashes its
// payload once instead of (k+m)/k times. A derived id cannot be checked
// against the bytes alone; parity is checked instead by its file's CRC,
// by the data it rebuilds (which must match the data ids, else the other
// choices of parity shards are tried) and, in a deep scrub, by re-encoding
// it from verified data. Manifest.parity_ids_derived says which kind a
// manifest holds, and StripeRefs checks derived ids against the data ids.
//
// # Invariants
//
//   - INVARIANT: a Write returns a manifest only when every shard of every
//     stripe is durable at its location (write quorum k+m). A failed Write
//     leaves garbage, never a manifest that needs missing shards.
//   - INVARIANT: Read never returns bytes that did not verify. Every shard
//     read passes its file's CRC-32C on the disk that holds it and, in the
//     reader, its length and, for a content id, its hash against the
//     manifest's id; a shard that fails is treated as missing. Data rebuilt
//     with a parity shard under a derived id is checked against the data
//     ids. With no k shards that pass, Read fails with ErrTooFewShards.
//   - INVARIANT: a shard file's name is its content address, so two
//     objects share a file only when the bytes are equal (deduplication
//     cannot serve another object's data): a content id hashes the bytes,
//     a derived id the ids of the data the parity bytes encode.
//   - Scrub rebuilds a shard from other shards of its stripe and checks the
//     result against the id (a data shard) or encodes it from data shards
//     that match theirs (a parity shard) before writing it.
//   - CollectGarbage removes only files older than its grace period, and
//     re-checks the age under the shard's lock, after any refresh by Put.
//
// # Goroutines
//
// The package has nothing to Close. Write runs one writer goroutine for
// the call (writing stripes in order while the caller's goroutine reads,
// deals and encodes the next stripe, and computes the MD5), then one
// goroutine per shard for its Put. The shards of a stripe (the data
// shards; all of them for SHA-256 ids) are hashed row by row as they are
// read, in groups of four shards on a machine with AVX-512, two with AVX2
// (internal/highway), one for SHA-256 ids: each row by one of the
// package's hashing workers or, when they fall behind or none runs, by
// the reading goroutine itself. The workers, at most one fewer than
// GOMAXPROCS, are shared by every Store of the process: one starts when a
// stripe offers its groups and fewer run, and it ends when it has found no
// row to hash for 200 µs. A worker holds a group only while it hashes a
// row of it, and the stripe job waits for its groups before its buffer is
// reused. Read, Scrub and repair fetch the shards of a stripe with one
// goroutine per shard. Every goroutine but the workers is joined before
// the call that started it returns, also on error or cancellation; the
// tests end by waiting for the workers and checking that no goroutine is
// left.
//
// # Example
//
//	disks, err := ecstore.OpenDisks(vfs.Default, "n1", []ecstore.DiskConfig{{ID: "d0", Dir: "/srv/ferry/d0"}})
//	if err != nil { ... }
//	st, err := ecstore.New(ecstore.Config{Node: "n1", Local: disks, Transport: tr})
//	if err != nil { ... }
//	pool := ecstore.PoolSpec{Name: "default", Profile: ecstore.DefaultProfile(), Disks: poolDisks}
//	m, size, md5sum, err := st.Write(ctx, pool, []byte(bucket+"/"+key), body)
//	// ... propose an OBJECT_PUT event carrying m, size and md5sum ...
//	err = st.Read(ctx, m, 0, size, w)
package ecstore
