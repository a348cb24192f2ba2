package ecstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
)

// DiskConfig names one of a node's shard disks.
type DiskConfig struct {
	// ID names the disk in locations and manifests. Required, unique.
	ID string
	// Dir is the disk's directory (its mount point or a directory on it).
	// Required, unique. OpenDisks creates it when missing.
	Dir string
}

// Disks stores shard files on a node's local disks. It is safe for
// concurrent use and runs no goroutines.
//
// A shard lives at Dir/hh/<id in hex>, hh being the id's first byte in
// hex, in the format described in doc.go. Every file is written to a
// unique temporary name, synced, renamed into place and its directory
// synced before Put returns.
type Disks struct {
	fs     vfs.FS
	node   string
	ids    []string
	dirs   map[string]string
	tmpSeq atomic.Uint64
	// locks serialize Put, Remove and garbage collection of one id (striped
	// by the id's first byte), so a shard refreshed by a deduplicating Put
	// cannot be collected between its check and its refresh.
	locks [64]sync.Mutex
}

// OpenDisks opens a node's disks over fsys (nil: the OS). It creates
// missing disk directories; a disk whose directory cannot be created or read
// is reported by Health and its operations fail with ErrDiskUnavailable,
// so one bad disk does not stop the node. OpenDisks fails only on a bad
// configuration.
func OpenDisks(fsys vfs.FS, node string, disks []DiskConfig) (*Disks, error) {
	if fsys == nil {
		fsys = vfs.Default
	}
	var errs []error
	if node == "" {
		errs = append(errs, fmt.Errorf("%w: disks need a node id", ErrInvalid))
	}
	if len(disks) == 0 {
		errs = append(errs, fmt.Errorf("%w: no disks", ErrInvalid))
	}
	d := &Disks{fs: fsys, node: node, dirs: map[string]string{}}
	seenDir := map[string]bool{}
	for i, dc := range disks {
		dir := filepath.Clean(dc.Dir)
		switch {
		case dc.ID == "" || dc.Dir == "":
			errs = append(errs, fmt.Errorf("%w: disk %d needs an id and a dir", ErrInvalid, i))
			continue
		case d.dirs[dc.ID] != "":
			errs = append(errs, fmt.Errorf("%w: disk id %q appears twice", ErrInvalid, dc.ID))
			continue
		case seenDir[dir]:
			errs = append(errs, fmt.Errorf("%w: disk dir %q appears twice", ErrInvalid, dc.Dir))
			continue
		}
		seenDir[dir] = true
		d.dirs[dc.ID] = dir
		d.ids = append(d.ids, dc.ID)
		_ = fsys.MkdirAll(dir) // a failure shows in Health and in every operation
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

// Node returns the node the disks belong to.
func (d *Disks) Node() string { return d.node }

// IDs returns the disk ids in configuration order.
func (d *Disks) IDs() []string { return append([]string(nil), d.ids...) }

// Health checks every disk now and returns, per disk id, nil when its
// directory is readable and the error otherwise.
func (d *Disks) Health() map[string]error {
	out := make(map[string]error, len(d.ids))
	for _, id := range d.ids {
		out[id] = d.checkDir(id)
	}
	return out
}

func (d *Disks) checkDir(disk string) error {
	dir := d.dirs[disk]
	st, err := d.fs.Stat(dir)
	if err == nil && !st.IsDir() {
		err = fmt.Errorf("%s is not a directory", dir)
	}
	if err == nil {
		_, err = d.fs.List(dir)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDiskUnavailable, disk, err)
	}
	return nil
}

func (d *Disks) dir(disk string) (string, error) {
	dir, ok := d.dirs[disk]
	if !ok {
		return "", fmt.Errorf("%w: no disk %q on node %s", ErrDiskUnavailable, disk, d.node)
	}
	return dir, nil
}

// Path returns the file name of shard id on disk.
func (d *Disks) Path(disk string, id ShardID) (string, error) {
	dir, err := d.dir(disk)
	if err != nil {
		return "", err
	}
	return shardPath(dir, id), nil
}

func shardPath(dir string, id ShardID) string {
	h := id.String()
	return filepath.Join(dir, h[:2], h)
}

func (d *Disks) lock(id ShardID) *sync.Mutex { return &d.locks[int(id[0])%len(d.locks)] }

// Put stores data as shard id on disk durably. id must be scheme.Of(data);
// Put does not check it (the caller computed it). When the disk already
// holds exactly these bytes under id, Put refreshes the file's modification
// time instead of rewriting it, by rewriting its identical header in place
// and syncing (vfs has no Chtimes): this keeps a deduplicated shard from
// being garbage collected before the event that references it commits. A
// damaged existing file (or one whose bytes do not hash to id) is
// replaced; an intact one whose different bytes hash to id is kept and Put
// returns ErrIDCollision. Under a derived scheme (a parity shard's derived
// id) differing bytes are always replaced: the id names the parity of
// data the caller has just encoded or verified, so the old bytes are the
// wrong ones. data is not retained.
func (d *Disks) Put(disk string, scheme IDScheme, id ShardID, data []byte) error {
	if len(data) > maxShardData {
		return fmt.Errorf("%w: shard of %d bytes", ErrInvalid, len(data))
	}
	dir, err := d.dir(disk)
	if err != nil {
		return err
	}
	name := shardPath(dir, id)
	hdr := shardHeader(id, data)
	mu := d.lock(id)
	mu.Lock()
	defer mu.Unlock()
	ok, err := d.refreshLocked(name, scheme, &hdr, data)
	if err == nil && !ok {
		err = d.writeLocked(disk, dir, name, &hdr, data)
	}
	if err != nil {
		return fmt.Errorf("ecstore: put shard %s on %s/%s: %w", id.short(), d.node, disk, err)
	}
	return nil
}

// refreshLocked touches name if it holds exactly hdr+data. It reports
// false when name is absent or damaged (the caller rewrites it), and
// ErrIDCollision when name is an intact shard whose other bytes also hash
// to the id: that shard stays, since a manifest may point at it.
func (d *Disks) refreshLocked(name string, scheme IDScheme, hdr *[shardHeaderSize]byte, data []byte) (bool, error) {
	if _, err := d.fs.Stat(name); err != nil {
		return false, nil
	}
	b, err := d.readFile(name)
	if err != nil {
		return false, nil
	}
	if !bytes.Equal(b[:min(len(b), shardHeaderSize)], hdr[:]) || !bytes.Equal(b[min(len(b), shardHeaderSize):], data) {
		if id, old, derr := decodeShardFile(b); derr == nil && bytes.Equal(id[:], hdr[20:52]) && !scheme.IsDerived() && scheme.Of(old) == id {
			return false, ErrIDCollision
		}
		return false, nil
	}
	f, err := d.fs.OpenReadWrite(name)
	if err != nil {
		return false, err
	}
	if _, err := f.Write(hdr[:]); err != nil {
		return false, errors.Join(err, f.Close())
	}
	return true, errors.Join(f.Sync(), f.Close())
}

func (d *Disks) writeLocked(disk, dir, name string, hdr *[shardHeaderSize]byte, data []byte) error {
	sub := filepath.Dir(name)
	tmp := name + ".tmp" + strconv.FormatUint(d.tmpSeq.Add(1), 10)
	f, err := d.fs.Create(tmp)
	if errors.Is(err, fs.ErrNotExist) {
		// The id's subdirectory is missing: create it, but only on a disk
		// whose directory exists (never recreate an unmounted disk).
		if err := d.checkDir(disk); err != nil {
			return err
		}
		if err := d.fs.MkdirAll(sub); err != nil {
			return err
		}
		if err := d.fs.SyncDir(dir); err != nil {
			return err
		}
		f, err = d.fs.Create(tmp)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(hdr[:])
	if err == nil {
		_, err = f.Write(data)
	}
	if err != nil {
		return errors.Join(err, f.Close(), d.fs.Remove(tmp))
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return errors.Join(err, d.fs.Remove(tmp))
	}
	if err := d.fs.Rename(tmp, name); err != nil {
		return errors.Join(err, d.fs.Remove(tmp))
	}
	return d.fs.SyncDir(sub)
}

func (d *Disks) readFile(name string) ([]byte, error) {
	f, err := d.fs.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if st.Size() > shardHeaderSize+maxShardData {
		return nil, errors.Join(fmt.Errorf("%w: file of %d bytes", ErrCorrupt, st.Size()), f.Close())
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err == io.EOF {
		err = nil // shorter than Stat said: the decoder reports it
	}
	return b[:n], errors.Join(err, f.Close())
}

// Get returns the data of shard id on disk after checking its header,
// length, data checksum and recorded id. Errors wrap ErrNotFound,
// ErrCorrupt (naming the file) or ErrDiskUnavailable, or carry the I/O error.
func (d *Disks) Get(disk string, id ShardID) ([]byte, error) {
	dir, err := d.dir(disk)
	if err != nil {
		return nil, err
	}
	name := shardPath(dir, id)
	b, err := d.readFile(name)
	if err == nil {
		var got ShardID
		var data []byte
		got, data, err = decodeShardFile(b)
		if err == nil && got != id {
			err = fmt.Errorf("%w: file records id %s", ErrCorrupt, got.short())
		}
		if err == nil {
			return data, nil
		}
		err = fmt.Errorf("%w (file %s)", err, name)
	} else if errors.Is(err, fs.ErrNotExist) {
		if derr := d.checkDir(disk); derr != nil {
			err = derr
		} else {
			err = fmt.Errorf("%w: %s", ErrNotFound, name)
		}
	}
	return nil, fmt.Errorf("ecstore: get shard %s on %s/%s: %w", id.short(), d.node, disk, err)
}

// Remove deletes shard id from disk durably; ErrNotFound if absent.
func (d *Disks) Remove(disk string, id ShardID) error {
	dir, err := d.dir(disk)
	if err != nil {
		return err
	}
	mu := d.lock(id)
	mu.Lock()
	defer mu.Unlock()
	if err := d.removeLocked(shardPath(dir, id)); err != nil {
		return fmt.Errorf("ecstore: remove shard %s on %s/%s: %w", id.short(), d.node, disk, err)
	}
	return nil
}

func (d *Disks) removeLocked(name string) error {
	if err := d.fs.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return err
	}
	return d.fs.SyncDir(filepath.Dir(name))
}

// Walk calls fn for every shard file on disk with its modification time,
// in id order, until fn returns an error. It does not read the files.
// Temporary files left by a crash are skipped (CollectGarbage removes
// them). A missing or unreadable disk directory gives ErrDiskUnavailable.
func (d *Disks) Walk(disk string, fn func(id ShardID, modTime time.Time) error) error {
	return d.walk(disk, func(_ string, id ShardID, tmp bool, mod time.Time) error {
		if tmp {
			return nil
		}
		return fn(id, mod)
	})
}

// walk visits shard and temporary files; for a temporary file id is the
// shard it was meant to become.
func (d *Disks) walk(disk string, fn func(name string, id ShardID, tmp bool, mod time.Time) error) error {
	dir, err := d.dir(disk)
	if err != nil {
		return err
	}
	subs, err := d.fs.List(dir)
	if err != nil {
		return fmt.Errorf("ecstore: walk %s/%s: %w: %v", d.node, disk, ErrDiskUnavailable, err)
	}
	for _, sub := range subs {
		if len(sub) != 2 {
			continue
		}
		names, err := d.fs.List(filepath.Join(dir, sub))
		if err != nil {
			continue // not a directory, or vanished
		}
		for _, nm := range names {
			base, tmp := nm, false
			if i := strings.Index(nm, ".tmp"); i >= 0 {
				base, tmp = nm[:i], true
			}
			id, err := ParseShardID(base)
			if err != nil || base[:2] != sub {
				continue
			}
			name := filepath.Join(dir, sub, nm)
			st, err := d.fs.Stat(name)
			if err != nil {
				continue // removed since List
			}
			if err := fn(name, id, tmp, st.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}
