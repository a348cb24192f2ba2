package ecstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// Stripe sizes.
const (
	// DefaultStripeSize is the payload per stripe when none is configured.
	DefaultStripeSize = 4 << 20
	// MaxStripeSize bounds the payload per stripe.
	MaxStripeSize = 64 << 20
)

// Transport reaches the disks of the site's other nodes. raftstore
// implements it over gRPC; the Store uses it for every location whose node
// is not Config.Node.
type Transport interface {
	// PutShard stores data as shard id at loc durably, as Disks.Put does;
	// scheme computed id (the far side checks it). data is only valid
	// during the call.
	PutShard(ctx context.Context, loc Location, scheme IDScheme, id ShardID, data []byte) error
	// GetShard returns shard id from loc. Errors must keep the classes
	// ErrNotFound and ErrCorrupt (errors.Is) across the wire.
	GetShard(ctx context.Context, loc Location, id ShardID) ([]byte, error)
}

// Config configures a Store.
type Config struct {
	// Node is this node's id: locations on it go to Local. Required when
	// Local is set, and must equal Local.Node().
	Node string
	// Local holds this node's disks. Default: nil, every location goes
	// through Transport (Scrub and CollectGarbage then have nothing to do).
	Local *Disks
	// Transport reaches other nodes' disks. Default: nil, every location
	// must be on Node.
	Transport Transport
	// Logger receives warnings about shards read around or repaired.
	// Default: nil, silent.
	Logger *slog.Logger
	// StripeSize is the payload bytes per stripe for pools that do not set
	// their own. Default: DefaultStripeSize (4 MiB); at most MaxStripeSize.
	StripeSize int
	// CellSize is the bytes per data shard in each row of the stripes
	// Write lays out (Layout). Default: DefaultCellSize (64 KiB); at most
	// MaxStripeSize.
	CellSize int
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config { return Config{StripeSize: DefaultStripeSize, CellSize: DefaultCellSize} }

// Validate returns every problem of c, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: config: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if c.Local == nil && c.Transport == nil {
		bad("neither local disks nor a transport")
	}
	if c.Local != nil && c.Node != c.Local.Node() {
		bad("node %q does not own the local disks of node %q", c.Node, c.Local.Node())
	}
	if c.StripeSize < 1 || c.StripeSize > MaxStripeSize {
		bad("stripe size %d out of range (1 .. %d)", c.StripeSize, MaxStripeSize)
	}
	if c.CellSize < 1 || c.CellSize > MaxStripeSize {
		bad("cell size %d out of range (1 .. %d)", c.CellSize, MaxStripeSize)
	}
	return errors.Join(errs...)
}

// Store is a site's erasure-coded shard store as seen from one node. It
// runs no background goroutines: Write, Read, Scrub and CollectGarbage start
// goroutines for parallel shard I/O and join them all before returning.
// It is safe for concurrent use.
type Store struct {
	cfg Config
	log *slog.Logger
	mu  struct {
		sync.Mutex
		codecs map[Profile]*Codec
		bufs   map[int]*sync.Pool
	}
}

// New returns a store. Zero fields of cfg take their defaults.
func New(cfg Config) (*Store, error) {
	if cfg.StripeSize == 0 {
		cfg.StripeSize = DefaultStripeSize
	}
	if cfg.CellSize == 0 {
		cfg.CellSize = DefaultCellSize
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mu.codecs = map[Profile]*Codec{}
	s.mu.bufs = map[int]*sync.Pool{}
	return s, nil
}

// PoolSpec describes the pool a Write goes to.
type PoolSpec struct {
	// Name is recorded in the manifest. Required.
	Name string
	// Profile is the pool's EC profile.
	Profile Profile
	// Disks are the pool's disks; Place chooses k+m of them per object.
	Disks []Location
	// StripeSize is the payload per stripe. Default: 0, Config.StripeSize.
	StripeSize int
	// IDKey is the pool's shard id key (see IDScheme): empty for SHA-256
	// ids, else IDKeySize bytes.
	IDKey []byte
}

func (s *Store) codec(p Profile) (*Codec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.mu.codecs[p]; c != nil {
		return c, nil
	}
	c, err := NewCodec(p)
	if err != nil {
		return nil, err
	}
	s.mu.codecs[p] = c
	return c, nil
}

func (s *Store) bufPool(size int) *sync.Pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mu.bufs[size]
	if p == nil {
		p = &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
		s.mu.bufs[size] = p
	}
	return p
}

