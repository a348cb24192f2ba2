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
	return &Codec{p: p, enc: enc}, nil
}

// Profile returns the codec's profile.
func (c *Codec) Profile() Profile { return c.p }

// ShardSize returns the size of each of the k+m shards of a stripe holding
// dataLen bytes: ceil(dataLen/k).
func (c *Codec) ShardSize(dataLen int) int { return (dataLen + c.p.K - 1) / c.p.K }

// Encode splits data (one stripe, at least one byte) into k data shards,
// zero-padding the last, computes m parity shards and the SHA-256 ids (the
// zero IDScheme) of all k+m.
// The shards are freshly allocated and do not alias data.
func (c *Codec) Encode(data []byte) ([][]byte, []ShardID, error) {
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: empty stripe", ErrInvalid)
	}
	buf := make([]byte, c.p.N()*c.ShardSize(len(data)))
	copy(buf, data)
	shards, err := c.encodeInPlace(buf, len(data))
	if err != nil {
		return nil, nil, err
	}
	ids := make([]ShardID, len(shards))
	for i, s := range shards {
		ids[i] = ShardIDOf(s)
	}
	return shards, ids, nil
}

// encodeInPlace codes the stripe whose dataLen bytes are at the start of
// buf, which must hold (k+m)*ShardSize(dataLen) bytes; the returned shards
// are slices of buf. Bytes of buf past dataLen are overwritten.
func (c *Codec) encodeInPlace(buf []byte, dataLen int) ([][]byte, error) {
	ss := c.ShardSize(dataLen)
	if dataLen <= 0 || len(buf) < c.p.N()*ss {
		return nil, fmt.Errorf("%w: stripe of %d bytes in a %d-byte buffer", ErrInvalid, dataLen, len(buf))
	}
	clear(buf[dataLen : c.p.K*ss]) // padding of the last data shard
	shards := make([][]byte, c.p.N())
	for i := range shards {
		shards[i] = buf[i*ss : (i+1)*ss : (i+1)*ss]
	}
	if err := c.enc.Encode(shards); err != nil {
		return nil, fmt.Errorf("ecstore: encode %s stripe of %d bytes: %w", c.p, dataLen, err)
	}
	return shards, nil
}

// Decode returns the dataLen bytes of a stripe from its shards, where
// shards[i] is nil for a missing shard and ids[i] is the id shard i must
// have. A present shard of the wrong length or whose content does not hash
// to its id is treated as missing. Decode returns ErrTooFewShards when
// fewer than k shards remain. It does not modify shards.
func (c *Codec) Decode(shards [][]byte, ids []ShardID, dataLen int) ([]byte, error) {
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
	out := make([]byte, 0, c.p.K*ss)
	for _, s := range work[:c.p.K] {
		out = append(out, s...)
	}
	return out[:dataLen], nil
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
