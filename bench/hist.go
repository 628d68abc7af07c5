package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, the layout HdrHistogram uses: values below
// 2^subBits are counted exactly, and every power-of-two range above that is
// split into 2^subBits equal buckets, so a value is known to within 1/256
// (0.4 %) of itself. Values are nanoseconds; the range is the whole int64.
const (
	subBits  = 8
	subCount = 1 << subBits
	nBuckets = (64 - subBits) * subCount
)

// Histogram counts durations. It is not safe for concurrent use: give each
// goroutine its own and Merge them, or guard one with a mutex.
type Histogram struct {
	counts   [nBuckets]int64
	total    int64
	min, max int64
	sum      float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{min: math.MaxInt64} }

func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	shift := 63 - bits.LeadingZeros64(uint64(v)) - subBits
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketLow is the smallest value counted in bucket i.
func bucketLow(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	return int64(i%subCount+subCount) << shift
}

// bucketHigh is the largest value counted in bucket i.
func bucketHigh(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	return bucketLow(i) + (int64(1) << shift) - 1
}

// Record counts one duration; negative durations count as 0.
func (h *Histogram) Record(d time.Duration) { h.RecordValue(int64(d)) }

// RecordValue counts one value (nanoseconds); negative values count as 0.
func (h *Histogram) RecordValue(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.total++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{min: math.MaxInt64} }

// Count is the number of recorded values.
func (h *Histogram) Count() int64 { return h.total }

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max is the largest recorded value (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average recorded value.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// Quantile returns the value at quantile q (0..1): the highest value
// equivalent to the recorded one at that rank (as HdrHistogram reports),
// never above the exact maximum. q >= 1 gives the maximum.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	if q <= 0 {
		return time.Duration(h.min)
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