func (s *Store) isLocal(loc Location) bool { return s.cfg.Local != nil && loc.Node == s.cfg.Node }

func (s *Store) reachable(loc Location) error {
	if s.isLocal(loc) || s.cfg.Transport != nil {
		return nil
	}
	return fmt.Errorf("%w: %s is on another node and the store has no transport", ErrDiskUnavailable, loc)
}

func (s *Store) put(ctx context.Context, loc Location, scheme IDScheme, id ShardID, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.reachable(loc); err != nil {
		return err
	}
	if s.isLocal(loc) {
		return s.cfg.Local.Put(loc.Disk, scheme, id, data)
	}
	return s.cfg.Transport.PutShard(ctx, loc, scheme, id, data)
}

func (s *Store) get(ctx context.Context, loc Location, id ShardID) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.reachable(loc); err != nil {
		return nil, err
	}
	if s.isLocal(loc) {
		return s.cfg.Local.Get(loc.Disk, id)
	}
	return s.cfg.Transport.GetShard(ctx, loc, id)
}

// Write erasure-codes the payload read from r into the pool and returns its
// manifest and size. It streams: at most two stripe buffers are in use, one
// being filled from r on the caller's goroutine while the other is
// written (so a reader that also hashes, such as an S3 gateway computing an
// MD5, overlaps with the writing). A stripe is dealt to its data shards in
// rows of cells (Layout), and each row is encoded and hashed as soon as it
// is read, while it is still in the cache. All k+m shards of a stripe are
// written in parallel to the locations Place chose for placementKey, and
// Write succeeds only when every shard of every stripe is durable; on
// error the shards already written are garbage for CollectGarbage. An
// empty payload gives a manifest with no stripes.
func (s *Store) Write(ctx context.Context, pool PoolSpec, placementKey []byte, r io.Reader) (*journalpb.Manifest, int64, error) {
	m, size, err := s.write(ctx, pool, placementKey, r)
	if err != nil {
		return nil, 0, fmt.Errorf("ecstore: write to pool %q: %w", pool.Name, err)
	}
	return m, size, nil
}

// stripeJob is one stripe read into buf, on its way to the writer: its
// data shards, at stride in buf, are dealt and its parity encoded; the
// data shards' ids are being computed (shardHashing), and hashing is done
// once they are written, or abandoned, and nothing reads buf any more.
// Whoever holds the job waits on hashing before buf is reused.
type stripeJob struct {
	buf     *[]byte
	n       int
	stride  int
	ids     []ShardID
	hashing *sync.WaitGroup
}

// stripeReader fills stripe buffers from a payload: it deals each
// stripe's bytes to the data shards in rows of cells as it reads them, and
// encodes and hashes, or hands to a hashing worker, each row as soon as
// it is whole.
type stripeReader struct {
	r          io.Reader
	codec      *Codec
	scheme     IDScheme
	stripeSize int
	cell       int
	scratch    []byte // the bytes of a last row that must be dealt again
}

