package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// MemoryReport is the memory scenario's account of the daemon's memory:
// its RSS (/proc/<pid>/status), Go heap in use and live user actors
// (GET /metrics) sampled through every phase.
type MemoryReport struct {
	Users       int64 `json:"users"`        // registered
	ActiveUsers int64 `json:"active_users"` // made active (presence online) after registration
	GroupSize   int64 `json:"group_size"`   // the fan-out's group (0 = no fan-out)
	// IdleTimeout is the daemon's users.idle_timeout: the active users
	// were active within it (their actors are live) when measured.
	IdleTimeout string `json:"idle_timeout"`
	// Scope is "daemon" (herald serve as its own process) or
	// "whole_process" (in-process: simulators and load generator too).
	Scope string `json:"scope"`
	PID   int    `json:"pid"`
	// Baseline is the sample before registration; PeakRSSBytes is VmHWM
	// at the end (the process's peak over its life) and
	// SampledPeakRSSBytes the highest VmRSS sampled.
	Baseline            MemorySample   `json:"baseline"`
	PeakRSSBytes        int64          `json:"peak_rss_bytes"`
	SampledPeakRSSBytes int64          `json:"sampled_peak_rss_bytes"`
	Phases              []MemoryPhase  `json:"phases"`
	IntervalS           float64        `json:"interval_s"` // sampling interval
	Samples             []MemorySample `json:"samples"`
}

// MemorySample is one reading of the daemon. HeapInuseBytes
// (go_memstats_heap_inuse_bytes), GoSysBytes (go_memstats_sys_bytes:
// everything the Go runtime holds from the OS), StoreCacheBytes
// (herald_store_block_cache_bytes + herald_store_memtable_bytes: Pebble's
// memory, outside the Go runtime's), UserActorsActive
// (herald_user_actors_active) and Goroutines (go_goroutines) are -1 when
// /metrics did not say. RSS beyond GoSysBytes + StoreCacheBytes is the C
// allocator's overhead and the binary.
type MemorySample struct {
	Seconds          float64 `json:"t_s"` // since the sampler's start (memory: before registration; soak: the load's start)
	RSSBytes         int64   `json:"rss_bytes"`
	HeapInuseBytes   int64   `json:"heap_inuse_bytes"`
	GoSysBytes       int64   `json:"go_sys_bytes"`
	StoreCacheBytes  int64   `json:"store_cache_bytes"`
	UserActorsActive int64   `json:"user_actors_active"`
	Goroutines       int64   `json:"goroutines"`
}

// MemoryPhase is one phase of the scenario: the sample at its end, and
// the highest RSS sampled during it.
type MemoryPhase struct {
	Name        string  `json:"name"` // registered, active, fanned_out
	Description string  `json:"description"`
	StartS      float64 `json:"start_s"`
	EndS        float64 `json:"end_s"`
	// At the phase's end: VmRSS, VmHWM (peak so far over the process's
	// life), heap in use and live user actors.
	RSSBytes         int64 `json:"rss_bytes"`
	HWMBytes         int64 `json:"hwm_bytes"`
	HeapInuseBytes   int64 `json:"heap_inuse_bytes"`
	UserActorsActive int64 `json:"user_actors_active"`
	// PeakRSSBytes is the highest VmRSS sampled during the phase.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// Memory phase names.
const (
	PhaseRegistered = "registered"
	PhaseActive     = "active"
	PhaseFannedOut  = "fanned_out"
)

// Phase returns the named phase (nil = not there).
func (m *MemoryReport) Phase(name string) *MemoryPhase {
	for i := range m.Phases {
		if m.Phases[i].Name == name {
			return &m.Phases[i]
		}
	}
	return nil
}

// memInterval is how often the memory scenario samples the daemon.
const memInterval = 500 * time.Millisecond

// memSampler samples the daemon's RSS and /metrics every interval (the
// memory and soak scenarios).
type memSampler struct {
	p     proc
	api   *API
	begin time.Time
	quit  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	samples []MemorySample
	err     error
}

func startMemSampler(p proc, api *API, interval time.Duration) *memSampler {
	s := &memSampler{p: p, api: api, begin: time.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	s.take()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.take()
			}
		}
	}()
	return s
}

// take records one sample now and returns it with the VmHWM.
func (s *memSampler) take() (MemorySample, int64) {
	now := time.Now()
	m, err := s.p.mem()
	smp := MemorySample{Seconds: round3(now.Sub(s.begin).Seconds()), RSSBytes: m.RSS,
		HeapInuseBytes: -1, GoSysBytes: -1, StoreCacheBytes: -1, UserActorsActive: -1, Goroutines: -1}
	if b, merr := s.api.Metrics(context.Background()); merr == nil {
		v := promValues(b, "go_memstats_heap_inuse_bytes", "go_memstats_sys_bytes", "herald_store_block_cache_bytes", "herald_store_memtable_bytes",
			"herald_user_actors_active", "go_goroutines")
		for name, to := range map[string]*int64{"go_memstats_heap_inuse_bytes": &smp.HeapInuseBytes, "go_memstats_sys_bytes": &smp.GoSysBytes,
			"herald_user_actors_active": &smp.UserActorsActive, "go_goroutines": &smp.Goroutines} {
			if x, ok := v[name]; ok {
				*to = int64(x)
			}
		}
		cache, cok := v["herald_store_block_cache_bytes"]
		mt, mok := v["herald_store_memtable_bytes"]
		if cok && mok {
			smp.StoreCacheBytes = int64(cache + mt)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return smp, 0
	}
	s.samples = append(s.samples, smp)
	return smp, m.HWM
}

func (s *memSampler) stop() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
}

