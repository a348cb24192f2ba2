package raftstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/ecstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// fsm is the state machine: a pure function of the log. apply reads only
// the entries it is given and the replicated state in the index; it never
// reads a clock, a random source or local configuration. Everything that
// may differ per node (shard writes, notifications) happens before the
// event is proposed or after it is applied.
//
// INVARIANT: after apply returns for raft index i, the index records
// applied = i and the journal holds every accepted event up to the index's
// journal position (the journal is written before the index transaction
// commits, and synced before the index reaches disk (journalSync), so a
// crash leaves the journal at or past the durable index, with entries
// past the index's position, which replay recognises and does not append
// twice).
type fsm struct {
	// jrCfg reopens the journal after an I/O failure (it refuses writes
	// after a failed fsync until reopened).
	jrCfg journal.Config

	// js syncs the current journal for the index (journalSync).
	js *journalSync

	mover payloadMover

	mu struct {
		sync.Mutex
		jr  *journal.Journal
		idx *index
		// pin keeps the journal segments holding payloads not yet moved
		// into the index (payloads.go).
		pin *journal.Cursor
		// appliedCh is closed and replaced whenever applied advances.
		appliedCh chan struct{}
		applied   uint64
	}
}

// applyResult is what apply returns for each committed entry.
type applyResult struct {
	JournalIndex uint64
	// Outcome is what the state machine decided (version ids...).
	Outcome *nodepb.Outcome
	// HLC is the event's timestamp as applied (the state machine may have
	// moved it forward to keep timestamps increasing in log order).
	HLC *journalpb.Timestamp
	Err error
}

// entry is a committed raft entry as the FSM sees it.
type entry struct {
	Index uint64
	Data  []byte // nil for entries that carry no event (configuration, no-op)
}

// Entry framing: the first byte of a raft command says what follows.
const (
	entryEvent byte = 1
)

func encodeEntry(ev *journalpb.Event) ([]byte, error) {
	b := make([]byte, 1, 1+proto.Size(ev))
	b[0] = entryEvent
	b, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, ev)
	if err != nil {
		return nil, fmt.Errorf("%w: encode event: %v", ErrInvalidArgument, err)
	}
	return b, nil
}

// openFSM opens the index in indexDir, with the journal synced before
// anything of it reaches disk (journalSync), and returns the state machine
// over it and jr.
func openFSM(jrCfg journal.Config, jr *journal.Journal, indexDir string, o indexOptions) (*fsm, error) {
	js := newJournalSync(jr)
	o.BeforeNewFile, o.Aborted = js.sync, js.aborted
	idx, err := openIndex(indexDir, o)
	if err != nil {
		return nil, err
	}
	f, err := newFSM(jrCfg, jr, idx, js)
	if err != nil {
		return nil, errors.Join(err, idx.close())
	}
	return f, nil
}

func newFSM(jrCfg journal.Config, jr *journal.Journal, idx *index, js *journalSync) (*fsm, error) {
	f := &fsm{jrCfg: jrCfg, js: js}
	js.set(jr)
	f.mu.jr = jr
	f.mu.idx = idx
	f.mu.appliedCh = make(chan struct{})
	m, err := idx.meta()
	if err != nil {
		return nil, err
	}
	f.mu.applied = m.Applied
	if err := f.pinLocked(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fsm) journal() *journal.Journal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.jr
}

// reopenJournal closes and reopens the journal, which recovers its tail
// from disk; used before retrying an apply that failed on journal I/O.
func (f *fsm) reopenJournal() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cerr := f.mu.jr.Close()
	if errors.Is(cerr, journal.ErrWritesLost) {
		return f.js.fail(cerr)
	}
	jr, err := journal.Open(f.jrCfg)
	if err != nil {
		return errors.Join(fmt.Errorf("raftstore: reopen journal: %w", err), cerr)
	}
	f.mu.jr = jr
	f.js.set(jr)
	return f.pinLocked()
}