// read reads up to stripeSize bytes into buf, which holds k+m shards of
// ShardSize(stripeSize) bytes one after the other. It returns the job and
// io.ReadFull's error for the stripe as a whole: io.EOF when nothing was
// read, io.ErrUnexpectedEOF when less than stripeSize was. On any other
// error the job's hashing must still be waited for.
func (sr *stripeReader) read(buf []byte) (stripeJob, error) {
	k, n := sr.codec.p.K, sr.codec.p.N()
	full := Layout{K: k, DataLen: sr.stripeSize, Cell: sr.cell}
	stride := full.ShardSize()
	j := stripeJob{stride: stride, ids: make([]ShardID, n), hashing: new(sync.WaitGroup)}
	rowShards := make([][]byte, n)
	row := func(from, to int) [][]byte {
		for i := range rowShards {
			rowShards[i] = buf[i*stride+from : i*stride+to]
		}
		return rowShards
	}
	var h *shardHashing // from the first byte read
	defer func() {
		if h != nil {
			h.abort() // unless finished
		}
	}()

	// Read the stripe as if it were full, row after row. done is how far
	// every data shard holds whole rows, encoded and being hashed.
	rowEnd, fullRows := full.cell(), full.FullRows()
	done := 0
	var err error
	for j.n < sr.stripeSize && err == nil {
		i, off, run := full.Locate(j.n)
		run = min(run, sr.stripeSize-j.n)
		var got int
		got, err = io.ReadFull(sr.r, buf[i*stride+off:i*stride+off+run])
		j.n += got
		if h == nil && got > 0 {
			h = startHashing(sr.scheme, buf, k, n, stride, j.ids, j.hashing)
		}
		if got == run && i == k-1 && off+run == rowEnd && rowEnd <= fullRows {
			if e := sr.codec.encodeRows(row(done, rowEnd)); e != nil {
				return j, e
			}
			h.fill(rowEnd)
			done, rowEnd = rowEnd, rowEnd+full.cell()
		}
	}
	if err == io.EOF && j.n > 0 {
		err = io.ErrUnexpectedEOF // the end came after the first cell
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return j, err
	}
	if j.n == 0 {
		return j, err
	}
	// The rest, past the whole rows, is dealt again as the stripe's actual
	// layout has it (a short last row), then encoded and hashed.
	got := Layout{K: k, DataLen: j.n, Cell: sr.cell}
	ss := got.ShardSize()
	if rest := j.n - done*k; rest > 0 {
		sr.scratch = sr.scratch[:0]
		_ = full.walk(done*k, j.n, func(i, off, n int) error {
			sr.scratch = append(sr.scratch, buf[i*stride+off:i*stride+off+n]...)
			return nil
		})
		for i := range k {
			clear(buf[i*stride+done : (i+1)*stride])
		}
		at := 0
		_ = got.walk(done*k, j.n, func(i, off, n int) error {
			at += copy(buf[i*stride+off:i*stride+off+n], sr.scratch[at:])
			return nil
		})
		if e := sr.codec.encodeRows(row(done, ss)); e != nil {
			return j, e
		}
	}
	h.finish(ss)
	return j, err
}

