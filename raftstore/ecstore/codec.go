package ecstore

import (
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// Codec erasure-codes stripes for one profile. It is pure (no I/O) and safe
// for concurrent use.
type Codec struct {
	p   Profile
	enc reedsolomon.Encoder
	// rows encodes one row of cells at a time on the caller's goroutine:
	// a row is small, and a goroutine per piece would cost more than it
	// saves.
	rows reedsolomon.Encoder
}

// NewCodec returns a codec for p.
func NewCodec(p Profile) (*Codec, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	enc, err := reedsolomon.New(p.K, p.M)
	if err != nil {
		return nil, fmt.Errorf("%w: profile %s: %v", ErrInvalid, p, err)
	}
	rows, err := reedsolomon.New(p.K, p.M, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		return nil, fmt.Errorf("%w: profile %s: %v", ErrInvalid, p, err)
	}
	return &Codec{p: p, enc: enc, rows: rows}, nil
}

// Profile returns the codec's profile.
func (c *Codec) Profile() Profile { return c.p }

// ShardSize returns the size of each of the k+m shards of a stripe holding
// dataLen bytes: ceil(dataLen/k).
func (c *Codec) ShardSize(dataLen int) int { return (dataLen + c.p.K - 1) / c.p.K }

// encodeRows computes the parity of the rows shards hold: k data and m
// parity slices of one length, the same range of every shard. Reed-Solomon
// codes each byte column alone, so a stripe can be encoded in pieces.
func (c *Codec) encodeRows(shards [][]byte) error {
	if len(shards[0]) == 0 {
		return nil
	}
	if err := c.rows.Encode(shards); err != nil {
		return fmt.Errorf("ecstore: encode %s rows of %d bytes: %w", c.p, len(shards[0]), err)
	}
	return nil
}

// Encode deals data (one stripe, at least one byte) to k data shards in
// rows of cell bytes (Layout; 0 for one row), computes m parity shards and
// the SHA-256 ids (the zero IDScheme) of all k+m. The shards are freshly
// allocated and do not alias data.
func (c *Codec) Encode(data []byte, cell int) ([][]byte, []ShardID, error) {
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: empty stripe", ErrInvalid)
	}
	l := Layout{K: c.p.K, DataLen: len(data), Cell: cell}
	ss := l.ShardSize()
	shards := make([][]byte, c.p.N())
	for i := range shards {
		shards[i] = make([]byte, ss)
	}
	at := 0
	_ = l.walk(0, len(data), func(i, off, n int) error {
		at += copy(shards[i][off:off+n], data[at:])
		return nil
	})
	if err := c.encodeRows(shards); err != nil {
		return nil, nil, err
	}
	ids := make([]ShardID, len(shards))
	for i, s := range shards {
		ids[i] = ShardIDOf(s)
	}
	return shards, ids, nil
}

// Decode returns the dataLen bytes of a stripe dealt in rows of cell
// bytes from its shards, where shards[i] is nil for a missing shard and
// ids[i] is the id shard i must have. A present shard of the wrong length
// or whose content does not hash to its id is treated as missing. Decode
// returns ErrTooFewShards when fewer than k shards remain. It does not
// modify shards.
func (c *Codec) Decode(shards [][]byte, ids []ShardID, dataLen, cell int) ([]byte, error) {
	n := c.p.N()
	if len(shards) != n || len(ids) != n || dataLen <= 0 {
		return nil, fmt.Errorf("%w: decode %d shards, %d ids, %d bytes for %s", ErrInvalid, len(shards), len(ids), dataLen, c.p)
	}
	ss := c.ShardSize(dataLen)
	work := make([][]byte, n)
	for i, s := range shards {
		if len(s) == ss && ShardIDOf(s) == ids[i] {
			work[i] = s
		}
	}
	required := make([]bool, n)
	for i := range c.p.K {
		required[i] = true
	}
	if err := c.reconstruct(work, required); err != nil {
		return nil, err
	}
	out := make([]byte, 0, dataLen)
	_ = Layout{K: c.p.K, DataLen: dataLen, Cell: cell}.walk(0, dataLen, func(i, off, n int) error {
		out = append(out, work[i][off:off+n]...)
		return nil
	})
	return out, nil
}

// reconstruct fills the nil shards marked required from the others.
func (c *Codec) reconstruct(shards [][]byte, required []bool) error {
	valid, missing := 0, false
	for i, s := range shards {
		if s != nil {
			valid++
		} else if required[i] {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	if valid < c.p.K {
		return fmt.Errorf("%w: %d of %d shards valid, need %d", ErrTooFewShards, valid, len(shards), c.p.K)
	}
	if err := c.enc.ReconstructSome(shards, required); err != nil {
		return fmt.Errorf("%w: reconstruct: %v", ErrTooFewShards, err)
	}
	return nil
}
