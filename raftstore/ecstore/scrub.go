package ecstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// StripeRef fully describes one stripe: what the metadata index stores for
// each shard location, and all Scrub needs to rebuild a shard.
type StripeRef struct {
	Pool       string
	K, M       int
	StripeSize int
	// DataLen is the payload bytes of the stripe (1 .. StripeSize).
	DataLen int
	// IDs[i] is the id of shard i, stored at Locations[i]; both have K+M
	// entries. Locations may be shared between the refs of one manifest:
	// do not modify it.
	IDs       []ShardID
	Locations []Location
	// Scheme computes the ids (from the manifest's id key).
	Scheme IDScheme
	// ParityDerived: the parity shards' ids derive from the data shards'
	// (Manifest.parity_ids_derived, IDScheme.DeriveParityIDs).
	ParityDerived bool
	// CellSize is Manifest.cell_size: how the payload is dealt to the data
	// shards (Layout).
	CellSize int
}

// Layout returns where the stripe's payload lies in its data shards.
func (r StripeRef) Layout() Layout { return Layout{K: r.K, DataLen: r.DataLen, Cell: r.CellSize} }

// ShardScheme returns the scheme shard i's id is checked under: Scheme,
// or its Derived form for a parity shard with a derived id.
func (r StripeRef) ShardScheme(i int) IDScheme {
	if r.ParityDerived && i >= r.K {
		return r.Scheme.Derived()
	}
	return r.Scheme
}

// StripeRefs checks m and returns one StripeRef per stripe. A nil or
// malformed manifest gives ErrInvalid.
func StripeRefs(m *journalpb.Manifest) ([]StripeRef, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil manifest", ErrInvalid)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: manifest of pool %q: "+format, append([]any{ErrInvalid, m.GetPool()}, args...)...)
	}
	p := Profile{K: int(m.GetDataShards()), M: int(m.GetParityShards())}
	if m.GetDataShards() > MaxShards || m.GetParityShards() > MaxShards || p.Validate() != nil {
		return nil, bad("profile %d+%d", m.GetDataShards(), m.GetParityShards())
	}
	stripeSize := int(m.GetStripeSize())
	if stripeSize < 1 || stripeSize > MaxStripeSize {
		return nil, bad("stripe size %d", m.GetStripeSize())
	}
	if m.GetCellSize() > MaxStripeSize {
		return nil, bad("cell size %d", m.GetCellSize())
	}
	if len(m.GetLocations()) != p.N() {
		return nil, bad("%d locations for %d shards", len(m.GetLocations()), p.N())
	}
	locs := make([]Location, p.N())
	for i, l := range m.GetLocations() {
		if l.GetNode() == "" || l.GetDisk() == "" {
			return nil, bad("location %d is empty", i)
		}
		locs[i] = Location{Node: l.GetNode(), Disk: l.GetDisk()}
	}
	scheme, err := NewIDScheme(m.GetIdKey())
	if err != nil {
		return nil, bad("%v", err)
	}
	derived := m.GetParityIdsDerived()
	if derived && !scheme.DerivesParity() {
		return nil, bad("derived parity ids without an id key")
	}
	refs := make([]StripeRef, 0, len(m.GetStripes()))
	for si, st := range m.GetStripes() {
		if st.GetDataLen() < 1 || int64(st.GetDataLen()) > int64(stripeSize) {
			return nil, bad("stripe %d holds %d bytes (stripe size %d)", si, st.GetDataLen(), stripeSize)
		}
		if len(st.GetShardIds()) != p.N() {
			return nil, bad("stripe %d has %d shard ids, want %d", si, len(st.GetShardIds()), p.N())
		}
		ids := make([]ShardID, p.N())
		for i, b := range st.GetShardIds() {
			id, err := ShardIDFromBytes(b)
			if err != nil {
				return nil, bad("stripe %d shard %d: %v", si, i, err)
			}
			ids[i] = id
		}
		if derived {
			for j, id := range scheme.DeriveParityIDs(p.M, ids[:p.K]) {
				if ids[p.K+j] != id {
					return nil, bad("stripe %d parity shard %d: id is not the one its data ids derive", si, j)
				}
			}
		}
		refs = append(refs, StripeRef{
			Pool: m.GetPool(), K: p.K, M: p.M, StripeSize: stripeSize, DataLen: int(st.GetDataLen()),
			IDs: ids, Locations: locs, Scheme: scheme, ParityDerived: derived, CellSize: int(m.GetCellSize()),
		})
	}
	return refs, nil
}