func (s *Store) write(ctx context.Context, pool PoolSpec, key []byte, r io.Reader) (*journalpb.Manifest, int64, error) {
	stripeSize := pool.StripeSize
	if stripeSize == 0 {
		stripeSize = s.cfg.StripeSize
	}
	if pool.Name == "" {
		return nil, 0, fmt.Errorf("%w: pool without a name", ErrInvalid)
	}
	if stripeSize < pool.Profile.K || stripeSize > MaxStripeSize {
		return nil, 0, fmt.Errorf("%w: stripe size %d (need k .. %d)", ErrInvalid, stripeSize, MaxStripeSize)
	}
	codec, err := s.codec(pool.Profile)
	if err != nil {
		return nil, 0, err
	}
	scheme, err := NewIDScheme(pool.IDKey)
	if err != nil {
		return nil, 0, err
	}
	locs, err := Place(pool.Disks, pool.Profile.N(), key)
	if err != nil {
		return nil, 0, err
	}
	m := &journalpb.Manifest{
		Pool: pool.Name, DataShards: uint32(pool.Profile.K), ParityShards: uint32(pool.Profile.M),
		StripeSize: uint32(stripeSize), IdKey: scheme.Key(), ParityIdsDerived: scheme.DerivesParity(),
		CellSize: uint32(s.cfg.CellSize),
	}
	for _, l := range locs {
		if err := s.reachable(l); err != nil {
			return nil, 0, err
		}
		m.Locations = append(m.Locations, &journalpb.ShardLocation{Node: l.Node, Disk: l.Disk})
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	bufs := s.bufPool(pool.Profile.N() * codec.ShardSize(stripeSize))
	// free holds idle stripe buffers; at most two ever exist.
	free := make(chan *[]byte, 2)
	allocated := 0
	defer func() {
		for range allocated {
			bufs.Put(<-free) // every buffer is back once the writer is joined
		}
	}()
	jobs := make(chan stripeJob, 1)
	var (
		wg       sync.WaitGroup
		writeErr error // owned by the writer goroutine until wg.Wait
	)
	// The writer goroutine encodes and writes stripes in order. Write owns
	// it: it ends when jobs is closed, and Write waits for it below.
	wg.Go(func() {
		for j := range jobs {
			if writeErr == nil {
				st, err := s.writeStripe(ctx, codec, scheme, locs, (*j.buf)[:cap(*j.buf)], j, len(m.Stripes))
				if err != nil {
					writeErr = err
					cancel(err)
				} else {
					m.Stripes = append(m.Stripes, st)
				}
			}
			j.hashing.Wait()
			free <- j.buf
		}
	})

	var size int64
	sr := &stripeReader{r: r, codec: codec, scheme: scheme, stripeSize: stripeSize, cell: s.cfg.CellSize}
	readErr := func() error {
		for {
			var buf *[]byte
			select {
			case buf = <-free:
			default:
				if allocated < 2 {
					buf = bufs.Get().(*[]byte)
					allocated++
					break
				}
				select {
				case buf = <-free:
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			}
			j, err := sr.read((*buf)[:cap(*buf)])
			j.buf = buf
			size += int64(j.n)
			eof := err == io.EOF || err == io.ErrUnexpectedEOF
			if err != nil && !eof {
				j.hashing.Wait()
				free <- buf
				return fmt.Errorf("read payload at %d: %w", size, err)
			}
			if j.n == 0 {
				free <- buf
				return nil
			}
			select {
			case jobs <- j:
				// The writer is now runnable, queued for this processor.
				// Yield once: a hashing worker spinning on the other one
				// would not take it over, as an idle processor would.
				runtime.Gosched()
			case <-ctx.Done():
				j.hashing.Wait()
				free <- buf
				return context.Cause(ctx)
			}
			if eof {
				return nil
			}
		}
	}()
	close(jobs)
	wg.Wait()
	switch {
	case writeErr != nil:
		return nil, 0, writeErr
	case readErr != nil:
		return nil, 0, readErr
	}
	return m, size, nil
}

// writeStripe writes the k+m shards of the stripe j.buf holds, coded and
// at stride j.stride in buf, in parallel, once the shards' ids are
// computed. Parity ids are derived from the data ids when the scheme has
// a key, else they were hashed with them (shardHashing). All the
// goroutines are joined before it returns.
func (s *Store) writeStripe(ctx context.Context, codec *Codec, scheme IDScheme, locs []Location, buf []byte, j stripeJob, index int) (*journalpb.Stripe, error) {
	n, nShards := j.n, codec.p.N()
	k, ss := codec.p.K, codec.ShardSize(n)
	ids := j.ids
	j.hashing.Wait()
	if n <= 0 || len(buf) < (nShards-1)*j.stride+ss || len(ids) != nShards {
		return nil, fmt.Errorf("%w: stripe of %d bytes in a %d-byte buffer", ErrInvalid, n, len(buf))
	}
	shards := make([][]byte, nShards)
	for i := range shards {
		shards[i] = buf[i*j.stride : i*j.stride+ss : i*j.stride+ss]
	}
	if scheme.DerivesParity() {
		copy(ids[k:], scheme.DeriveParityIDs(codec.p.M, ids[:k]))
	} // else the parity shards were hashed with the data shards
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, nShards)
	var wg sync.WaitGroup
	for i, sh := range shards {
		wg.Go(func() {
			if err := s.put(ctx, locs[i], scheme.derivedFor(i, k), ids[i], sh); err != nil {
				errs[i] = fmt.Errorf("stripe %d shard %d (%s) on %s: %w", index, i, ids[i].short(), locs[i], err)
				cancel()
			}
		})
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	st := &journalpb.Stripe{DataLen: uint32(n), ShardIds: make([][]byte, nShards)}
	for i := range ids {
		st.ShardIds[i] = ids[i][:]
	}
	return st, nil
}

// firstError returns the first error that is not a cancellation caused by
// a sibling's failure, or else the first error.
func firstError(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// Read writes bytes [off, off+n) of the payload described by m to w. It
// reads only the data shards covering the range; a shard that is missing,
// unreachable, corrupt (checksum), of the wrong length or whose content
// does not hash to its id is replaced by reading further shards, parity
// included, and rebuilding. Read never writes bytes that did not verify;
// with fewer than k valid shards of a stripe it returns ErrTooFewShards,
// having written the stripes before it.
func (s *Store) Read(ctx context.Context, m *journalpb.Manifest, off, n int64, w io.Writer) error {
	refs, err := StripeRefs(m)
	if err != nil {
		return fmt.Errorf("ecstore: read: %w", err)
	}
	var size int64
	for _, r := range refs {
		size += int64(r.DataLen)
	}
	if off < 0 || n < 0 || off > size || n > size-off {
		return fmt.Errorf("%w: read [%d, %d+%d) of a %d-byte payload", ErrInvalid, off, off, n, size)
	}
	if n == 0 {
		return nil
	}
	codec, err := s.codec(Profile{K: int(m.GetDataShards()), M: int(m.GetParityShards())})
	if err != nil {
		return fmt.Errorf("ecstore: read: %w", err)
	}
	var start int64
	for si, ref := range refs {
		end := start + int64(ref.DataLen)
		if end > off && start < off+n {
			lo, hi := max(off, start)-start, min(off+n, end)-start
			if err := s.readStripe(ctx, codec, ref, int(lo), int(hi), w); err != nil {
				return fmt.Errorf("ecstore: read pool %q stripe %d: %w", ref.Pool, si, err)
			}
		}
		start = end
	}
	return nil
}

func (s *Store) readStripe(ctx context.Context, codec *Codec, ref StripeRef, lo, hi int, w io.Writer) error {
	l := ref.Layout()
	want := make([]bool, len(ref.IDs))
	_ = l.walk(lo, hi, func(i, _, _ int) error { want[i] = true; return nil })
	shards, err := s.gather(ctx, codec, ref, want, -1)
	if err != nil {
		return err
	}
	if err := s.rebuildData(ctx, codec, ref, shards, want, -1); err != nil {
		return err
	}
	return l.walk(lo, hi, func(i, off, n int) error {
		if _, err := w.Write(shards[i][off : off+n]); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	})
}

// gather fetches, in parallel, the wanted shards of a stripe and, if any of
// them is unusable, further shards (never exclude) until k are valid. Each
// shard is checked for length and content hash. The result has nil for
// shards not fetched or unusable; it holds every wanted shard (when some
// are wanted) or at least k valid ones.
func (s *Store) gather(ctx context.Context, codec *Codec, ref StripeRef, want []bool, exclude int) ([][]byte, error) {
	n, ss := len(ref.IDs), codec.ShardSize(ref.DataLen)
	shards := make([][]byte, n)
	tried := make([]bool, n)
	errs := make([]error, n)
	fetch := func(idx []int) {
		var wg sync.WaitGroup
		for _, i := range idx {
			tried[i] = true
			wg.Go(func() {
				data, err := s.get(ctx, ref.Locations[i], ref.IDs[i])
				switch {
				case err != nil:
				case len(data) != ss:
					err = fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(data), ss)
				case !ref.ShardScheme(i).Verify(ref.IDs[i], data):
					err = fmt.Errorf("%w: content does not match its id", ErrCorrupt)
				}
				if err != nil {
					errs[i] = fmt.Errorf("shard %d (%s) on %s: %w", i, ref.IDs[i].short(), ref.Locations[i], err)
					return
				}
				shards[i] = data
			})
		}
		wg.Wait()
	}
	var wave []int
	for i, w := range want {
		if w && i != exclude {
			wave = append(wave, i)
		}
	}
	fetch(wave)
	complete := len(wave) > 0 // with nothing wanted (a repair), fetch k
	for _, i := range wave {
		complete = complete && shards[i] != nil
	}
	for !complete {
		valid := 0
		for _, sh := range shards {
			if sh != nil {
				valid++
			}
		}
		need := codec.p.K - valid
		if need <= 0 {
			break
		}
		wave = wave[:0]
		for i := 0; i < n && len(wave) < need; i++ {
			if !tried[i] && i != exclude {
				wave = append(wave, i)
			}
		}
		if len(wave) < need {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %d of %d shards usable, need %d (first failure: %v)",
				ErrTooFewShards, valid, n, codec.p.K, firstError(errs))
		}
		fetch(wave)
	}
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("ecstore: shard unusable, read around it", "pool", ref.Pool, "err", err)
		}
	}
	return shards, nil
}

