package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	for _, v := range []int64{0, 1, 255, 256, 257, 511, 512, 513, 1000, 1 << 20, 123456789, 1<<62 + 12345, 1<<63 - 1} {
		i := bucketOf(v)
		if lo, hi := bucketLow(i), bucketHigh(i); v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if i >= nBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
	// Buckets tile the line: each starts right after the previous ends.
	for i := 1; i < nBuckets; i++ {
		if bucketLow(i) != bucketHigh(i-1)+1 {
			t.Fatalf("gap between bucket %d and %d", i-1, i)
		}
	}
}

// TestQuantileAccuracy compares quantiles with the exact ones of the same
// sample: the histogram reports within 1/256 above the exact value.
func TestQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []int64
	for i := 0; i < 100000; i++ {
		v := int64(r.ExpFloat64() * float64(5*time.Millisecond))
		vals = append(vals, v)
		h.RecordValue(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 0.9999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := int64(h.Quantile(q))
		if got < exact || float64(got-exact) > float64(exact)/256+1 {
			t.Errorf("q%v: got %d, exact %d", q, got, exact)
		}
	}
	if h.Quantile(1) != time.Duration(vals[len(vals)-1]) || h.Max() != time.Duration(vals[len(vals)-1]) {
		t.Errorf("max: %v vs %d", h.Quantile(1), vals[len(vals)-1])
	}
	if h.Min() != time.Duration(vals[0]) || h.Count() != int64(len(vals)) {
		t.Errorf("min %v count %d", h.Min(), h.Count())
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	if a.Quantile(0.5) != 0 || a.Min() != 0 || a.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	for i := int64(1); i <= 100; i++ {
		a.RecordValue(i * 1000)
		b.RecordValue(i * 1000000)
	}
	b.RecordValue(-5) // negative counts as 0
	a.Merge(b)
	if a.Count() != 201 || a.Min() != 0 || a.Max() != 100*time.Millisecond {
		t.Fatalf("merged: count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
	a.Reset()
	if a.Count() != 0 {
		t.Fatal("reset")
	}
}

func TestVendorPlanShares(t *testing.T) {
	plan := vendorPlan(map[string]float64{"apns": 3, "fcm": 1, "vivo": 0})
	n := map[string]int{}
	for _, v := range plan[:100] {
		n[v]++
	}
	if n["apns"] != 75 || n["fcm"] != 25 || n["vivo"] != 0 {
		t.Fatalf("first 100 devices: %v", n)
	}
}

func TestTimelineRates(t *testing.T) {
	start := time.Unix(1000, 0)
	tl := NewTimeline(start)
	s := tl.Series("x", "1/s")
	for i := 0; i < 100; i++ {
		tl.Add(s, start.Add(time.Duration(i)*10*time.Millisecond), 10) // 1000/s for 1 s
	}
	r := tl.Rates(start.Add(time.Second-time.Millisecond), 10)
	if r.IntervalS != 0.1 || len(r.Series) != 1 || len(r.Series[0].Values) != 10 {
		t.Fatalf("rates: %+v", r)
	}
	for _, v := range r.Series[0].Values {
		if v < 999 || v > 1001 {
			t.Fatalf("rate %v, want 1000", v)
		}
	}
}

func TestTrackerParse(t *testing.T) {
	tr := newTracker("abc123", NewTimeline(time.Now()))
	for id, want := range map[string]int64{"p-abc123-0": 0, "p-abc123-42": 42} {
		k, seq, ok := tr.parse(id)
		if !ok || k != 'p' || seq != want {
			t.Errorf("%s: %c %d %v", id, k, seq, ok)
		}
	}
	for _, id := range []string{"", "p-abc124-1", "p-abc123-", "p-abc123-x", "pxabc123-1", "p-abc123"} {
		if _, _, ok := tr.parse(id); ok {
			t.Errorf("%q parsed", id)
		}
	}
}