// validate checks a ref that did not come from StripeRefs.
func (r StripeRef) validate() error {
	p := Profile{K: r.K, M: r.M}
	switch {
	case p.Validate() != nil, len(r.IDs) != p.N(), len(r.Locations) != p.N(),
		r.DataLen < 1, r.DataLen > MaxStripeSize, r.ParityDerived && !r.Scheme.DerivesParity(),
		r.CellSize < 0, r.CellSize > MaxStripeSize:
		return fmt.Errorf("%w: stripe ref %d+%d with %d ids, %d locations, %d bytes",
			ErrInvalid, r.K, r.M, len(r.IDs), len(r.Locations), r.DataLen)
	}
	return nil
}

// RefSource is the metadata index as Scrub sees it.
type RefSource interface {
	// ShardsOn calls fn for every shard the index expects on node/disk,
	// with the stripe it belongs to, until fn returns an error, which
	// ShardsOn returns. fn reads the local shard and, when it is bad,
	// rebuilds it from other nodes, so it can take a while: a source backed
	// by a database should not hold a transaction that blocks writers.
	ShardsOn(node, disk string, fn func(id ShardID, ref StripeRef) error) error
}

// ScrubOptions tunes Scrub.
type ScrubOptions struct {
	// Deep also checks each shard's content against its id, not only its
	// CRC-32C: a content id by hashing the bytes, a derived parity id by
	// re-encoding the parity from the stripe's data shards (read from
	// their nodes). Default: false.
	Deep bool
}

// ScrubReport counts what a Scrub found and did.
type ScrubReport struct {
	// Checked counts the shards the index expects on this node's disks.
	Checked int
	// Corrupt counts expected shards that failed a check or could not be
	// read; Missing those that were absent.
	Corrupt, Missing int
	// Repaired counts corrupt or missing shards rebuilt and rewritten;
	// Unrepairable those that could not be (too few shards elsewhere, the
	// disk failing writes, or an inconsistent index entry).
	Repaired, Unrepairable int
	// DiskErrors holds, per disk skipped, why it could not be scrubbed.
	DiskErrors map[string]error
}

// Scrub verifies every shard the index (refs) expects on this node's disks
// and rebuilds each one that is missing or corrupt from k other shards of
// its stripe, rewriting it in place. A wiped or replaced disk (an empty
// directory) is rebuilt by the same pass. Problems with single shards are
// counted in the report and logged; Scrub returns an error only when ctx
// ends or refs fails.
func (s *Store) Scrub(ctx context.Context, refs RefSource, opts ScrubOptions) (ScrubReport, error) {
	rep := ScrubReport{DiskErrors: map[string]error{}}
	if s.cfg.Local == nil {
		return rep, nil
	}
	local := s.cfg.Local
	for _, disk := range local.IDs() {
		if err := local.checkDir(disk); err != nil {
			rep.DiskErrors[disk] = err
			s.log.Warn("ecstore: scrub skips disk", "disk", disk, "err", err)
			continue
		}
		here := Location{Node: s.cfg.Node, Disk: disk}
		err := refs.ShardsOn(s.cfg.Node, disk, func(id ShardID, ref StripeRef) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rep.Checked++
			err := s.checkShard(ctx, ref, here, id, opts.Deep)
			if err == nil {
				return nil
			}
			if errors.Is(err, ErrNotFound) {
				rep.Missing++
			} else {
				rep.Corrupt++
			}
			if rerr := s.repair(ctx, ref, here, id); rerr != nil {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				rep.Unrepairable++
				s.log.Warn("ecstore: shard unrepairable", "shard", id.String(), "loc", here.String(), "found", err, "err", rerr)
				return nil
			}
			rep.Repaired++
			s.log.Info("ecstore: shard repaired", "shard", id.String(), "loc", here.String(), "found", err)
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("ecstore: scrub %s: %w", here, err)
		}
	}
	return rep, nil
}

// checkShard verifies the local copy of shard id of ref at here. A deep
// check hashes a content id's bytes; a derived parity id's bytes are
// compared with the parity re-encoded from the stripe's verified data.
func (s *Store) checkShard(ctx context.Context, ref StripeRef, here Location, id ShardID, deep bool) error {
	if err := ref.validate(); err != nil {
		return err
	}
	data, err := s.cfg.Local.Get(here.Disk, id)
	if err != nil {
		return err
	}
	if want := (ref.DataLen + ref.K - 1) / ref.K; len(data) != want {
		return fmt.Errorf("%w: shard %s on %s has %d bytes, want %d", ErrCorrupt, id.short(), here, len(data), want)
	}
	if !deep {
		return nil
	}
	idx := ref.index(here, id)
	if idx < 0 {
		return fmt.Errorf("%w: index puts shard %s on %s but its stripe does not", ErrInvalid, id.short(), here)
	}
	if !ref.ShardScheme(idx).IsDerived() {
		if ref.Scheme.Of(data) != id {
			return fmt.Errorf("%w: shard %s on %s: content does not match its id", ErrCorrupt, id.short(), here)
		}
		return nil
	}
	want, err := s.rebuildShard(ctx, ref, idx)
	if err != nil {
		// Not this shard's fault: count it as checked by its CRC.
		s.log.Warn("ecstore: deep scrub cannot re-encode parity to compare", "shard", id.String(), "loc", here.String(), "err", err)
		return nil
	}
	if !bytes.Equal(data, want) {
		return fmt.Errorf("%w: parity shard %s on %s differs from the parity of its stripe's data", ErrCorrupt, id.short(), here)
	}
	return nil
}

