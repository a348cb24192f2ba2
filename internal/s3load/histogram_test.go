package s3load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	check := func(v uint64) {
		i := histIndex(v)
		lo, width := histBounds(i)
		if v < lo || v-lo >= width {
			t.Fatalf("value %d in bucket %d = [%d, %d)", v, i, lo, lo+width)
		}
		if v >= 2*histSub && width > lo/histSub {
			t.Fatalf("value %d: bucket width %d is more than 1/%d of %d", v, width, histSub, lo)
		}
		if i>>histSubBits >= histRows {
			t.Fatalf("value %d: row %d out of %d", v, i>>histSubBits, histRows)
		}
	}
	// Exhaustively through the first rows, where every boundary is.
	prev := -1
	for v := uint64(0); v < 1<<16; v++ {
		check(v)
		if i := histIndex(v); i < prev || i > prev+1 {
			t.Fatalf("index jumps from %d to %d at %d", prev, i, v)
		} else {
			prev = i
		}
	}
	for shift := 16; shift < histMaxBits; shift++ {
		for _, d := range []uint64{0, 1, 1<<(shift-1) - 1, 1 << (shift - 1)} {
			check(1<<shift + d)
			check(1<<shift - 1 - d)
		}
	}
	// Values beyond the range share the last bucket, and count.
	last := histIndex(1<<histMaxBits - 1)
	if histIndex(math.MaxInt64) != last || last>>histSubBits != histRows-1 {
		t.Errorf("last bucket %d (row %d of %d); MaxInt64 goes to %d", last, last>>histSubBits, histRows, histIndex(math.MaxInt64))
	}
}

func TestHistogramQuantiles(t *testing.T) {
	seq := func(lo, hi int) []time.Duration {
		var out []time.Duration
		for v := lo; v <= hi; v++ {
			out = append(out, time.Duration(v))
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		values []time.Duration
		q      []float64
		want   []time.Duration
	}{
		{"empty", nil, []float64{0, 0.5, 1}, []time.Duration{0, 0, 0}},
		{"one", []time.Duration{42}, []float64{0, 0.5, 0.99, 1}, []time.Duration{42, 42, 42, 42}},
		// Nearest rank: the ceil(q*n)-th smallest.
		{"1..100", seq(1, 100), []float64{0, 0.01, 0.07, 0.5, 0.9, 0.99, 0.999, 1}, []time.Duration{1, 1, 7, 50, 90, 99, 100, 100}},
		{"1..10", seq(1, 10), []float64{0.5, 0.51, 0.9, 0.91, 0.99}, []time.Duration{5, 6, 9, 10, 10}},
		{"unsorted", []time.Duration{5, 1, 3}, []float64{0.33, 0.34, 0.5, 0.66, 0.67}, []time.Duration{1, 3, 3, 3, 5}},
		{"ties", []time.Duration{7, 7, 7, 200}, []float64{0.5, 0.75, 0.76}, []time.Duration{7, 7, 200}},
		{"negative is zero", []time.Duration{-5, 10}, []float64{0, 1}, []time.Duration{0, 10}},
		// One large value is reported exactly: the bucket midpoint is
		// clamped to the exact min and max.
		{"one second", []time.Duration{time.Second}, []float64{0.5, 0.99}, []time.Duration{time.Second, time.Second}},
		// Beyond the histogram's range the exact max still comes out.
		{"ten hours", []time.Duration{time.Millisecond, 10 * time.Hour}, []float64{1}, []time.Duration{10 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				h.Record(v)
			}
			for i, q := range tc.q {
				if got := h.Quantile(q); got != tc.want[i] {
					t.Errorf("Quantile(%v) = %d, want %d", q, got, tc.want[i])
				}
			}
		})
	}
}

// TestHistogramMatchesExactSort compares percentiles with an exact sort of
// the same random latencies: each must be within 1/256 of the exact
// nearest-rank value.
func TestHistogramMatchesExactSort(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for round := range 20 {
		n := 1 + rng.IntN(20000)
		var h Histogram
		values := make([]time.Duration, n)
		for i := range values {
			// Log-normal around 2 ms, with a heavy tail.
			values[i] = time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(2*time.Millisecond))
			h.Record(values[i])
		}
		slices.Sort(values)
		for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999} {
			rank := max(1, int(math.Ceil(q*float64(n)-1e-9)))
			exact := values[rank-1]
			got := h.Quantile(q)
			if diff := math.Abs(float64(got - exact)); diff > float64(exact)/256+1 {
				t.Fatalf("round %d (n=%d): Quantile(%v) = %v, exact %v: off by %.3f%%",
					round, n, q, got, exact, 100*diff/float64(exact))
			}
		}
		if h.Quantile(0) != values[0] || h.Quantile(1) != values[n-1] || h.Count() != int64(n) {
			t.Fatalf("round %d: min %v max %v count %d; want %v %v %d",
				round, h.Quantile(0), h.Quantile(1), h.Count(), values[0], values[n-1], n)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	var all, a, b, empty Histogram
	for i := range 1000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&empty)
	merged.Merge(&a)
	merged.Merge(&empty)
	merged.Merge(&b)
	if merged.Summary() != all.Summary() || !sameRows(&merged, &all) {
		t.Errorf("merged %+v, recorded together %+v", merged.Summary(), all.Summary())
	}
}

func sameRows(a, b *Histogram) bool {
	for r := range a.rows {
		if (a.rows[r] == nil) != (b.rows[r] == nil) || a.rows[r] != nil && *a.rows[r] != *b.rows[r] {
			return false
		}
	}
	return true
}

func TestHistogramSummary(t *testing.T) {
	var h Histogram
	for _, ms := range []int{1, 2, 3, 4, 10} {
		h.Record(time.Duration(ms) * time.Millisecond)
	}
	s := h.Summary()
	if s.Count != 5 || s.Min != time.Millisecond || s.Max != 10*time.Millisecond || s.Mean != 4*time.Millisecond {
		t.Errorf("summary %+v: want count 5, min 1ms, mean 4ms, max 10ms", s)
	}
	if s.P50 < 3*time.Millisecond*255/256 || s.P50 > 3*time.Millisecond*257/256 {
		t.Errorf("p50 %v, want 3ms within 1/256", s.P50)
	}
	var empty Histogram
	if empty.Summary() != (LatencySummary{}) {
		t.Errorf("empty summary %+v", empty.Summary())
	}
}
