package raftstore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// The index is a Pebble LSM. kv.go gives it the small bucketed surface the
// state machine is written against: a transaction (an indexed batch for
// writes, a snapshot for reads) holding named buckets, each a key prefix
// "name NUL". name+NUL orders buckets exactly as their names sort, so a scan
// of the whole key space visits buckets in name order and keys in byte
// order, which the logical snapshot relies on.
//
// Reads cannot fail silently: a read error is recorded in the transaction
// and returned by Commit or View, so a failed read never passes for an
// absent key in a committed batch.

// kvTx is one transaction over the index.
type kvTx struct {
	r     pebble.Reader
	batch *pebble.Batch    // nil for read transactions
	snap  *pebble.Snapshot // nil for write transactions
	err   error
	// release, when set, is called once by Rollback (the index's read
	// guard of a snapshot transaction).
	release func()
	// undo records, since the last savepoint, the prior value of every key
	// a write changed (first change only), so one rejected event can be
	// taken out of a batch that holds others.
	undo struct {
		on   bool
		seen map[string]bool
		log  []undoRec
	}
	// cache holds, in a write transaction, what keys read or written so
	// far hold in it (values up to cacheMaxValue bytes; absence too), so
	// the bucket records, configurations and counters every event of a
	// batch reads, and the prior values the undo log needs, are looked up
	// in Pebble once per batch. The state machine is the index's only
	// writer and holds the transaction for the whole batch, so nothing
	// else can change a cached key.
	cache map[string]cachedValue
}

type cachedValue struct {
	v  []byte
	ok bool // false: the key is absent
}

const (
	cacheMaxValue   = 1024
	cacheMaxEntries = 1 << 14
)

// lookup returns the value of the full key k and whether it is present.
// Reads in a write transaction go through the cache; cached reports that
// the value is shared with the cache (callers must not modify it, and
// copy it before handing it out).
func (t *kvTx) lookup(k []byte) (v []byte, ok, cached bool) {
	if t.r == nil {
		t.fail(errors.New("raftstore: index transaction closed"))
		return nil, false, false
	}
	if t.batch != nil {
		if c, hit := t.cache[string(k)]; hit {
			return c.v, c.ok, true
		}
	}
	pv, closer, err := t.r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		t.cacheSet(k, nil, false)
		return nil, false, false
	}
	if err != nil {
		t.fail(fmt.Errorf("%w: index read: %w", errIO, err))
		return nil, false, false
	}
	v = bytes.Clone(pv)
	if v == nil {
		v = []byte{}
	}
	t.fail(closer.Close())
	t.cacheSet(k, v, true)
	_, cached = t.cache[string(k)]
	return v, true, cached
}

// cacheSet records that k now holds v (ok) or is absent (!ok); v is kept,
// not copied. Large values are dropped from the cache instead.
func (t *kvTx) cacheSet(k, v []byte, ok bool) {
	if t.batch == nil {
		return
	}
	if len(v) > cacheMaxValue {
		delete(t.cache, string(k))
		return
	}
	if t.cache == nil || len(t.cache) >= cacheMaxEntries {
		t.cache = make(map[string]cachedValue)
	}
	t.cache[string(k)] = cachedValue{v: v, ok: ok}
}

type undoRec struct {
	key []byte
	old []byte // nil: the key was absent
}

// savepoint starts recording the changes that rollbackToSavepoint undoes.
func (t *kvTx) savepoint() {
	t.undo.on = true
	clear(t.undo.seen)
	if t.undo.seen == nil {
		t.undo.seen = map[string]bool{}
	}
	t.undo.log = t.undo.log[:0]
}

// rollbackToSavepoint undoes every write since the last savepoint.
func (t *kvTx) rollbackToSavepoint() error {
	for i := len(t.undo.log) - 1; i >= 0; i-- {
		u := t.undo.log[i]
		var err error
		if u.old == nil {
			err = t.batch.Delete(u.key, nil)
		} else {
			err = t.batch.Set(u.key, u.old, nil)
		}
		t.cacheSet(u.key, u.old, u.old != nil)
		if err != nil {
			return fmt.Errorf("%w: index undo: %w", errIO, err)
		}
	}
	t.savepoint()
	return nil
}

// remember records the current value of the full key k before a write.
func (t *kvTx) remember(k []byte) {
	if !t.undo.on || t.undo.seen[string(k)] {
		return
	}
	t.undo.seen[string(k)] = true
	v, ok, _ := t.lookup(k)
	if !ok {
		t.undo.log = append(t.undo.log, undoRec{key: bytes.Clone(k)})
		return
	}
	// The value may be shared with the cache, which never modifies it:
	// the record may keep it.
	t.undo.log = append(t.undo.log, undoRec{key: bytes.Clone(k), old: v})
}

