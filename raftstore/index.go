package raftstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	pebblevfs "github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// The metadata index is a Pebble LSM (kv.go), the state machine's
// projection of the log. Its layout (bucket: key -> value):
//
//	meta:    "applied" -> u64 raft index of the last applied entry
//	         "journal" -> u64 last journal index written
//	         "hlc"     -> u64 wall nanos | u32 logical of the last event
//	         "seq/"+site -> u64 last origin sequence accepted from site
//	         "active-pool" -> name of the pool that takes new writes
//	buckets: name -> BucketCreate event bytes (with HLC and principal)
//	objects: bucket NUL key -> u64 raft index | u64 journal index | event bytes
//	         (the current version: an OBJECT_PUT, or an OBJECT_DELETE that
//	         left a delete marker)
//	versions: bucket NUL key NUL order(16) -> noncurrent versions, as objects
//	uploads: bucket NUL key NUL upload id -> MultipartCreate event bytes
//	parts:   bucket NUL key NUL upload id NUL u32 number -> MultipartPart event bytes
//	bucket-config: bucket NUL name -> configuration document
//	shards:  node NUL disk NUL id(32) -> u32 refcount | single-stripe Manifest bytes
//	nodes:   node id -> NodeRegister bytes
//	pools:   pool name -> PoolCreate bytes
//	counts:  "objects" -> u64
//
// Values a cursor returns are valid only until it moves; every reader here
// copies (proto.Unmarshal copies bytes fields) before moving on.
var (
	bktMeta     = []byte("meta")
	bktBuckets  = []byte("buckets")
	bktObjects  = []byte("objects")
	bktShards   = []byte("shards")
	bktNodes    = []byte("nodes")
	bktPools    = []byte("pools")
	bktConfig   = []byte("bucket-config")
	bktUsers    = []byte("users")
	bktKeys     = []byte("keys")
	bktVersions = []byte("versions")
	bktUploads  = []byte("uploads")
	bktParts    = []byte("parts")

	keyApplied    = []byte("applied")
	keyJournal    = []byte("journal")
	keyHLC        = []byte("hlc")
	keyActivePool = []byte("active-pool")
	keyObjects    = []byte("objects")
)

var allBuckets = [][]byte{bktMeta, bktBuckets, bktObjects, bktShards, bktNodes, bktPools, bktConfig, bktUsers, bktKeys, bktVersions, bktUploads, bktParts}

type index struct {
	db    *pebble.DB
	cache *pebble.Cache
	dir   string
	opts  indexOptions
	// pebbleOpts are the options the database was opened with.
	pebbleOpts *pebble.Options

	// use guards db against close: readers on any goroutine hold it shared
	// for as long as they read (a snapshot transaction until Rollback);
	// close takes it exclusively, so a restore that replaces the index
	// waits for them, and a reader that comes after gets ErrUnavailable
	// instead of touching a closed database.
	use struct {
		sync.RWMutex
		closed bool
	}
}

// errIndexClosed: the index was closed (replaced by a snapshot restore, or
// the node is stopping); the read may be retried.
var errIndexClosed = fmt.Errorf("%w: index closed (restored from a snapshot, or shutting down)", ErrUnavailable)

// indexOptions bound the index's memory.
type indexOptions struct {
	CacheBytes, MemTableBytes int64
	Logger                    *slog.Logger
	// BeforeNewFile, when set, runs before Pebble creates any file, so
	// before any state the index holds in memory can reach disk
	// (journalSync.sync).
	BeforeNewFile func() error
	// Aborted is closed when BeforeNewFile fails for good: no flush can
	// succeed any more, and sync returns BeforeNewFile's error instead of
	// waiting.
	Aborted <-chan struct{}
}

