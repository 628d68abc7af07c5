package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Load is one stream of requests. With Rate > 0 it is open loop: request i
// is due at start + i/Rate whatever happened to the ones before, and its
// latency runs from that intended time, so a stall in the server shows up
// in the latency of every request it delayed (no coordinated omission).
// With Rate 0 it is closed loop: Workers requests back to back, latency
// from the actual send (what such a number can honestly say is throughput).
type Load struct {
	Name     string
	Rate     float64       // requests/s; 0 = closed loop
	Warmup   time.Duration // sent but not measured
	Duration time.Duration // measured
	Workers  int           // requests in flight at most (the connection pool bounds them too)
	// Schedule, when set, hears each request's sequence number and intended
	// time before it is sent (so receipts can be matched to it).
	Schedule func(seq int64, intended time.Time)
	// Do sends request seq and reports whether herald answered 2xx.
	Do func(seq int64) error
	// Started, when set, hears the load's start and the bounds of its
	// measured phase before the first request is due.
	Started func(start, measureStart, measureEnd time.Time)
}

// LoadResult is what one Load did.
type LoadResult struct {
	Name      string
	Sent      int64 // requests sent (warm-up included)
	OK        int64 // answered 2xx (warm-up included)
	Errors    int64 // failed or non-2xx (warm-up included)
	Measured  int64 // 2xx answers to requests due in the measured phase
	InWindow  int64 // 2xx answers received during the measured phase (ingress throughput)
	Latency   *Histogram
	FirstErrs []string // a few error texts
	// MeasureStart and MeasureEnd bound the measured phase.
	MeasureStart, MeasureEnd time.Time
	// LastAnswer is when the last request was answered.
	LastAnswer time.Time
}

// loadCounters are live totals for the progress line.
type loadCounters struct {
	sent, ok, errors atomic.Int64
}

type loadSeries struct{ sent, ok, errs int }

// Run drives the load until its warm-up and duration have passed (or ctx
// ends) and every request sent has been answered.
func (l *Load) Run(ctx context.Context, tl *Timeline, live *loadCounters) *LoadResult {
	start := time.Now()
	res := &LoadResult{Name: l.Name, Latency: NewHistogram(),
		MeasureStart: start.Add(l.Warmup), MeasureEnd: start.Add(l.Warmup + l.Duration)}
	if l.Started != nil {
		l.Started(start, res.MeasureStart, res.MeasureEnd)
	}
	series := loadSeries{
		sent: tl.Series(l.Name+"_sent", "requests/s"),
		ok:   tl.Series(l.Name+"_acked", "requests/s"),
		errs: tl.Series(l.Name+"_errors", "requests/s"),
	}
	var mu sync.Mutex
	record := func(seq int64, intended, sentAt time.Time, err error) {
		now := time.Now()
		live.sent.Add(1)
		if err != nil {
			live.errors.Add(1)
			tl.Add(series.errs, now, 1)
		} else {
			live.ok.Add(1)
			tl.Add(series.ok, now, 1)
		}
		mu.Lock()
		defer mu.Unlock()
		res.Sent++
		if now.After(res.LastAnswer) {
			res.LastAnswer = now
		}
		if err != nil {
			res.Errors++
			if len(res.FirstErrs) < 5 {
				res.FirstErrs = append(res.FirstErrs, err.Error())
			}
			return
		}
		res.OK++
		if !now.Before(res.MeasureStart) && now.Before(res.MeasureEnd) {
			res.InWindow++
		}
		if !intended.Before(res.MeasureStart) && intended.Before(res.MeasureEnd) {
			res.Measured++
			if l.Rate > 0 {
				res.Latency.Record(now.Sub(intended))
			} else {
				res.Latency.Record(now.Sub(sentAt))
			}
		}
	}
	send := func(seq int64, intended time.Time) {
		if l.Schedule != nil {
			l.Schedule(seq, intended)
		}
		sentAt := time.Now()
		tl.Add(series.sent, sentAt, 1)
		record(seq, intended, sentAt, l.Do(seq))
	}
	workers := max(l.Workers, 1)
	var wg sync.WaitGroup
	end := res.MeasureEnd
	if l.Rate <= 0 {
		var next atomic.Int64
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && time.Now().Before(end) {
					seq := next.Add(1) - 1
					send(seq, time.Now())
				}
			}()
		}
		wg.Wait()
		return res
	}
	type job struct {
		seq      int64
		intended time.Time
	}
	jobs := make(chan job, 1<<16)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				send(j.seq, j.intended)
			}
		}()
	}
	interval := float64(time.Second) / l.Rate
	total := int64(float64(l.Warmup+l.Duration) / interval)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var seq int64
dispatch:
	for seq < total {
		due := int64(float64(time.Since(start))/interval) + 1
		for ; seq < min(due, total); seq++ {
			select {
			case jobs <- job{seq, start.Add(time.Duration(float64(seq) * interval))}:
			case <-ctx.Done():
				break dispatch
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	return res
}
