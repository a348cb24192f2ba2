// Package vfs is the file-system seam of ferry's storage: the journal, the
// raft snapshot store's neighbours and the EC shard store do all their file
// I/O through an FS, so tests can run them on a crashable in-memory file
// system (MemFS) or inject errors (Injector) while production uses the
// operating system (Default).
//
// Durability contract (the same as POSIX with a careful writer):
//   - bytes written to a File are durable only after File.Sync returns nil;
//   - a created, renamed or removed name is durable only after SyncDir of its
//     parent directory returns nil.
//
// MemFS.CrashClone models a power loss that keeps exactly what this contract
// promises, optionally tearing the unsynced tail of a file at a sector
// boundary.
package vfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// File is an open file. Writes append at the current offset.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	// Sync makes the file's written bytes durable.
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Stat describes the file.
	Stat() (os.FileInfo, error)
}

// FS is a file system. Paths are slash or OS separated; MemFS cleans them.
type FS interface {
	// Create creates or truncates name for reading and writing.
	Create(name string) (File, error)
	// Open opens name read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing,
	// positioned at offset 0.
	OpenReadWrite(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// MkdirAll creates dir and its parents.
	MkdirAll(dir string) error
	// List returns the sorted names in dir.
	List(dir string) ([]string, error)
	// Stat describes name.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(dir string) error
}

// Default is the operating system's file system.
var Default FS = osFS{}

type osFS struct{}

var _ FS = osFS{}

func (osFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func (osFS) Open(name string) (File, error) { return os.Open(name) }

func (osFS) OpenReadWrite(name string) (File, error) { return os.OpenFile(name, os.O_RDWR, 0) }

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o700) }

func (osFS) List(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	err = errors.Join(err, f.Close())
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

func (osFS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

func (osFS) SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// WriteFileAtomic writes data to name so that after a crash name holds
// either its old content or data, never a mix: it writes a temporary file,
// syncs it, renames it over name and syncs the directory.
func WriteFileAtomic(fs FS, name string, data []byte) (err error) {
	tmp := name + ".tmp"
	f, err := fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close(), fs.Remove(tmp))
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return errors.Join(err, fs.Remove(tmp))
	}
	if err := fs.Rename(tmp, name); err != nil {
		return errors.Join(err, fs.Remove(tmp))
	}
	return fs.SyncDir(filepath.Dir(name))
}

// ReadFile reads the whole of name.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	return data, errors.Join(err, f.Close())
}
