package vfs

import (
	"errors"
	"os"
	"sync"
	"syscall"
)

// Op names a file-system operation for an Injector.
type Op int

// The operations an Injector sees.
const (
	OpCreate Op = iota
	OpOpen
	OpWrite
	OpSync
	OpRemove
	OpRename
	OpSyncDir
	OpRead
	OpTruncate
)

// ErrInjected is the class of every error an Injector returns by itself.
var ErrInjected = errors.New("vfs: injected error")

// ErrNoSpace is an injected "no space left on device"; it matches both
// ErrInjected and syscall.ENOSPC with errors.Is.
var ErrNoSpace = errors.Join(ErrInjected, syscall.ENOSPC)

// Injector wraps an FS and fails operations chosen by a rule.
type Injector struct {
	fs FS
	mu struct {
		sync.Mutex
		rule func(op Op, name string) error
	}
}

var _ FS = (*Injector)(nil)

// NewInjector wraps fs; it injects nothing until SetRule.
func NewInjector(fs FS) *Injector { return &Injector{fs: fs} }

// SetRule installs rule: a non-nil result fails the operation with it. A nil
// rule injects nothing.
func (in *Injector) SetRule(rule func(op Op, name string) error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.mu.rule = rule
}

// FailAfter returns a rule that fails the n-th (1-based) and every later
// operation of kind op with err.
func FailAfter(op Op, n int, err error) func(Op, string) error {
	var mu sync.Mutex
	count := 0
	return func(o Op, _ string) error {
		if o != op {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		count++
		if count >= n {
			return err
		}
		return nil
	}
}

func (in *Injector) check(op Op, name string) error {
	in.mu.Lock()
	rule := in.mu.rule
	in.mu.Unlock()
	if rule == nil {
		return nil
	}
	if err := rule(op, name); err != nil {
		return &os.PathError{Op: "injected", Path: name, Err: err}
	}
	return nil
}

func (in *Injector) wrap(f File, err error, name string) (File, error) {
	if err != nil {
		return nil, err
	}
	return &injFile{File: f, in: in, name: name}, nil
}

// Create implements FS.
func (in *Injector) Create(name string) (File, error) {
	if err := in.check(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := in.fs.Create(name)
	return in.wrap(f, err, name)
}

// Open implements FS.
func (in *Injector) Open(name string) (File, error) {
	if err := in.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := in.fs.Open(name)
	return in.wrap(f, err, name)
}

// OpenReadWrite implements FS.
func (in *Injector) OpenReadWrite(name string) (File, error) {
	if err := in.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := in.fs.OpenReadWrite(name)
	return in.wrap(f, err, name)
}

// Remove implements FS.
func (in *Injector) Remove(name string) error {
	if err := in.check(OpRemove, name); err != nil {
		return err
	}
	return in.fs.Remove(name)
}

// Rename implements FS.
func (in *Injector) Rename(oldname, newname string) error {
	if err := in.check(OpRename, newname); err != nil {
		return err
	}
	return in.fs.Rename(oldname, newname)
}

// MkdirAll implements FS.
func (in *Injector) MkdirAll(dir string) error { return in.fs.MkdirAll(dir) }

// List implements FS.
func (in *Injector) List(dir string) ([]string, error) { return in.fs.List(dir) }

// Stat implements FS.
func (in *Injector) Stat(name string) (os.FileInfo, error) { return in.fs.Stat(name) }

// SyncDir implements FS.
func (in *Injector) SyncDir(dir string) error {
	if err := in.check(OpSyncDir, dir); err != nil {
		return err
	}
	return in.fs.SyncDir(dir)
}

type injFile struct {
	File
	in   *Injector
	name string
}

func (f *injFile) Write(p []byte) (int, error) {
	if err := f.in.check(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *injFile) Sync() error {
	if err := f.in.check(OpSync, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *injFile) Read(p []byte) (int, error) {
	if err := f.in.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *injFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.in.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *injFile) Truncate(size int64) error {
	if err := f.in.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
