package daemon

import (
	"math"
	rtmetrics "runtime/metrics"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/internal/clock"
)

// schedLatencies is the runtime metric Yield watches: how long runnable
// goroutines waited for a CPU.
const schedLatencies = "/sched/latencies:seconds"

// schedP99 keeps the last reading of the scheduler-latency histogram and
// turns each new one into the p99 of what happened in between.
type schedP99 struct {
	sample []rtmetrics.Sample
	prev   []uint64
}

func newSchedP99() *schedP99 {
	p := &schedP99{sample: []rtmetrics.Sample{{Name: schedLatencies}}}
	p.read()
	return p
}

// read returns the p99 of the latencies recorded since the last read (0
// when none were).
func (p *schedP99) read() time.Duration {
	rtmetrics.Read(p.sample)
	if p.sample[0].Value.Kind() != rtmetrics.KindFloat64Histogram {
		return 0
	}
	h := p.sample[0].Value.Float64Histogram()
	d := p99Since(p.prev, h.Counts, h.Buckets)
	p.prev = append(p.prev[:0], h.Counts...)
	return d
}

// p99Since is the p99 of the counts that cumulative histogram counts added
// to prev (nil = all of them), as the upper bound of the bucket it falls in
// (buckets holds len(counts)+1 boundaries; an infinite bound reads as the
// bucket's lower one).
func p99Since(prev, counts []uint64, buckets []float64) time.Duration {
	var total uint64
	for i, c := range counts {
		if i < len(prev) {
			c -= prev[i]
		}
		total += c
	}
	if total == 0 {
		return 0
	}
	want := total - total/100 // the 99th percentile's rank
	var seen uint64
	for i, c := range counts {
		if i < len(prev) {
			c -= prev[i]
		}
		seen += c
		if seen >= want {
			hi := buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}

// startYield feeds y the scheduler's latency every actors.YieldEvery of
// the daemon's clock until the returned function is called.
func (d *Daemon) startYield(y *actors.Yield) func() {
	p := newSchedP99()
	return clock.Every(d.clock, actors.YieldEvery, func() { y.Observe(d.clock.Now(), p.read()) })
}
