package s3load

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear (HDR-style) buckets: values
// below 256 ns are exact, and each power of two above is split into 128
// equal buckets, so a bucket's width is at most 1/128 of its lower bound.
// Quantile reports the midpoint of the bucket holding the nearest-rank
// order statistic, clamped to the exact minimum and maximum, hence within
// 1/256 (0.4 %) of the exact value. Count, Min, Max and Mean are exact.
// Memory is bounded (rows of 128 counters, allocated on first use, at most
// 38 rows); values of 2^44 ns (about 4.9 hours) and above share the last
// bucket.
//
// A Histogram is owned by one goroutine; Merge combines them afterwards.
// The zero value is empty and ready to use.
type Histogram struct {
	rows  [histRows]*[histSub]uint64
	count int64
	sum   float64 // nanoseconds
	min   time.Duration
	max   time.Duration
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histMaxBits = 44
	// Index i lives in row i>>histSubBits; the largest index is that of
	// 2^histMaxBits-1.
	histRows = (histMaxBits - histSubBits - 1) + 2
)

// histIndex maps v >= 0 to its bucket: values below 2^(histSubBits+1) map
// to themselves; above, v keeps its top histSubBits+1 bits.
func histIndex(v uint64) int {
	if v >= 1<<histMaxBits {
		v = 1<<histMaxBits - 1
	}
	shift := max(0, bits.Len64(v)-histSubBits-1)
	return shift<<histSubBits + int(v>>shift)
}

// histBounds returns bucket i's lowest value and width.
func histBounds(i int) (lo, width uint64) {
	shift := max(0, i>>histSubBits-1)
	return uint64(i-shift<<histSubBits) << shift, 1 << shift
}

// Record adds one latency. Negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	i := histIndex(uint64(d))
	row := h.rows[i>>histSubBits]
	if row == nil {
		row = new([histSub]uint64)
		h.rows[i>>histSubBits] = row
	}
	row[i&(histSub-1)]++
	if h.count == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.count++
	h.sum += float64(d)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.count == 0 {
		return
	}
	for r, orow := range o.rows {
		if orow == nil {
			continue
		}
		if h.rows[r] == nil {
			h.rows[r] = new([histSub]uint64)
		}
		for j, c := range orow {
			h.rows[r][j] += c
		}
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.count += o.count
	h.sum += o.sum
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.count }

// Quantile returns the nearest-rank q-quantile (0 <= q <= 1): the value of
// rank ceil(q*Count) in sorted order, within the error stated on
// Histogram. Quantile(0) is the exact minimum, Quantile(1) the exact
// maximum; an empty histogram returns 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	// The epsilon keeps q*count from rounding up past an exact rank
	// (0.07*100 is 7.000000000000001 in floating point).
	rank := max(1, int64(math.Ceil(q*float64(h.count)-1e-9)))
	var seen int64
	for r, row := range h.rows {
		if row == nil {
			continue
		}
		for j, c := range row {
			seen += int64(c)
			if seen >= rank {
				lo, width := histBounds(r<<histSubBits + j)
				v := time.Duration(lo + (width-1)/2)
				return min(max(v, h.min), h.max)
			}
		}
	}
	return h.max // unreachable: the counts add up to h.count
}

// LatencySummary is the latency part of a phase result. Percentiles come
// from a Histogram (within 0.4 %); Min, Mean and Max are exact.
type LatencySummary struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summary returns count, min, mean, p50, p90, p99 and max.
func (h *Histogram) Summary() LatencySummary {
	s := LatencySummary{
		Count: h.count,
		Min:   h.Quantile(0),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		Max:   h.Quantile(1),
	}
	if h.count > 0 {
		s.Mean = time.Duration(h.sum / float64(h.count))
	}
	return s
}