// openIndex opens (creating if needed) the index in dir.
//
// The index has no write-ahead log of its own: the raft log already holds
// every committed entry until a snapshot covers it, so a commit only goes
// into Pebble's memtable, and memtables reach disk when they fill or when
// the state machine makes the index durable before every snapshot
// (index.sync flushes). After a crash, the index is the last memtable it
// flushed: a consistent prefix of the log (every commit is one batch, and
// flushes keep commit order), at or past the newest snapshot, and the
// replay of the log tail brings it forward (entries at or below "applied"
// are skipped, and events the journal already holds are not appended
// again). The journal is synced before every file the index creates
// (BeforeNewFile, journalSync), so the flushed index never holds journal
// positions a crash took from the journal. Writing every event a third time, into a WAL no recovery needs,
// cost a quarter of the propose throughput (docs/benchmarks.md).
//
// Values of valueSeparationMin bytes or more (the records of objects whose
// payload rides inline) go to blob files, which compactions reference
// instead of rewriting; otherwise the LSM rewrites every inline payload
// once per level it moves through. See docs/architecture.md.
func openIndex(dir string, o indexOptions) (*index, error) {
	if o.CacheBytes == 0 {
		o.CacheBytes = 32 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 8 << 20
	}
	cache := pebble.NewCache(o.CacheBytes)
	opts := &pebble.Options{
		Cache:                       cache,
		MemTableSize:                uint64(o.MemTableBytes),
		MemTableStopWritesThreshold: 4,
		MaxOpenFiles:                256,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{log: o.Logger},
		DisableWAL:                  true,
	}
	if o.BeforeNewFile != nil {
		opts.FS = &syncFS{FS: pebblevfs.Default, before: o.BeforeNewFile}
	}
	opts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           valueSeparationMin,
			MaxBlobReferenceDepth: 10,
			// Blob files whose values were mostly overwritten or deleted
			// are rewritten once an hour old and a fifth garbage.
			RewriteMinimumAge:  time.Hour,
			TargetGarbageRatio: 0.2,
		}
	}
	// Most puts are of keys that do not exist yet; bloom filters let the
	// existence check skip the tables that cannot hold the key.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, opts)
	cache.Unref() // the DB holds its own reference
	if err != nil {
		return nil, fmt.Errorf("%w: open index %s: %w", errIO, dir, err)
	}
	// Pebble runs with opts and its defaults (Open fills in a copy).
	opts = opts.Clone()
	opts.EnsureDefaults()
	return &index{db: db, dir: dir, opts: o, pebbleOpts: opts}, nil
}

// pebbleLogger sends Pebble's own messages to slog (nil: silent). Fatalf
// is for corruption Pebble cannot continue past; it is logged and the
// process stops, as Pebble requires.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	if l.log != nil {
		l.log.Debug("index: " + fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	if l.log != nil {
		l.log.Error("index: " + fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := "index: " + fmt.Sprintf(format, args...)
	if l.log != nil {
		l.log.Error(msg)
	}
	panic(msg)
}

// valueSeparationMin is the smallest value stored in a blob file.
const valueSeparationMin = 1024

// sync makes every commit so far durable: it flushes the memtable (the
// index has no WAL; see openIndex).
func (x *index) sync() error {
	done, err := x.db.AsyncFlush()
	if err != nil {
		return fmt.Errorf("%w: flush index: %w", errIO, err)
	}
	select {
	case <-done:
		return nil
	case <-x.opts.Aborted:
		select {
		case <-done: // it made it after all
			return nil
		default:
		}
		return fmt.Errorf("flush index: %w", x.opts.BeforeNewFile())
	}
}

// close syncs and closes the index.
func (x *index) close() error {
	x.use.Lock()
	defer x.use.Unlock()
	if x.use.closed {
		return nil
	}
	x.use.closed = true
	return errors.Join(x.sync(), x.db.Close())
}

// begin starts a write transaction: reads see its own writes.
func (x *index) begin() *kvTx {
	b := x.db.NewIndexedBatch()
	return &kvTx{r: b, batch: b}
}

// commit commits a write transaction to the memtable (see openIndex).
func (x *index) commit(tx *kvTx) error {
	if tx.err != nil {
		return tx.err
	}
	if err := tx.batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("%w: commit index: %w", errIO, err)
	}
	return tx.Rollback()
}

// view runs fn in a read transaction over a consistent snapshot.
func (x *index) view(fn func(tx *kvTx) error) error {
	tx, err := x.snapshotTx()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.err
}

func u64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putU64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func objectKey(bucket, key string) []byte {
	k := make([]byte, 0, len(bucket)+1+len(key))
	k = append(k, bucket...)
	k = append(k, 0)
	return append(k, key...)
}

func shardKey(node, disk string, id []byte) []byte {
	k := make([]byte, 0, len(node)+len(disk)+2+len(id))
	k = append(k, node...)
	k = append(k, 0)
	k = append(k, disk...)
	k = append(k, 0)
	return append(k, id...)
}

// objectRecord is an object as the index holds it.
type objectRecord struct {
	RaftIndex    uint64
	JournalIndex uint64
	Event        *journalpb.Event // kind OBJECT_PUT
}

func (r *objectRecord) put() *journalpb.ObjectPut { return r.Event.GetObjectPut() }

func encodeObject(raftIndex, journalIndex uint64, ev *journalpb.Event) ([]byte, error) {
	b, err := proto.Marshal(ev)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 16, 16+len(b))
	binary.BigEndian.PutUint64(out, raftIndex)
	binary.BigEndian.PutUint64(out[8:], journalIndex)
	return append(out, b...), nil
}

