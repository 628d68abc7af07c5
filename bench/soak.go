package bench

import (
	"context"
	"errors"
	"fmt"
)

// SoakReport is the soak scenario's account: the mixed scenario's traffic
// for a long while, the daemon's RSS and goroutines sampled throughout,
// and whether they stayed flat.
//
// Flat means: over the measured phase (after the warm-up), the highest
// value sampled in its last third is at most the highest value sampled in
// its first third times (1 + tolerance). A leak grows the last third's
// maximum past the first's; a daemon that only breathes (GC cycles,
// fan-out jobs coming and going) peaks alike in both.
//
// The memory verdict is on the RSS outside Pebble's block cache and
// memtables (RSS − store_cache_bytes, sampled together). Those two are
// capped by the daemon's cache_size and memtable_size, and the cache
// fills as the data grows: the inbox of offline users grows through the
// whole soak, and each housekeeping sweep reads more of it, so a healthy
// daemon's raw RSS peaks higher late in the run (up to the cap) without
// anything leaking. What leaks shows outside them. The raw RSS check is
// reported beside it; it decides only when /metrics does not give
// Pebble's memory.
type SoakReport struct {
	// Scope is "daemon" (herald serve as its own process) or
	// "whole_process" (in-process: the harness's RSS and goroutines too).
	Scope string `json:"scope"`
	PID   int    `json:"pid"`
	// IntervalS is the sampling interval (sample_every). Every t_s is
	// seconds since the load's start: the measured phase runs from
	// MeasureStartS (the warm-up's end) to MeasureEndS, its first third
	// up to FirstThirdEndS, its last third from LastThirdStartS.
	IntervalS       float64 `json:"interval_s"`
	MeasureStartS   float64 `json:"measure_start_s"`
	MeasureEndS     float64 `json:"measure_end_s"`
	FirstThirdEndS  float64 `json:"first_third_end_s"`
	LastThirdStartS float64 `json:"last_third_start_s"`
	// RSSOutsideStore (bytes: RSS − Pebble's cache and memtables) and
	// Goroutines are the two checks; Flat is both flat. RSS is the raw
	// RSS's check, for the record (it decides only when RSSOutsideStore
	// is not checked).
	RSS             FlatCheck `json:"rss"`
	RSSOutsideStore FlatCheck `json:"rss_outside_store"`
	Goroutines      FlatCheck `json:"goroutines"`
	Flat            bool      `json:"flat"`
	// SampleCount is every sample taken (warm-up and drain included);
	// Samples holds at most soakMaxSamples of them, evenly thinned (the
	// checks use all).
	SampleCount int            `json:"sample_count"`
	Samples     []MemorySample `json:"samples"`
}

// FlatCheck is one series' flatness verdict.
type FlatCheck struct {
	Tolerance float64 `json:"tolerance"` // rss_tolerance or goroutine_tolerance
	// FirstThirdMax and LastThirdMax are the highest values sampled in
	// the first and last third of the measured phase (-1 = none), from
	// FirstThirdSamples and LastThirdSamples samples.
	FirstThirdMax     int64 `json:"first_third_max"`
	LastThirdMax      int64 `json:"last_third_max"`
	FirstThirdSamples int   `json:"first_third_samples"`
	LastThirdSamples  int   `json:"last_third_samples"`
	// Bound = FirstThirdMax × (1 + Tolerance), rounded down; Growth =
	// LastThirdMax ÷ FirstThirdMax − 1.
	Bound  int64   `json:"bound"`
	Growth float64 `json:"growth"`
	// Checked is false when a third had no sample with the value (too
	// short a run, or /metrics did not say); Flat = Checked and
	// LastThirdMax <= Bound.
	Checked bool `json:"checked"`
	Flat    bool `json:"flat"`
}

// soakMaxSamples bounds the samples kept in the report.
const soakMaxSamples = 1000

// flatCheck judges one series of samples over the measured phase [from,
// to] (seconds, the samples' t_s): the last third's maximum against the
// first third's times (1 + tol). value returns a sample's value, false
// when the sample lacks it.
func flatCheck(samples []MemorySample, from, to, tol float64, value func(MemorySample) (int64, bool)) FlatCheck {
	c := FlatCheck{Tolerance: tol, FirstThirdMax: -1, LastThirdMax: -1}
	third := (to - from) / 3
	for _, s := range samples {
		v, ok := value(s)
		if !ok {
			continue
		}
		switch {
		case s.Seconds >= from && s.Seconds < from+third:
			c.FirstThirdSamples++
			c.FirstThirdMax = max(c.FirstThirdMax, v)
		case s.Seconds >= to-third && s.Seconds <= to:
			c.LastThirdSamples++
			c.LastThirdMax = max(c.LastThirdMax, v)
		}
	}
	c.Checked = c.FirstThirdSamples > 0 && c.LastThirdSamples > 0 && c.FirstThirdMax > 0
	if !c.Checked {
		return c
	}
	c.Bound = int64(float64(c.FirstThirdMax) * (1 + tol))
	c.Growth = round3(float64(c.LastThirdMax)/float64(c.FirstThirdMax) - 1)
	c.Flat = c.LastThirdMax <= c.Bound
	return c
}