// peakSince is the highest RSS sampled at or after t_s = from.
func (s *memSampler) peakSince(from float64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p int64
	for _, x := range s.samples {
		if x.Seconds >= from {
			p = max(p, x.RSSBytes)
		}
	}
	return p
}

// promValues reads the named unlabelled (or summed over labels) samples
// from a Prometheus text exposition.
func promValues(b []byte, names ...string) map[string]float64 {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		end := bytes.IndexAny(line, "{ ")
		if end < 0 || !want[string(line[:end])] {
			continue
		}
		f := bytes.Fields(line[bytes.LastIndexByte(line, '}')+1:])
		if len(f) == 0 {
			continue
		}
		if bytes.IndexByte(line, '}') < 0 {
			f = f[1:] // "name value [timestamp]"
		}
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(string(f[0]), 64)
		if err == nil {
			out[string(line[:end])] += v
		}
	}
	return out
}

// runMemory: register --users, make --active-users active (presence
// online, which activates their user actors), fan one group message out
// to --group-size offline users, sampling the daemon's memory throughout.
func runMemory(ctx context.Context, e *runEnv) error {
	sc := e.sc
	if e.loc == nil {
		return errors.New("bench: the memory scenario reads the daemon's RSS from /proc: it needs a daemon the harness starts (not --target)")
	}
	pop := newPopulation(e.run, sc)
	users := pop.add("u", sc.Users, false)
	mr := &MemoryReport{Users: int64(sc.Users), ActiveUsers: int64(sc.ActiveUsers), GroupSize: int64(sc.GroupSize),
		IdleTimeout: e.cfg.Users.IdleTimeout.String(), Scope: "daemon", PID: e.loc.PID, IntervalS: memInterval.Seconds(), Phases: []MemoryPhase{}}
	if e.loc.PID == 0 {
		mr.Scope = "whole_process"
	}
	e.rep.Memory = mr
	sm := startMemSampler(newProc(e.loc.PID), e.api, memInterval)
	defer sm.stop()
	mr.Baseline, _ = sm.take()
	mr.Baseline.Seconds = 0
	phaseStart := 0.0
	mark := func(name, desc string) MemoryPhase {
		smp, hwm := sm.take()
		ph := MemoryPhase{Name: name, Description: desc, StartS: phaseStart, EndS: smp.Seconds, RSSBytes: smp.RSSBytes, HWMBytes: hwm,
			HeapInuseBytes: smp.HeapInuseBytes, UserActorsActive: smp.UserActorsActive, PeakRSSBytes: sm.peakSince(phaseStart)}
		mr.Phases = append(mr.Phases, ph)
		phaseStart = smp.Seconds
		e.logf("memory %s: RSS %s MiB (peak in phase %s MiB, VmHWM %s MiB), heap in use %s MiB, user actors %d", name,
			mib(ph.RSSBytes), mib(ph.PeakRSSBytes), mib(ph.HWMBytes), mib(max(ph.HeapInuseBytes, 0)), ph.UserActorsActive)
		return ph
	}

	if err := e.setupAndLog(ctx, []*userSet{users}, nil); err != nil {
		return err
	}
	reg := mark(PhaseRegistered, fmt.Sprintf("%d users registered through POST /v1/devices/batch (%d devices)", sc.Users, e.rep.Setup.Devices))

	e.prog.phase("activity")
	if err := e.activate(ctx, users, sc.ActiveUsers); err != nil {
		return err
	}
	act := mark(PhaseActive, fmt.Sprintf("%d users online (POST /v1/presence, ttl 1h): their user actors activated", sc.ActiveUsers))

	expected := map[string]int64{}
	tr := newTracker(e.run, e.tl)
	fk := tr.kind('f', "notifications_counted")
	stop, _, base, heraldBase, pollSeries, err := e.watchBaseline(ctx, tr, "the delivery latency is not measured")
	if err != nil {
		return err
	}
	defer stop()
	end := time.Now()
	if sc.GroupSize > 0 {
		// The group is the last group_size users: offline unless they
		// overlap the active (online) ones, which are owed nothing.
		first := sc.Users - sc.GroupSize
		members := make([]string, 0, sc.GroupSize)
		for i := first; i < sc.Users; i++ {
			members = append(members, users.id(i))
			if i >= sc.ActiveUsers {
				users.addExpected(expected, i)
			}
		}
		e.prog.phase("fan-out")
		group := "g-" + e.run
		if err := addGroupMembers(ctx, e.api, group, members, sc.SetupWorkers); err != nil {
			return err
		}
		e.rep.Setup.Groups = 1
		want := total(expected)
		e.prog.expected.Store(want)
		if err := e.beginMeasure(); err != nil {
			return err
		}
		sent := time.Now()
		e.tl.SetStart(sent)
		fk.times.set(0, sent.UnixNano())
		ans, err := e.sendMessage(messageID('f', e.run, 0), "s-"+e.run, "group", group)
		if err != nil {
			return fmt.Errorf("bench: the group message: %w", err)
		}
		if ans.Offline != nil && *ans.Offline != int64(sc.GroupSize-max(sc.ActiveUsers-first, 0)) {
			e.rep.note("herald answered %d offline recipients, the harness expected %d", *ans.Offline, sc.GroupSize-max(sc.ActiveUsers-first, 0))
		}
		done, err := e.countedOrTimeout(ctx, base, want, pollSeries)
		if err != nil {
			return err
		}
		e.stopProc()
		_, _, last := fk.snapshot()
		end = maxTime(done, last)
		if d := end.Sub(sent).Seconds(); d > 0 {
			e.rep.metric("fanout_seconds", d, "s")
			e.rep.metric("notifications_per_second", float64(want)/d, "1/s")
		}
		mark(PhaseFannedOut, fmt.Sprintf("one group message to %d users, every notification counted", sc.GroupSize))
	}
	final, err := e.settle(ctx)
	if err != nil {
		return err
	}
	stop()
	sm.stop()
	e.finish(final, base, expected, heraldBase, end)
	if _, hwm := sm.take(); hwm > 0 {
		mr.PeakRSSBytes = hwm
	}
	sm.mu.Lock()
	for _, s := range sm.samples {
		mr.SampledPeakRSSBytes = max(mr.SampledPeakRSSBytes, s.RSSBytes)
	}
	// VmHWM lags VmRSS (procWatch.stop): the peak is at least every sample.
	mr.PeakRSSBytes = max(mr.PeakRSSBytes, mr.SampledPeakRSSBytes)
	mr.Samples = thinMemSamples(sm.samples, 600)
	if sm.err != nil {
		e.rep.note("memory samples: %v", sm.err)
	}
	sm.mu.Unlock()

	e.rep.metric("rss_baseline_mib", mibF(mr.Baseline.RSSBytes), "MiB")
	e.rep.metric("rss_registered_mib", mibF(reg.RSSBytes), "MiB")
	e.rep.metric("rss_active_mib", mibF(act.RSSBytes), "MiB")
	if f := mr.Phase(PhaseFannedOut); f != nil {
		e.rep.metric("rss_fanned_out_mib", mibF(f.RSSBytes), "MiB")
	}
	// VmHWM is updated lazily (when the RSS is about to shrink), so a
	// sample may have seen a little more: the peak is the higher of both.
	e.rep.metric("peak_rss_mib", mibF(max(mr.PeakRSSBytes, mr.SampledPeakRSSBytes)), "MiB")
	e.rep.metric("user_actors_active", float64(act.UserActorsActive), "actors")
	if mr.Baseline.HeapInuseBytes >= 0 && reg.HeapInuseBytes >= 0 && sc.Users > 0 {
		e.rep.metric("heap_per_registered_user", float64(reg.HeapInuseBytes-mr.Baseline.HeapInuseBytes)/float64(sc.Users), "bytes")
	}
	if act.HeapInuseBytes >= 0 && reg.HeapInuseBytes >= 0 && sc.ActiveUsers > 0 {
		e.rep.metric("heap_per_active_user", float64(act.HeapInuseBytes-reg.HeapInuseBytes)/float64(sc.ActiveUsers), "bytes")
	}
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	return nil
}