func decodeObject(v []byte) (*objectRecord, error) {
	if len(v) < 16 {
		return nil, fmt.Errorf("%w: object record of %d bytes", ErrCorrupt, len(v))
	}
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(v[16:], ev); err != nil {
		return nil, fmt.Errorf("%w: object record: %v", ErrCorrupt, err)
	}
	return &objectRecord{RaftIndex: u64(v), JournalIndex: u64(v[8:]), Event: ev}, nil
}

// Read-side queries. Each runs in its own read transaction.

func (x *index) getObject(bucket, key string) (*objectRecord, error) {
	rec, _, err := x.getVersion(bucket, key, "")
	if err == nil && rec.isMarker() {
		return nil, fmt.Errorf("%w: %s/%s (deleted)", ErrNoSuchKey, bucket, key)
	}
	return rec, err
}

// getVersion returns a version of an object (versionID "": the current
// one, which may be a delete marker) and whether it is the current one.
func (x *index) getVersion(bucket, key, versionID string) (*objectRecord, bool, error) {
	var rec *objectRecord
	var current bool
	err := x.view(func(tx *kvTx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
		}
		if versionID != "" {
			var err error
			rec, _, current, err = findVersion(tx, bucket, key, versionID)
			if errors.Is(err, errFatal) {
				err = fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			return err
		}
		v := tx.Bucket(bktObjects).Get(objectKey(bucket, key))
		if v == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoSuchKey, bucket, key)
		}
		var err error
		rec, err = decodeObject(v)
		current = true
		return err
	})
	return rec, current, err
}

