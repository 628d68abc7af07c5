package daemon

import (
	"math"
	"testing"
	"time"
)

// p99Since reads the p99 of what a cumulative histogram added since the
// last reading, as the upper bound of its bucket; an infinite top bucket
// reads as its lower bound; nothing added reads as 0.
func TestP99SinceReadsTheNewCountsOnly(t *testing.T) {
	buckets := []float64{0, 0.001, 0.01, 0.1, math.Inf(1)}
	for _, tc := range []struct {
		name        string
		prev, count []uint64
		want        time.Duration
	}{
		{"first reading", nil, []uint64{980, 19, 1, 0}, 10 * time.Millisecond},
		{"all under 1ms", nil, []uint64{1000, 0, 0, 0}, time.Millisecond},
		{"old slow counts do not count", []uint64{0, 0, 500, 0}, []uint64{1000, 0, 500, 0}, time.Millisecond},
		{"new slow counts do", []uint64{1000, 0, 0, 0}, []uint64{1000, 90, 10, 0}, 100 * time.Millisecond},
		{"top bucket", nil, []uint64{0, 0, 0, 5}, 100 * time.Millisecond},
		{"nothing new", []uint64{3, 2, 1, 0}, []uint64{3, 2, 1, 0}, 0},
	} {
		if got := p99Since(tc.prev, tc.count, buckets); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	p := newSchedP99()
	if d := p.read(); d < 0 || d > time.Minute {
		t.Fatalf("the runtime's scheduler latency p99 reads %v", d)
	}
}