// maxParityChoices bounds the choices of parity shards rebuildData tries.
const maxParityChoices = 64

// rebuildData fills the nil data shards marked need from the other
// shards in shards (as gather returns them: nil for missing, never
// exclude). Under derived parity ids every data shard it rebuilds is
// checked against its id (every other shard gather returns has passed a
// content check, so what it rebuilds is right). A mismatch means a parity
// shard passed its CRC yet holds wrong bytes, so rebuildData then
// fetches all the stripe's shards and tries the other choices of parity
// shards. With none that rebuilds matching data it returns
// ErrTooFewShards. Shards not marked need are left as they are.
func (s *Store) rebuildData(ctx context.Context, codec *Codec, ref StripeRef, shards [][]byte, need []bool, exclude int) error {
	k, n := codec.p.K, len(shards)
	required := make([]bool, n) // only data shards are ever required
	// try rebuilds the required shards from the data shards present and
	// the parity shards in pick, and keeps them if they match their ids.
	try := func(pick []int) bool {
		work := make([][]byte, n)
		copy(work[:k], shards[:k])
		for _, i := range pick {
			work[i] = shards[i]
		}
		if err := codec.reconstruct(work, required); err != nil {
			return false
		}
		// Inputs that all passed a content check rebuild the right bytes;
		// a derived parity id vouches for nothing, so check the output.
		for i := range k {
			if ref.ParityDerived && required[i] && ref.Scheme.Of(work[i]) != ref.IDs[i] {
				return false
			}
		}
		for i := range k {
			if required[i] {
				shards[i] = work[i]
			}
		}
		return true
	}
	for fetchedAll := false; ; fetchedAll = true {
		missing, data := false, 0
		var parity []int
		for i, sh := range shards {
			switch {
			case i < k:
				required[i] = need[i] && sh == nil
				missing = missing || required[i]
				if sh != nil {
					data++
				}
			case sh != nil:
				parity = append(parity, i)
			}
		}
		if !missing {
			return nil
		}
		tried := 0
		if short := k - data; short <= len(parity) {
			for pick := range choices(parity, short) {
				if tried == maxParityChoices {
					break
				}
				tried++
				if try(pick) {
					if tried > 1 {
						s.log.Warn("ecstore: a parity shard holds wrong bytes; rebuilt around it", "pool", ref.Pool, "stripe", ref.IDs[0].short())
					}
					return nil
				}
			}
		}
		if fetchedAll {
			return fmt.Errorf("%w: %d choices of parity shards tried, none rebuilds data matching its ids", ErrTooFewShards, tried)
		}
		all := make([]bool, n)
		for i := range all {
			all[i] = true
		}
		more, err := s.gather(ctx, codec, ref, all, exclude)
		if err != nil {
			return err
		}
		for i, sh := range more {
			if shards[i] == nil {
				shards[i] = sh
			}
		}
	}
}

// choices yields every r-element subset of set, in lexicographic order of
// positions. The slice yielded is reused between iterations.
func choices(set []int, r int) func(yield func([]int) bool) {
	return func(yield func([]int) bool) {
		if r < 0 || r > len(set) {
			return
		}
		pos := make([]int, r)
		for i := range pos {
			pos[i] = i
		}
		pick := make([]int, r)
		for {
			for i, p := range pos {
				pick[i] = set[p]
			}
			if !yield(pick) {
				return
			}
			i := r - 1
			for i >= 0 && pos[i] == len(set)-r+i {
				i--
			}
			if i < 0 {
				return
			}
			pos[i]++
			for j := i + 1; j < r; j++ {
				pos[j] = pos[j-1] + 1
			}
		}
	}
}
