package ecstore

// DefaultCellSize is the bytes per data shard in each row of the stripes
// Write lays out when the Config sets none: a row of 4 data cells and 2
// parity cells (384 KiB) stays in a core's cache while it is copied in,
// hashed and encoded.
const DefaultCellSize = 64 << 10

// Layout says where a stripe's payload lies in its data shards. The
// payload is dealt in rows: each row gives every data shard one cell of
// Cell bytes, data shard i the i-th; the bytes left over for a last row
// too short for whole cells are dealt in cells of ceil(rest/K) bytes, the
// last of them padded with zeros. Every data shard is ShardSize bytes.
// Cell 0, or at least ShardSize, is one row: data shard i holds bytes
// [i*ShardSize, (i+1)*ShardSize), the layout of stripes written before
// rows (Manifest.cell_size 0).
type Layout struct {
	K       int // data shards
	DataLen int // payload bytes in the stripe
	Cell    int // bytes per data shard per row
}

// ShardSize returns the length of every shard of the stripe: ceil(DataLen/K).
func (l Layout) ShardSize() int { return (l.DataLen + l.K - 1) / l.K }

// cell returns the cell size of the full rows.
func (l Layout) cell() int {
	if ss := l.ShardSize(); l.Cell <= 0 || l.Cell > ss {
		return ss
	}
	return l.Cell
}

// FullRows returns the bytes per data shard of the rows of whole cells.
func (l Layout) FullRows() int {
	c := l.cell()
	return l.DataLen / (l.K * c) * c
}

// Locate returns the data shard holding payload byte o (0 <= o <
// DataLen), its offset there, and how many bytes of the payload from o on
// follow it there: to the end of its cell, which for the last data byte
// may run into padding.
func (l Layout) Locate(o int) (shard, off, run int) {
	c := l.cell()
	row := l.K * c
	full := l.DataLen / row * row
	if o < full {
		w := o % row
		return w / c, o/row*c + w%c, c - w%c
	}
	c = (l.DataLen - full + l.K - 1) / l.K // the short last row
	w := o - full
	return w / c, full/l.K + w%c, c - w%c
}

// walk calls f for the pieces of payload bytes [lo, hi) in order: data
// shard i, offset off there, n bytes. It stops at f's first error.
func (l Layout) walk(lo, hi int, f func(i, off, n int) error) error {
	for o := lo; o < hi; {
		i, off, run := l.Locate(o)
		n := min(run, hi-o)
		if err := f(i, off, n); err != nil {
			return err
		}
		o += n
	}
	return nil
}