// index returns the position of shard id at loc in the stripe, or -1.
func (r StripeRef) index(loc Location, id ShardID) int {
	for i := range r.IDs {
		if r.IDs[i] == id && r.Locations[i] == loc {
			return i
		}
	}
	return -1
}

// repair rebuilds shard id of ref, stored at here, from other shards.
func (s *Store) repair(ctx context.Context, ref StripeRef, here Location, id ShardID) error {
	if err := ref.validate(); err != nil {
		return err
	}
	idx := ref.index(here, id)
	if idx < 0 {
		return fmt.Errorf("%w: index puts shard %s on %s but its stripe does not", ErrInvalid, id.short(), here)
	}
	sh, err := s.rebuildShard(ctx, ref, idx)
	if err != nil {
		return err
	}
	return s.cfg.Local.Put(here.Disk, ref.ShardScheme(idx), id, sh)
}

// rebuildShard computes shard idx of ref from the stripe's other shards,
// never reading shard idx itself. A data shard is rebuilt and checked
// against its id; a parity shard is encoded from the k data shards, each
// checked against its id (rebuilt from other parity if need be), and, for
// a content id, checked against it too.
func (s *Store) rebuildShard(ctx context.Context, ref StripeRef, idx int) ([]byte, error) {
	codec, err := s.codec(Profile{K: ref.K, M: ref.M})
	if err != nil {
		return nil, err
	}
	n := len(ref.IDs)
	need := make([]bool, n)
	if idx < ref.K {
		need[idx] = true
	} else {
		for i := range ref.K {
			need[i] = true
		}
	}
	want := make([]bool, n)
	copy(want, need)
	want[idx] = false
	shards, err := s.gather(ctx, codec, ref, want, idx)
	if err != nil {
		return nil, err
	}
	if err := s.rebuildData(ctx, codec, ref, shards, need, idx); err != nil {
		return nil, err
	}
	sh := shards[idx]
	if idx >= ref.K {
		work := make([][]byte, n)
		copy(work, shards[:ref.K])
		required := make([]bool, n)
		required[idx] = true
		if err := codec.reconstruct(work, required); err != nil {
			return nil, err
		}
		sh = work[idx]
	}
	if !ref.ShardScheme(idx).Verify(ref.IDs[idx], sh) {
		return nil, fmt.Errorf("%w: rebuilt shard %d does not match its id %s", ErrTooFewShards, idx, ref.IDs[idx].short())
	}
	return sh, nil
}

// CollectGarbage removes this node's shard files that referenced says no
// committed event needs and whose modification time is at least grace
// before now, plus temporary files as old (left by a crash). A shard
// refreshed by a deduplicating Put after the walk saw it is kept: the age
// is checked again under the shard's lock. grace must exceed the time
// between a Write and the commit of the event that references it. It
// returns the number of files removed; disks that fail are skipped and
// their errors joined.
func (s *Store) CollectGarbage(ctx context.Context, referenced func(disk string, id ShardID) bool, grace time.Duration, now time.Time) (int, error) {
	if s.cfg.Local == nil {
		return 0, nil
	}
	d := s.cfg.Local
	removed := 0
	var errs []error
	for _, disk := range d.IDs() {
		if err := d.checkDir(disk); err != nil {
			errs = append(errs, err)
			continue
		}
		err := d.walk(disk, func(name string, id ShardID, tmp bool, mod time.Time) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if now.Sub(mod) < grace || (!tmp && referenced(disk, id)) {
				return nil
			}
			mu := d.lock(id)
			mu.Lock()
			defer mu.Unlock()
			st, err := d.fs.Stat(name)
			if err != nil || now.Sub(st.ModTime()) < grace {
				return nil
			}
			if err := d.removeLocked(name); err != nil {
				errs = append(errs, fmt.Errorf("ecstore: collect %s: %w", name, err))
				return nil
			}
			removed++
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return removed, errors.Join(append(errs, err)...)
			}
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