// listObjects lists current versions that are not delete markers.
func (x *index) listObjects(bucket, prefix, startAfter string, limit int) ([]*objectRecord, bool, error) {
	var out []*objectRecord
	truncated := false
	err := x.view(func(tx *kvTx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
		}
		c := tx.Bucket(bktObjects).Cursor()
		defer c.Close()
		base := objectKey(bucket, "")
		seek := objectKey(bucket, prefix)
		if startAfter != "" && startAfter >= prefix {
			seek = append(objectKey(bucket, startAfter), 0)
		}
		for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, base); k, v = c.Next() {
			name := string(k[len(base):])
			if !strings.HasPrefix(name, prefix) {
				break
			}
			rec, err := decodeObject(v)
			if err != nil {
				return err
			}
			if rec.isMarker() {
				continue
			}
			if len(out) == limit {
				truncated = true
				break
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, truncated, err
}

// versionEntry is one version in a listing.
type versionEntry struct {
	rec    *objectRecord
	latest bool
}

// listVersions lists every version of the keys starting with prefix, by
// key and newest first, after (keyMarker, versionMarker) as S3's
// ListObjectVersions pages: with versionMarker empty, after every version
// of keyMarker.
func (x *index) listVersions(bucket, prefix, keyMarker, versionMarker string, limit int) ([]versionEntry, bool, error) {
	var out []versionEntry
	truncated := false
	err := x.view(func(tx *kvTx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
		}
		c := tx.Bucket(bktObjects).Cursor()
		defer c.Close()
		base := objectKey(bucket, "")
		seek := objectKey(bucket, prefix)
		if keyMarker != "" && keyMarker >= prefix {
			seek = objectKey(bucket, keyMarker)
			if versionMarker == "" {
				seek = append(seek, 0)
			}
		}
		markerOrder, markerParsed := parseVersionID(versionMarker)
		for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, base); k, v = c.Next() {
			name := string(k[len(base):])
			if !strings.HasPrefix(name, prefix) {
				break
			}
			cur, err := decodeObject(v)
			if err != nil {
				return err
			}
			entries := []versionEntry{{rec: cur, latest: true}}
			vc := tx.Bucket(bktVersions).Cursor()
			vp := append(objectKey(bucket, name), 0)
			for vk, vv := vc.Seek(vp); vk != nil && bytes.HasPrefix(vk, vp); vk, vv = vc.Next() {
				r, err := decodeObject(vv)
				if err != nil {
					vc.Close()
					return err
				}
				entries = append(entries, versionEntry{rec: r})
			}
			vc.Close()
			if name == keyMarker && versionMarker != "" {
				// Resume after the marker version (or after where it was).
				i := 0
				for ; i < len(entries); i++ {
					e := entries[i]
					if e.rec.versionID() == versionMarker {
						i++
						break
					}
					if markerParsed && bytes.Compare(e.rec.order(), markerOrder) > 0 {
						break
					}
				}
				entries = entries[min(i, len(entries)):]
			}
			for _, e := range entries {
				if len(out) == limit {
					truncated = true
					return nil
				}
				out = append(out, e)
			}
		}
		return nil
	})
	return out, truncated, err
}

