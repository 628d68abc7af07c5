package bench

import (
	"sync"
	"time"
)

// timelineRes is the finest time bin of a Timeline.
const timelineRes = 10 * time.Millisecond

// Timeline counts events over time in fixed bins from its start, one
// series per name. Safe for concurrent use.
type Timeline struct {
	start  time.Time
	mu     sync.Mutex
	names  []string
	units  []string
	counts [][]int64
}

// NewTimeline starts a timeline now; series are added with Series.
func NewTimeline(start time.Time) *Timeline { return &Timeline{start: start} }

// Series registers a series and returns its handle for Add.
func (t *Timeline) Series(name, unit string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, n := range t.names {
		if n == name {
			return i
		}
	}
	t.names = append(t.names, name)
	t.units = append(t.units, unit)
	t.counts = append(t.counts, nil)
	return len(t.names) - 1
}

// Add counts n events of series s at time at (events before the start
// count in the first bin).
func (t *Timeline) Add(s int, at time.Time, n int64) {
	t.mu.Lock()
	bin := max(int(at.Sub(t.start)/timelineRes), 0)
	c := t.counts[s]
	if bin >= len(c) {
		if bin >= cap(c) {
			nc := make([]int64, bin+1, max(2*cap(c), bin+1, 1024))
			copy(nc, c)
			c = nc
		} else {
			c = c[:bin+1]
		}
	}
	c[bin] += n
	t.counts[s] = c
	t.mu.Unlock()
}

// SetStart moves the start (before anything was added), for a phase that
// begins after its series were registered.
func (t *Timeline) SetStart(start time.Time) {
	t.mu.Lock()
	t.start = start
	t.mu.Unlock()
}

// Rates turns the counts up to end into per-second rates, over bins as
// wide as needed for at most maxPoints points (10 ms at the finest).
func (t *Timeline) Rates(end time.Time, maxPoints int) TimelineReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	nbins := max(int(end.Sub(t.start)/timelineRes)+1, 1)
	per := 1
	for _, step := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 6000, 30000} {
		per = step
		if (nbins+step-1)/step <= maxPoints {
			break
		}
	}
	width := time.Duration(per) * timelineRes
	npoints := (nbins + per - 1) / per
	out := TimelineReport{IntervalS: width.Seconds(), Series: []SeriesReport{}}
	for i, name := range t.names {
		vals := make([]float64, npoints)
		for b, c := range t.counts[i] {
			if b >= nbins {
				break
			}
			vals[b/per] += float64(c)
		}
		for j := range vals {
			vals[j] /= width.Seconds()
		}
		out.Series = append(out.Series, SeriesReport{Name: name, Unit: t.units[i], Values: vals})
	}
	return out
}