// activate puts users [0, n) online (one presence update per device, 1000
// per request, setup_workers requests in flight).
func (e *runEnv) activate(ctx context.Context, users *userSet, n int) error {
	const batch = 1000
	var reqs [][]byte
	var ups []PresenceUpdate
	flush := func() error {
		if len(ups) == 0 {
			return nil
		}
		b, err := json.Marshal(map[string][]PresenceUpdate{"updates": ups})
		reqs, ups = append(reqs, b), nil
		return err
	}
	for i := 0; i < n; i++ {
		for j := 0; j < users.dpu; j++ {
			ups = append(ups, PresenceUpdate{UserID: users.id(i), DeviceID: "d" + strconv.Itoa(j), Online: true, TTLS: 3600})
			if len(ups) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return parallel(ctx, len(reqs), e.sc.SetupWorkers, func(i int) error {
		return setup(e.api).Do(ctx, true, "POST", "/v1/presence", reqs[i], nil)
	})
}

func mibF(b int64) float64 { return float64(b) / (1 << 20) }

// thinMemSamples keeps at most n samples, evenly spaced, the first and
// last always.
func thinMemSamples(s []MemorySample, n int) []MemorySample {
	if len(s) <= n {
		return append([]MemorySample{}, s...)
	}
	out := make([]MemorySample, 0, n)
	for i := range n {
		out = append(out, s[i*(len(s)-1)/(n-1)])
	}
	return out
}