// listUploads lists uploads in progress by key and upload id, after
// (keyMarker, uploadMarker).
func (x *index) listUploads(bucket, prefix, keyMarker, uploadMarker string, limit int) ([]*journalpb.Event, bool, error) {
	var out []*journalpb.Event
	truncated := false
	err := x.view(func(tx *kvTx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
		}
		c := tx.Bucket(bktUploads).Cursor()
		defer c.Close()
		base := objectKey(bucket, "")
		seek := objectKey(bucket, prefix)
		if keyMarker != "" && keyMarker >= prefix {
			if uploadMarker != "" {
				seek = append(uploadKey(bucket, keyMarker, uploadMarker), 0)
			} else {
				seek = append(objectKey(bucket, keyMarker), 1)
			}
		}
		for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, base); k, v = c.Next() {
			if !bytes.HasPrefix(k[len(base):], []byte(prefix)) {
				break
			}
			if len(out) == limit {
				truncated = true
				break
			}
			ev := &journalpb.Event{}
			if err := proto.Unmarshal(v, ev); err != nil {
				return fmt.Errorf("%w: upload record: %v", ErrCorrupt, err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, truncated, err
}

// listParts returns an upload and its parts numbered above marker.
func (x *index) listParts(bucket, key, uploadID string, marker uint32, limit int) (*journalpb.Event, []*journalpb.Event, bool, error) {
	var up *journalpb.Event
	var out []*journalpb.Event
	truncated := false
	err := x.view(func(tx *kvTx) error {
		var err error
		if up, err = getUpload(tx, bucket, key, uploadID); err != nil {
			if errors.Is(err, errFatal) {
				err = fmt.Errorf("%w: %v", ErrCorrupt, err)
			}
			return err
		}
		prefix := append(uploadKey(bucket, key, uploadID), 0)
		c := tx.Bucket(bktParts).Cursor()
		defer c.Close()
		seek := binary.BigEndian.AppendUint32(bytes.Clone(prefix), marker+1)
		for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(out) == limit {
				truncated = true
				break
			}
			ev := &journalpb.Event{}
			if err := proto.Unmarshal(v, ev); err != nil {
				return fmt.Errorf("%w: part record: %v", ErrCorrupt, err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return up, out, truncated, err
}

// bucketConfig returns a bucket's configuration document, nil if unset.
func (x *index) bucketConfig(bucket, name string) ([]byte, error) {
	var doc []byte
	err := x.view(func(tx *kvTx) error {
		if tx.Bucket(bktBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, bucket)
		}
		doc = tx.Bucket(bktConfig).Get(objectKey(bucket, name))
		return nil
	})
	return doc, err
}

type bucketRecord struct {
	Name    string
	Created time.Time
}

func (x *index) listBuckets() ([]bucketRecord, error) {
	var out []bucketRecord
	err := x.view(func(tx *kvTx) error {
		return tx.Bucket(bktBuckets).ForEach(func(k, v []byte) error {
			ev := &journalpb.Event{}
			if err := proto.Unmarshal(v, ev); err != nil {
				return fmt.Errorf("%w: bucket record %q: %v", ErrCorrupt, k, err)
			}
			out = append(out, bucketRecord{Name: string(k), Created: time.Unix(0, ev.GetHlc().GetWallNanos())})
			return nil
		})
	})
	return out, err
}

func (x *index) nodes() (map[string]*journalpb.NodeRegister, error) {
	out := map[string]*journalpb.NodeRegister{}
	err := x.view(func(tx *kvTx) error {
		return tx.Bucket(bktNodes).ForEach(func(k, v []byte) error {
			n := &journalpb.NodeRegister{}
			if err := proto.Unmarshal(v, n); err != nil {
				return fmt.Errorf("%w: node record %q: %v", ErrCorrupt, k, err)
			}
			out[string(k)] = n
			return nil
		})
	})
	return out, err
}

// poolView is a pool with its disks resolved against the registered nodes.
type poolView struct {
	Def    *journalpb.PoolCreate
	Active bool
	Disks  []*journalpb.ShardLocation
}

func (x *index) pools() ([]poolView, error) {
	var out []poolView
	err := x.view(func(tx *kvTx) error {
		active := string(tx.Bucket(bktMeta).Get(keyActivePool))
		var nodes []*journalpb.NodeRegister
		err := tx.Bucket(bktNodes).ForEach(func(k, v []byte) error {
			n := &journalpb.NodeRegister{}
			if err := proto.Unmarshal(v, n); err != nil {
				return fmt.Errorf("%w: node record %q: %v", ErrCorrupt, k, err)
			}
			nodes = append(nodes, n)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bktPools).ForEach(func(k, v []byte) error {
			p := &journalpb.PoolCreate{}
			if err := proto.Unmarshal(v, p); err != nil {
				return fmt.Errorf("%w: pool record %q: %v", ErrCorrupt, k, err)
			}
			pv := poolView{Def: p, Active: string(k) == active, Disks: p.GetDisks()}
			if len(pv.Disks) == 0 {
				for _, n := range nodes {
					for _, d := range n.GetDisks() {
						pv.Disks = append(pv.Disks, &journalpb.ShardLocation{Node: n.GetNode(), Disk: d})
					}
				}
			}
			out = append(out, pv)
			return nil
		})
	})
	return out, err
}

func (x *index) activePool() (poolView, error) {
	pools, err := x.pools()
	if err != nil {
		return poolView{}, err
	}
	for _, p := range pools {
		if p.Active {
			return p, nil
		}
	}
	return poolView{}, fmt.Errorf("%w: no pool has been created yet", ErrUnavailable)
}

type indexMeta struct {
	Applied uint64
	Journal uint64
	Objects uint64
}

func (x *index) meta() (indexMeta, error) {
	var m indexMeta
	err := x.view(func(tx *kvTx) error {
		b := tx.Bucket(bktMeta)
		m.Applied = u64(b.Get(keyApplied))
		m.Journal = u64(b.Get(keyJournal))
		m.Objects = u64(tx.Bucket(bktMeta).Get(keyObjects))
		return nil
	})
	return m, err
}

// shardsOn calls fn for every shard the index expects on node/disk, with
// the stripe it belongs to (a single-stripe manifest). It reads the index
// in pages, each in a short read transaction, and calls fn outside any
// transaction: fn may take long (it rebuilds shards over the network).
func (x *index) shardsOn(node, disk string, fn func(id []byte, stripe *journalpb.Manifest) error) error {
	const page = 256
	prefix := shardKey(node, disk, nil)
	type ref struct {
		id []byte
		m  *journalpb.Manifest
	}
	seek := prefix
	for {
		var batch []ref
		err := x.view(func(tx *kvTx) error {
			c := tx.Bucket(bktShards).Cursor()
			defer c.Close()
			for k, v := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix) && len(batch) < page; k, v = c.Next() {
				if len(v) < 4 {
					return fmt.Errorf("%w: shard record of %d bytes", ErrCorrupt, len(v))
				}
				m := &journalpb.Manifest{}
				if err := proto.Unmarshal(v[4:], m); err != nil {
					return fmt.Errorf("%w: shard record: %v", ErrCorrupt, err)
				}
				batch = append(batch, ref{bytes.Clone(k[len(prefix):]), m})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range batch {
			if err := fn(r.id, r.m); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		seek = append(shardKey(node, disk, batch[len(batch)-1].id), 0)
	}
}

func (x *index) shardReferenced(node, disk string, id []byte) (bool, error) {
	var ok bool
	err := x.view(func(tx *kvTx) error {
		ok = tx.Bucket(bktShards).Get(shardKey(node, disk, id)) != nil
		return nil
	})
	return ok, err
}

// snapshotTx opens a read transaction on a consistent snapshot; the
// snapshot a raft snapshot streams from.
//
// REQUIRES: the caller calls Rollback, which lets a restore proceed.
func (x *index) snapshotTx() (*kvTx, error) {
	x.use.RLock()
	if x.use.closed {
		x.use.RUnlock()
		return nil, errIndexClosed
	}
	snap := x.db.NewSnapshot()
	return &kvTx{r: snap, snap: snap, release: x.use.RUnlock}, nil
}

// replaceIndex replaces the index in x.dir with one built from the snapshot
// stream r, and opens it. x is closed first. The new index is built beside
// the old one and marked complete before the old one is removed, so a crash
// at any point leaves either the old index or the complete new one
// (recoverIndexDir finishes an interrupted swap).
func replaceIndex(x *index, r io.Reader) (*index, error) {
	dir, o := x.dir, x.opts
	if err := x.close(); err != nil {
		return nil, fmt.Errorf("raftstore: restore: close index: %w", err)
	}
	tmp := dir + ".restore"
	if err := readSnapshot(tmp, r, o); err != nil {
		old, oerr := openIndex(dir, o)
		return old, errors.Join(fmt.Errorf("raftstore: restore index: %w", err), oerr)
	}
	if err := swapIndexDir(dir); err != nil {
		return nil, fmt.Errorf("raftstore: restore index: %w", err)
	}
	return openIndex(dir, o)
}

const restoreDoneFile = "RESTORE-COMPLETE"

// swapIndexDir moves a complete dir+".restore" into place of dir.
func swapIndexDir(dir string) error {
	tmp := dir + ".restore"
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, restoreDoneFile))
}

// recoverIndexDir finishes or discards a restore a crash interrupted.
func recoverIndexDir(dir string) error {
	tmp := dir + ".restore"
	if _, err := os.Stat(filepath.Join(tmp, restoreDoneFile)); err == nil {
		return swapIndexDir(dir)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("raftstore: remove incomplete index restore: %w", err)
	}
	return nil
}

func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