func (f *fsm) index() *index {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.idx
}

// appliedIndex returns the last applied raft index and a channel closed
// when it next advances.
func (f *fsm) appliedIndex() (uint64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.applied, f.mu.appliedCh
}

func (f *fsm) setAppliedLocked(i uint64) {
	if i <= f.mu.applied {
		return
	}
	f.mu.applied = i
	close(f.mu.appliedCh)
	f.mu.appliedCh = make(chan struct{})
}

// errFatal marks an apply failure that must stop the node (an unknown,
// non-skippable event; a corrupt index; a journal that cannot be written).
var errFatal = errors.New("raftstore: fatal apply error")

// applyBatch applies committed entries in order in one index transaction
// and one journal append. It returns one result per entry. A non-nil error
// means nothing of the batch was applied and the node must not go on.
func (f *fsm) applyBatch(entries []entry) ([]applyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	results := make([]applyResult, len(entries))
	if len(entries) == 0 {
		return results, nil
	}
	if err := f.js.err(); err != nil {
		return nil, err
	}
	tx := f.mu.idx.begin()
	defer func() { _ = tx.Rollback() }() // no-op after commit
	meta := tx.Bucket(bktMeta)
	applied := u64(meta.Get(keyApplied))
	journalPos := u64(meta.Get(keyJournal))
	var accepted []*journalpb.Event
	last := applied
	for i, e := range entries {
		if e.Index <= applied {
			continue // replay of an entry the index already holds
		}
		last = e.Index
		if e.Data == nil {
			continue
		}
		ev, err := decodeEntry(e.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: raft index %d: %v", errFatal, e.Index, err)
		}
		jidx := journalPos + uint64(len(accepted)) + 1
		tx.savepoint()
		ok, out, rerr := applyEvent(tx, e.Index, jidx, ev)
		if rerr != nil {
			if errors.Is(rerr, errFatal) {
				return nil, fmt.Errorf("raft index %d: %w", e.Index, rerr)
			}
			// A rejected event leaves no trace in the batch.
			if err := tx.rollbackToSavepoint(); err != nil {
				return nil, fmt.Errorf("%w: raft index %d: %w", errFatal, e.Index, err)
			}
			results[i] = applyResult{Err: rerr}
			continue
		}
		if ok {
			accepted = append(accepted, ev)
			results[i] = applyResult{JournalIndex: jidx, HLC: ev.GetHlc(), Outcome: out}
		}
	}
	if last == applied {
		return results, nil
	}
	if len(accepted) > 0 {
		if err := f.appendJournalLocked(journalPos, accepted); err != nil {
			return nil, err
		}
		journalPos += uint64(len(accepted))
	}
	if err := meta.Put(keyApplied, putU64(last)); err != nil {
		return nil, fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := meta.Put(keyJournal, putU64(journalPos)); err != nil {
		return nil, fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := f.mu.idx.commit(tx); err != nil {
		return nil, err
	}
	f.setAppliedLocked(last)
	return results, nil
}

// appendJournalLocked writes evs, which get journal indexes pos+1...; events
// the journal already holds (written before a crash that lost the index
// commit) are not written again.
func (f *fsm) appendJournalLocked(pos uint64, evs []*journalpb.Event) error {
	have := f.mu.jr.LastIndex()
	switch {
	case have < pos:
		return fmt.Errorf("%w: journal ends at %d but the index says %d", errFatal, have, pos)
	case have >= pos+uint64(len(evs)):
		return nil
	}
	evs = evs[have-pos:]
	// Write, not Append: durability comes from the raft log, and the
	// journal is synced before the index reaches disk (journalSync).
	if _, err := f.mu.jr.Write(evs...); err != nil {
		if errors.Is(err, journal.ErrWritesLost) {
			return f.js.fail(err)
		}
		return fmt.Errorf("%w: journal write: %w", errIO, err)
	}
	return nil
}

func decodeEntry(data []byte) (*journalpb.Event, error) {
	if len(data) == 0 || data[0] != entryEvent {
		return nil, fmt.Errorf("unknown entry type")
	}
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(data[1:], ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// applyEvent projects one event. It reports whether the event was accepted
// (and goes to the journal); a rejection is a deterministic, non-fatal
// error returned to the proposer.
//
// REQUIRES: ev is owned by the caller; applyEvent may rewrite its HLC and
// origin sequence (deterministically) before it is journaled.
func applyEvent(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event) (bool, *nodepb.Outcome, error) {
	if _, known := journalpb.Kind_name[int32(ev.GetKind())]; !known {
		if ev.GetSkippable() {
			return false, nil, nil
		}
		// A kind from a newer version: skipping it could make this replica
		// diverge from those that apply it, so the node stops instead.
		return false, nil, fmt.Errorf("%w: unknown event kind %d", errFatal, ev.GetKind())
	}
	meta := tx.Bucket(bktMeta)
	// Origin sequence: events first accepted here get the next number;
	// shipped events at or below the high-water mark are duplicates.
	seqKey := []byte("seq/" + ev.GetOriginSite())
	seq := u64(meta.Get(seqKey))
	if ev.GetOriginSeq() == 0 {
		ev.OriginSeq = seq + 1
	} else if ev.GetOriginSeq() <= seq {
		return false, nil, nil
	}
	// HLC: strictly increasing in log order.
	last := decodeHLC(meta.Get(keyHLC))
	if !hlcAfter(ev.GetHlc(), last) {
		ev.Hlc = &journalpb.Timestamp{WallNanos: last.GetWallNanos(), Logical: last.GetLogical() + 1}
	}
	if err := validateEvent(ev); err != nil {
		return false, nil, err
	}
	ok, out, err := project(tx, raftIndex, journalIndex, ev)
	if err != nil || !ok {
		return ok, nil, err
	}
	if err := meta.Put(seqKey, putU64(ev.GetOriginSeq())); err != nil {
		return false, nil, fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := meta.Put(keyHLC, encodeHLC(ev.GetHlc())); err != nil {
		return false, nil, fmt.Errorf("%w: %v", errFatal, err)
	}
	return true, out, nil
}

func project(tx *kvTx, raftIndex, journalIndex uint64, ev *journalpb.Event) (bool, *nodepb.Outcome, error) {
	var out *nodepb.Outcome
	var err error
	switch ev.GetKind() {
	case journalpb.Kind_OBJECT_PUT:
		out, err = applyObjectPut(tx, raftIndex, journalIndex, ev)
	case journalpb.Kind_OBJECT_DELETE:
		out, err = applyObjectDelete(tx, raftIndex, journalIndex, ev)
	case journalpb.Kind_OBJECT_UPDATE:
		out, err = applyObjectUpdate(tx, ev)
	case journalpb.Kind_MULTIPART_CREATE:
		out, err = applyMultipartCreate(tx, ev)
	case journalpb.Kind_MULTIPART_PART:
		out, err = applyMultipartPart(tx, ev)
	case journalpb.Kind_MULTIPART_COMPLETE:
		out, err = applyMultipartComplete(tx, raftIndex, journalIndex, ev)
	case journalpb.Kind_MULTIPART_ABORT:
		out, err = applyMultipartAbort(tx, ev)
	default:
		ok, err := projectOther(tx, ev)
		return ok, nil, err
	}
	return err == nil, out, err
}

func projectOther(tx *kvTx, ev *journalpb.Event) (bool, error) {
	switch ev.GetKind() {
	case journalpb.Kind_BUCKET_CREATE:
		return applyBucketCreate(tx, ev)
	case journalpb.Kind_BUCKET_DELETE:
		return applyBucketDelete(tx, ev)
	case journalpb.Kind_BUCKET_CONFIG:
		return applyBucketConfig(tx, ev)
	case journalpb.Kind_NODE_REGISTER:
		return applyNodeRegister(tx, ev)
	case journalpb.Kind_POOL_CREATE:
		return applyPoolCreate(tx, ev)
	case journalpb.Kind_USER_PUT, journalpb.Kind_USER_DELETE, journalpb.Kind_KEY_PUT, journalpb.Kind_KEY_DELETE:
		return applyIdentity(tx, ev)
	}
	if ev.GetSkippable() {
		return false, nil
	}
	// A kind this binary does not know (or does not yet project) must not be
	// silently dropped: the node stops rather than diverge.
	return false, fmt.Errorf("%w: event kind %v cannot be applied by this version", errFatal, ev.GetKind())
}

func applyBucketCreate(tx *kvTx, ev *journalpb.Event) (bool, error) {
	name := ev.GetBucketCreate().GetBucket()
	if err := validBucketName(name); err != nil {
		return false, err
	}
	b := tx.Bucket(bktBuckets)
	if b.Get([]byte(name)) != nil {
		return false, fmt.Errorf("%w: %s", ErrBucketExists, name)
	}
	return true, putEvent(b, []byte(name), ev)
}

func applyBucketDelete(tx *kvTx, ev *journalpb.Event) (bool, error) {
	name := ev.GetBucketDelete().GetBucket()
	b := tx.Bucket(bktBuckets)
	if b.Get([]byte(name)) == nil {
		return false, fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	prefix := objectKey(name, "")
	c := tx.Bucket(bktObjects).Cursor()
	k, _ := c.Seek(prefix)
	empty := k == nil || !bytes.HasPrefix(k, prefix)
	c.Close()
	if !empty {
		return false, fmt.Errorf("%w: %s", ErrBucketNotEmpty, name)
	}
	// Uploads in progress are aborted with the bucket. (Noncurrent
	// versions exist only beside a current one, so none are left.)
	if err := abortUploads(tx, name); err != nil {
		return false, err
	}
	if err := tx.Bucket(bktConfig).DeletePrefix(prefix); err != nil {
		return false, fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := b.Delete([]byte(name)); err != nil {
		return false, fmt.Errorf("%w: %v", errFatal, err)
	}
	return true, nil
}

func applyBucketConfig(tx *kvTx, ev *journalpb.Event) (bool, error) {
	c := ev.GetBucketConfig()
	if tx.Bucket(bktBuckets).Get([]byte(c.GetBucket())) == nil {
		return false, fmt.Errorf("%w: %s", ErrNoSuchBucket, c.GetBucket())
	}
	if err := validateBucketConfig(tx, c); err != nil {
		return false, err
	}
	key := objectKey(c.GetBucket(), c.GetName())
	if c.GetDocument() == nil {
		return true, tx.Bucket(bktConfig).Delete(key)
	}
	return true, tx.Bucket(bktConfig).Put(key, c.GetDocument())
}

func checkPrecondition(cur *objectRecord, p *journalpb.Precondition, what string) error {
	if p == nil {
		return nil
	}
	if p.GetIfNoneMatchAny() && cur != nil {
		return fmt.Errorf("%w: %s exists", ErrPrecondition, what)
	}
	if m := p.GetIfMatchMd5(); m != nil {
		if cur == nil {
			return fmt.Errorf("%w: %s does not exist", ErrPrecondition, what)
		}
		if !bytes.Equal(cur.put().GetMd5(), m) {
			return fmt.Errorf("%w: %s has another ETag", ErrPrecondition, what)
		}
	}
	return nil
}

func bumpObjects(tx *kvTx, delta int64) error {
	meta := tx.Bucket(bktMeta)
	n := int64(u64(meta.Get(keyObjects))) + delta
	if err := meta.Put(keyObjects, putU64(uint64(n))); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

// stripeManifest returns m with st as its only stripe: every other field
// (pool, profile, locations, id scheme, and any added later) is m's, so
// the record a shard's scrub reads describes it exactly as the object's
// manifest does. It shares m's values; marshal it, do not keep it.
func stripeManifest(m *journalpb.Manifest, st *journalpb.Stripe) *journalpb.Manifest {
	out := &journalpb.Manifest{}
	dst := out.ProtoReflect()
	stripes := dst.Descriptor().Fields().ByName("stripes")
	m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd != stripes {
			dst.Set(fd, v)
		}
		return true
	})
	out.Stripes = []*journalpb.Stripe{st}
	return out
}

// addShardRefs adds delta to the reference count of every shard of m at
// its location; a shard whose count drops to zero leaves the index and
// becomes garbage for the collector.
func addShardRefs(tx *kvTx, m *journalpb.Manifest, delta int) error {
	if m == nil {
		return nil
	}
	b := tx.Bucket(bktShards)
	locs := m.GetLocations()
	for si, st := range m.GetStripes() {
		if len(st.GetShardIds()) != len(locs) {
			return fmt.Errorf("%w: stripe %d has %d shards for %d locations", ErrInvalidArgument, si, len(st.GetShardIds()), len(locs))
		}
		var one []byte
		for i, id := range st.GetShardIds() {
			key := shardKey(locs[i].GetNode(), locs[i].GetDisk(), id)
			v := b.Get(key)
			n := int64(0)
			if len(v) >= 4 {
				n = int64(binary.BigEndian.Uint32(v))
			}
			n += int64(delta)
			if n <= 0 {
				if err := b.Delete(key); err != nil {
					return fmt.Errorf("%w: %v", errFatal, err)
				}
				continue
			}
			if one == nil {
				var err error
				one, err = proto.Marshal(stripeManifest(m, st))
				if err != nil {
					return fmt.Errorf("%w: %v", errFatal, err)
				}
			}
			val := make([]byte, 4, 4+len(one))
			binary.BigEndian.PutUint32(val, uint32(n))
			if err := b.Put(key, append(val, one...)); err != nil {
				return fmt.Errorf("%w: %v", errFatal, err)
			}
		}
	}
	return nil
}

func applyNodeRegister(tx *kvTx, ev *journalpb.Event) (bool, error) {
	n := ev.GetNodeRegister()
	if n.GetNode() == "" {
		return false, fmt.Errorf("%w: node register without a node id", ErrInvalidArgument)
	}
	return true, putEvent(tx.Bucket(bktNodes), []byte(n.GetNode()), n)
}

func applyPoolCreate(tx *kvTx, ev *journalpb.Event) (bool, error) {
	p := ev.GetPoolCreate()
	if p.GetPool() == "" || p.GetDataShards() == 0 {
		return false, fmt.Errorf("%w: pool needs a name and data shards", ErrInvalidArgument)
	}
	if n := len(p.GetIdKey()); n != 0 && n != ecstore.IDKeySize {
		return false, fmt.Errorf("%w: pool %s: shard id key of %d bytes", ErrInvalidArgument, p.GetPool(), n)
	}
	b := tx.Bucket(bktPools)
	if b.Get([]byte(p.GetPool())) != nil {
		return false, fmt.Errorf("%w: pool %s exists", ErrInvalidArgument, p.GetPool())
	}
	if err := putEvent(b, []byte(p.GetPool()), p); err != nil {
		return false, err
	}
	if err := tx.Bucket(bktMeta).Put(keyActivePool, []byte(p.GetPool())); err != nil {
		return false, fmt.Errorf("%w: %v", errFatal, err)
	}
	return true, nil
}

// applyIdentity projects the user and access key events (identity.go has
// the rules and the index layout). validateEvent has checked their shape.
func applyIdentity(tx *kvTx, ev *journalpb.Event) (bool, error) {
	var err error
	switch ev.GetBody().(type) {
	case *journalpb.Event_UserPut:
		err = applyUserPut(tx, ev)
	case *journalpb.Event_UserDelete:
		err = applyUserDelete(tx, ev)
	case *journalpb.Event_KeyPut:
		err = applyKeyPut(tx, ev)
	case *journalpb.Event_KeyDelete:
		err = applyKeyDelete(tx, ev)
	default:
		return false, fmt.Errorf("%w: %v event without its body", ErrInvalidArgument, ev.GetKind())
	}
	return err == nil, err
}

func putEvent(b *kvBucket, key []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := b.Put(key, v); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

func encodeHLC(t *journalpb.Timestamp) []byte {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.GetWallNanos()))
	binary.BigEndian.PutUint32(b[8:], t.GetLogical())
	return b[:]
}

func decodeHLC(b []byte) *journalpb.Timestamp {
	if len(b) < 12 {
		return &journalpb.Timestamp{}
	}
	return &journalpb.Timestamp{WallNanos: int64(binary.BigEndian.Uint64(b)), Logical: binary.BigEndian.Uint32(b[8:])}
}

func hlcAfter(a, b *journalpb.Timestamp) bool {
	if a.GetWallNanos() != b.GetWallNanos() {
		return a.GetWallNanos() > b.GetWallNanos()
	}
	return a.GetLogical() > b.GetLogical()
}

// restore replaces the state with a snapshot image. The journal is kept
// when it already reaches the snapshot's journal position (it is a prefix
// of the same committed history, so replay after the snapshot recognises
// what it holds); otherwise it restarts after that position and readers of
// earlier entries get journal.ErrCompacted.
func (f *fsm) restore(r io.Reader) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	idx, err := replaceIndex(f.mu.idx, r)
	if idx != nil {
		f.mu.idx = idx
	}
	if err != nil {
		return err
	}
	m, err := idx.meta()
	if err != nil {
		return err
	}
	if f.mu.jr.LastIndex() < m.Journal {
		if err := f.mu.jr.Reset(m.Journal + 1); err != nil {
			return fmt.Errorf("raftstore: restore: reset journal: %w", err)
		}
	}
	if err := f.pinLocked(); err != nil {
		return err
	}
	f.mu.applied = m.Applied
	close(f.mu.appliedCh)
	f.mu.appliedCh = make(chan struct{})
	return nil
}

// applyStatus holds the error that keeps applying stalled, if any.
type applyStatus struct {
	mu struct {
		sync.Mutex
		err error
	}
}

func (s *applyStatus) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.err = err
}

func (s *applyStatus) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.err
}

// stateHash returns the applied index and the SHA-256 of the snapshot
// image at that index.
func (f *fsm) stateHash() (uint64, [32]byte, error) {
	tx, jr, release, err := f.snapshotView()
	if err != nil {
		return 0, [32]byte{}, err
	}
	defer release()
	h := sha256.New()
	if err := writeSnapshot(tx, jr, h); err != nil {
		return 0, [32]byte{}, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	applied := u64(tx.Bucket(bktMeta).Get(keyApplied))
	return applied, sum, tx.err
}

// snapshotView returns a read transaction over the index and the journal
// holding the payloads the index has not moved yet (payloads.go), whose
// segments stay until release: a cursor registered before the transaction
// pins every segment a mark in it can name.
func (f *fsm) snapshotView() (*kvTx, *journal.Journal, func(), error) {
	f.mu.Lock()
	jr, idx := f.mu.jr, f.mu.idx
	f.mu.Unlock()
	var pin *journal.Cursor
	for attempt := 0; ; attempt++ {
		c, err := jr.Subscribe(jr.FirstIndex())
		if errors.Is(err, journal.ErrCompacted) && attempt < 10 {
			continue // retention moved the first index meanwhile
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("raftstore: pin the journal for a snapshot: %w", err)
		}
		pin = c
		break
	}
	tx, err := idx.snapshotTx()
	if err != nil {
		pin.Close()
		return nil, nil, nil, err
	}
	return tx, jr, func() { _ = tx.Rollback(); pin.Close() }, nil
}