// runSoak: the mixed scenario's traffic (same keys, same loads) for a long
// duration, sampling the daemon's RSS (/proc/<pid>/status) and goroutines
// (go_goroutines from GET /metrics) every sample_every; the run fails when
// either is not flat (see SoakReport).
func runSoak(ctx context.Context, e *runEnv) error {
	sc := e.sc
	if e.loc == nil {
		return errors.New("bench: the soak scenario reads the daemon's RSS from /proc: it needs a daemon the harness starts (not --target)")
	}
	mt, err := e.setupMixed(ctx)
	if err != nil {
		return err
	}
	defer mt.stop()
	sr := &SoakReport{Scope: "daemon", PID: e.loc.PID, IntervalS: sc.SampleEvery.Std().Seconds(), Samples: []MemorySample{}}
	if e.loc.PID == 0 {
		sr.Scope = "whole_process"
		e.rep.note("in-process daemon: the soak's RSS and goroutines are the whole harness's (simulators and load generator too)")
	}
	e.rep.Soak = sr
	sm := startMemSampler(newProc(e.loc.PID), e.api, sc.SampleEvery.Std())
	defer sm.stop()
	m, err := mt.measure(ctx, e)
	if err != nil {
		return err
	}
	sm.stop()
	sm.take()
	e.reportMixed(mt, m)

	sm.mu.Lock()
	samples, serr := append([]MemorySample{}, sm.samples...), sm.err
	sm.mu.Unlock()
	if serr != nil {
		e.rep.note("soak samples: %v", serr)
	}
	res := m.results[0]
	from, to := res.MeasureStart.Sub(sm.begin).Seconds(), res.MeasureEnd.Sub(sm.begin).Seconds()
	third := (to - from) / 3
	sr.MeasureStartS, sr.MeasureEndS = round3(from), round3(to)
	sr.FirstThirdEndS, sr.LastThirdStartS = round3(from+third), round3(to-third)
	sr.RSS = flatCheck(samples, from, to, sc.RSSTolerance, func(s MemorySample) (int64, bool) { return s.RSSBytes, s.RSSBytes > 0 })
	sr.RSSOutsideStore = flatCheck(samples, from, to, sc.RSSTolerance, func(s MemorySample) (int64, bool) {
		return s.RSSBytes - s.StoreCacheBytes, s.RSSBytes > 0 && s.StoreCacheBytes >= 0
	})
	sr.Goroutines = flatCheck(samples, from, to, sc.GoroutineTolerance, func(s MemorySample) (int64, bool) { return s.Goroutines, s.Goroutines >= 0 })
	memory := sr.RSSOutsideStore
	if !memory.Checked {
		memory = sr.RSS
		e.rep.note("soak: /metrics gave no Pebble cache and memtable sizes: the memory verdict is on the raw RSS")
	} else if sr.RSS.Checked && !sr.RSS.Flat && memory.Flat {
		e.rep.note("soak: the raw RSS grew %+.0f %% (last third's max against the first's) while the RSS outside Pebble's cache and memtables stayed flat: the cache filled toward cache_size",
			100*sr.RSS.Growth)
	}
	sr.Flat = memory.Flat && sr.Goroutines.Flat
	sr.SampleCount = len(samples)
	sr.Samples = thinMemSamples(samples, soakMaxSamples)

	for _, c := range []struct {
		name string
		fc   FlatCheck
		unit func(int64) string
	}{
		{memoryName(sr), memory, func(b int64) string { return mib(b) + " MiB" }},
		{"goroutines", sr.Goroutines, func(n int64) string { return fmt.Sprint(n) }},
	} {
		switch {
		case !c.fc.Checked:
			e.rep.fail("soak: %s flatness not checked: the first and last third of the measured phase need a sample each (%d and %d; lengthen --duration or shorten --sample-every)",
				c.name, c.fc.FirstThirdSamples, c.fc.LastThirdSamples)
		case !c.fc.Flat:
			e.rep.fail("soak: %s not flat: the last third's max %s is above the first third's max %s × (1 + %g) = %s",
				c.name, c.unit(c.fc.LastThirdMax), c.unit(c.fc.FirstThirdMax), c.fc.Tolerance, c.unit(c.fc.Bound))
		}
	}
	e.rep.metric("soak_samples", float64(sr.SampleCount), "samples")
	if sr.RSS.Checked {
		e.rep.metric("rss_first_third_max_mib", mibF(sr.RSS.FirstThirdMax), "MiB")
		e.rep.metric("rss_last_third_max_mib", mibF(sr.RSS.LastThirdMax), "MiB")
		e.rep.metric("rss_growth", sr.RSS.Growth, "ratio")
	}
	if c := sr.RSSOutsideStore; c.Checked {
		e.rep.metric("rss_outside_store_first_third_max_mib", mibF(c.FirstThirdMax), "MiB")
		e.rep.metric("rss_outside_store_last_third_max_mib", mibF(c.LastThirdMax), "MiB")
		e.rep.metric("rss_outside_store_growth", c.Growth, "ratio")
	}
	if sr.Goroutines.Checked {
		e.rep.metric("goroutines_first_third_max", float64(sr.Goroutines.FirstThirdMax), "goroutines")
		e.rep.metric("goroutines_last_third_max", float64(sr.Goroutines.LastThirdMax), "goroutines")
		e.rep.metric("goroutines_growth", sr.Goroutines.Growth, "ratio")
	}
	return nil
}

// memoryName names the series the soak's memory verdict is on.
func memoryName(sr *SoakReport) string {
	if sr.RSSOutsideStore.Checked {
		return "RSS outside Pebble's cache and memtables"
	}
	return "RSS"
}

// soakVerdict is "flat" or "NOT FLAT" (or "not checked") for a table line.
func soakVerdict(c FlatCheck) string {
	switch {
	case !c.Checked:
		return "not checked"
	case c.Flat:
		return "flat"
	}
	return "NOT FLAT"
}
