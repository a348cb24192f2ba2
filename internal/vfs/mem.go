package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory FS that can crash. It tracks, for every file, the
// bytes made durable by Sync and, for every directory, the entries made
// durable by SyncDir; CrashClone returns the file system a reboot after a
// power loss would find.
type MemFS struct {
	mu struct {
		sync.Mutex
		// dirs maps a cleaned directory path to its live and durable entries.
		dirs map[string]*memDir
	}
}

var _ FS = (*MemFS)(nil)

type memDir struct {
	live    map[string]*memNode // name -> node (nil node for a subdirectory)
	durable map[string]*memNode
}

type memNode struct {
	mu      sync.Mutex
	data    []byte
	synced  []byte
	modTime time.Time
}

// NewMem returns an empty MemFS with a root directory "/".
func NewMem() *MemFS {
	m := &MemFS{}
	m.mu.dirs = map[string]*memDir{"/": newMemDir()}
	return m
}

func newMemDir() *memDir {
	return &memDir{live: map[string]*memNode{}, durable: map[string]*memNode{}}
}

func clean(name string) string {
	name = filepath.ToSlash(name)
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return path.Clean(name)
}

func split(name string) (dir, base string) {
	name = clean(name)
	return path.Dir(name), path.Base(name)
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// lookupLocked returns the node for a file name.
func (m *MemFS) lookupLocked(name string) (*memNode, error) {
	dir, base := split(name)
	d, ok := m.mu.dirs[dir]
	if !ok {
		return nil, os.ErrNotExist
	}
	n, ok := d.live[base]
	if !ok {
		return nil, os.ErrNotExist
	}
	if n == nil {
		return nil, fmt.Errorf("is a directory: %w", fs.ErrInvalid)
	}
	return n, nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base := split(name)
	d, ok := m.mu.dirs[dir]
	if !ok {
		return nil, pathErr("create", name, os.ErrNotExist)
	}
	if n, ok := d.live[base]; ok && n == nil {
		return nil, pathErr("create", name, fs.ErrInvalid)
	}
	n := &memNode{modTime: time.Now()}
	d.live[base] = n
	return &memFile{name: clean(name), n: n, write: true}, nil
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupLocked(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &memFile{name: clean(name), n: n}, nil
}

// OpenReadWrite implements FS.
func (m *MemFS) OpenReadWrite(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupLocked(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &memFile{name: clean(name), n: n, write: true}, nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base := split(name)
	d, ok := m.mu.dirs[dir]
	if !ok {
		return pathErr("remove", name, os.ErrNotExist)
	}
	n, ok := d.live[base]
	if !ok {
		return pathErr("remove", name, os.ErrNotExist)
	}
	if n == nil {
		sub := m.mu.dirs[clean(name)]
		if sub != nil && len(sub.live) > 0 {
			return pathErr("remove", name, fmt.Errorf("directory not empty"))
		}
		delete(m.mu.dirs, clean(name))
	}
	delete(d.live, base)
	return nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	odir, obase := split(oldname)
	ndir, nbase := split(newname)
	od, ok := m.mu.dirs[odir]
	if !ok {
		return pathErr("rename", oldname, os.ErrNotExist)
	}
	n, ok := od.live[obase]
	if !ok || n == nil {
		return pathErr("rename", oldname, os.ErrNotExist)
	}
	nd, ok := m.mu.dirs[ndir]
	if !ok {
		return pathErr("rename", newname, os.ErrNotExist)
	}
	delete(od.live, obase)
	nd.live[nbase] = n
	return nil
}

// MkdirAll implements FS. Directories are durable as soon as they exist:
// ferry creates its directories once, at start-up, before any data.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = clean(dir)
	for p := dir; ; p = path.Dir(p) {
		if _, ok := m.mu.dirs[p]; ok {
			break
		}
		parent, base := split(p)
		if pd, ok := m.mu.dirs[parent]; ok {
			if n, exists := pd.live[base]; exists && n != nil {
				return pathErr("mkdir", p, fmt.Errorf("not a directory"))
			}
		}
		if p == "/" {
			break
		}
	}
	var chain []string
	for p := dir; p != "/"; p = path.Dir(p) {
		chain = append(chain, p)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		p := chain[i]
		if _, ok := m.mu.dirs[p]; ok {
			continue
		}
		parent, base := split(p)
		m.mu.dirs[p] = newMemDir()
		m.mu.dirs[parent].live[base] = nil
		m.mu.dirs[parent].durable[base] = nil
	}
	return nil
}

// List implements FS.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.mu.dirs[clean(dir)]
	if !ok {
		return nil, pathErr("list", dir, os.ErrNotExist)
	}
	names := make([]string, 0, len(d.live))
	for name := range d.live {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = clean(name)
	if _, ok := m.mu.dirs[name]; ok {
		return memInfo{name: path.Base(name), dir: true}, nil
	}
	n, err := m.lookupLocked(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return memInfo{name: path.Base(name), size: int64(len(n.data)), mod: n.modTime}, nil
}

// SyncDir implements FS.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.mu.dirs[clean(dir)]
	if !ok {
		return pathErr("syncdir", dir, os.ErrNotExist)
	}
	d.durable = make(map[string]*memNode, len(d.live))
	for k, v := range d.live {
		d.durable[k] = v
	}
	return nil
}

// CrashClone returns the file system as it would be found after a power
// loss now: only durable directory entries survive, and each file holds its
// synced bytes. When rng is not nil, a file with unsynced bytes may keep a
// prefix of them cut at a 512-byte boundary (a torn write); with rng nil,
// every unsynced byte is lost.
func (m *MemFS) CrashClone(rng *rand.Rand) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	clones := map[*memNode]*memNode{}
	for p, d := range m.mu.dirs {
		cd, ok := c.mu.dirs[p]
		if !ok {
			cd = newMemDir()
			c.mu.dirs[p] = cd
		}
		for name, n := range d.durable {
			if n == nil {
				cd.live[name], cd.durable[name] = nil, nil
				continue
			}
			cn, ok := clones[n]
			if !ok {
				cn = crashNode(n, rng)
				clones[n] = cn
			}
			cd.live[name], cd.durable[name] = cn, cn
		}
	}
	// Drop directories whose entry in the parent did not survive.
	for p := range c.mu.dirs {
		if p == "/" {
			continue
		}
		parent, base := split(p)
		pd, ok := c.mu.dirs[parent]
		if !ok {
			delete(c.mu.dirs, p)
			continue
		}
		if _, ok := pd.live[base]; !ok {
			delete(c.mu.dirs, p)
		}
	}
	return c
}

func crashNode(n *memNode, rng *rand.Rand) *memNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	data := append([]byte(nil), n.synced...)
	if rng != nil && len(n.data) > len(n.synced) && hasPrefix(n.data, n.synced) {
		// Keep the unsynced bytes up to a random 512-byte sector boundary
		// of the file (absolute offsets, as a disk writes whole sectors).
		end := len(n.synced) + rng.IntN(len(n.data)-len(n.synced)+1)
		end -= end % 512
		if end > len(n.synced) {
			data = append(data, n.data[len(n.synced):end]...)
		}
	}
	return &memNode{data: data, synced: append([]byte(nil), data...), modTime: n.modTime}
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// Corrupt applies fn to the bytes of name in place, both live and durable:
// a stand-in for bit rot on the medium.
func (m *MemFS) Corrupt(name string, fn func(data []byte) []byte) error {
	m.mu.Lock()
	n, err := m.lookupLocked(name)
	m.mu.Unlock()
	if err != nil {
		return pathErr("corrupt", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.data = fn(n.data)
	n.synced = append([]byte(nil), n.data...)
	return nil
}

type memFile struct {
	name   string
	n      *memNode
	off    int64
	write  bool
	closed bool
}

func (f *memFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if !f.write {
		return 0, pathErr("write", f.name, fs.ErrPermission)
	}
	end := f.off + int64(len(p))
	if end > int64(len(f.n.data)) {
		if end <= int64(cap(f.n.data)) {
			f.n.data = f.n.data[:end]
		} else {
			// Grow geometrically so appends are amortized O(1). The synced
			// copy is separate, so reallocating never aliases it.
			grown := make([]byte, end, max(end, 2*int64(cap(f.n.data))))
			copy(grown, f.n.data)
			f.n.data = grown
		}
	}
	copy(f.n.data[f.off:], p)
	f.off = end
	f.n.modTime = time.Now()
	return len(p), nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	f.n.mu.Lock()
	size := int64(len(f.n.data))
	f.n.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += size
	default:
		return 0, fs.ErrInvalid
	}
	if offset < 0 {
		return 0, fs.ErrInvalid
	}
	f.off = offset
	return offset, nil
}

func (f *memFile) Close() error {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	f.closed = true
	return nil
}

func (f *memFile) Sync() error {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	f.n.synced = append(f.n.synced[:0], f.n.data...)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if !f.write {
		return pathErr("truncate", f.name, fs.ErrPermission)
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if size < int64(len(f.n.data)) {
		f.n.data = append([]byte(nil), f.n.data[:size]...)
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	return memInfo{name: path.Base(f.name), size: int64(len(f.n.data)), mod: f.n.modTime}, nil
}

type memInfo struct {
	name string
	size int64
	mod  time.Time
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() os.FileMode {
	if i.dir {
		return os.ModeDir | 0o700
	}
	return 0o600
}
func (i memInfo) ModTime() time.Time { return i.mod }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