func (t *kvTx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// Bucket returns the named bucket.
func (t *kvTx) Bucket(name []byte) *kvBucket {
	p := make([]byte, 0, len(name)+1)
	p = append(p, name...)
	return &kvBucket{tx: t, prefix: append(p, 0)}
}

// Rollback releases the transaction without committing it; safe to call
// more than once and after Commit.
func (t *kvTx) Rollback() error {
	var err error
	if t.batch != nil {
		err = t.batch.Close()
		t.batch = nil
	}
	if t.snap != nil {
		err = errors.Join(err, t.snap.Close())
		t.snap = nil
	}
	if t.release != nil {
		t.release()
		t.release = nil
	}
	t.r = nil
	return err
}

// kvBucket is a key prefix inside a transaction.
type kvBucket struct {
	tx     *kvTx
	prefix []byte
}

func (b *kvBucket) key(k []byte) []byte {
	out := make([]byte, 0, len(b.prefix)+len(k))
	out = append(out, b.prefix...)
	return append(out, k...)
}

// Get returns a copy of the value of k, or nil if k is absent.
func (b *kvBucket) Get(k []byte) []byte {
	v, ok, cached := b.tx.lookup(b.key(k))
	if !ok {
		return nil
	}
	if !cached {
		return v
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out
}

// Put sets k to v in a write transaction.
func (b *kvBucket) Put(k, v []byte) error {
	if b.tx.batch == nil {
		return errors.New("raftstore: put in a read-only index transaction")
	}
	fk := b.key(k)
	b.tx.remember(fk)
	if err := b.tx.batch.Set(fk, v, nil); err != nil {
		delete(b.tx.cache, string(fk))
		return err
	}
	if len(v) <= cacheMaxValue {
		b.tx.cacheSet(fk, bytes.Clone(v), true)
	} else {
		delete(b.tx.cache, string(fk))
	}
	return nil
}

// Delete removes k in a write transaction.
func (b *kvBucket) Delete(k []byte) error {
	if b.tx.batch == nil {
		return errors.New("raftstore: delete in a read-only index transaction")
	}
	fk := b.key(k)
	b.tx.remember(fk)
	if err := b.tx.batch.Delete(fk, nil); err != nil {
		delete(b.tx.cache, string(fk))
		return err
	}
	b.tx.cacheSet(fk, nil, false)
	return nil
}

// DeletePrefix removes every key of the bucket that starts with p.
func (b *kvBucket) DeletePrefix(p []byte) error {
	if b.tx.batch == nil {
		return errors.New("raftstore: delete in a read-only index transaction")
	}
	lo := b.key(p)
	if b.tx.undo.on {
		c := b.Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			b.tx.remember(b.key(k))
		}
		c.Close()
	}
	clear(b.tx.cache) // rare: forget everything rather than scan the cache
	return b.tx.batch.DeleteRange(lo, prefixEnd(lo), nil)
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (nil when there is none).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Cursor iterates the bucket in key order. Keys it returns are relative to
// the bucket; keys and values are valid until the next move. Close it.
func (b *kvBucket) Cursor() *kvCursor {
	c := &kvCursor{b: b}
	if b.tx.r == nil {
		b.tx.fail(errors.New("raftstore: index transaction closed"))
		return c
	}
	it, err := b.tx.r.NewIter(&pebble.IterOptions{LowerBound: b.prefix, UpperBound: prefixEnd(b.prefix)})
	if err != nil {
		b.tx.fail(fmt.Errorf("%w: index iterator: %w", errIO, err))
		return c
	}
	c.it = it
	return c
}

// ForEach calls fn for every key of the bucket in order.
func (b *kvBucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	defer c.Close()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return b.tx.err
}

type kvCursor struct {
	b  *kvBucket
	it *pebble.Iterator
}

func (c *kvCursor) current(ok bool) ([]byte, []byte) {
	if !ok {
		if err := c.it.Error(); err != nil {
			c.b.tx.fail(fmt.Errorf("%w: index iterator: %w", errIO, err))
		}
		return nil, nil
	}
	v, err := c.it.ValueAndErr()
	if err != nil {
		c.b.tx.fail(fmt.Errorf("%w: index iterator: %w", errIO, err))
		return nil, nil
	}
	k := c.it.Key()[len(c.b.prefix):]
	if k == nil {
		k = []byte{}
	}
	return k, v
}

// First moves to the bucket's first key.
func (c *kvCursor) First() ([]byte, []byte) {
	if c.it == nil {
		return nil, nil
	}
	return c.current(c.it.First())
}

// Seek moves to the first key at or after k.
func (c *kvCursor) Seek(k []byte) ([]byte, []byte) {
	if c.it == nil {
		return nil, nil
	}
	return c.current(c.it.SeekGE(c.b.key(k)))
}

// Next moves to the next key.
func (c *kvCursor) Next() ([]byte, []byte) {
	if c.it == nil {
		return nil, nil
	}
	return c.current(c.it.Next())
}

// Close releases the cursor.
func (c *kvCursor) Close() {
	if c.it != nil {
		c.b.tx.fail(c.it.Close())
		c.it = nil
	}
}
