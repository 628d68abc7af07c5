package bench

import (
	"context"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// runPeer: peer messages to offline users at a steady rate (open loop), for
// ingress throughput, accept latency and ingress-to-simulator latency.
func runPeer(ctx context.Context, e *runEnv) error {
	sc := e.sc
	if sc.Ramp != "" {
		return runPeerRamp(ctx, e)
	}
	users, sender, err := e.setupPeerUsers(ctx)
	if err != nil {
		return err
	}

	tr := newTracker(e.run, e.tl)
	pk := tr.kind('p', "notifications_counted")
	stop, receipts, base, heraldBase, pollSeries, err := e.watchBaseline(ctx, tr, "the ingress-to-simulator latency is not measured")
	if err != nil {
		return err
	}
	defer stop()

	var mu sync.Mutex
	expected := map[string]int64{}
	// Users are visited in a stride so consecutive messages hit different
	// shards and vendors.
	stride := coprimeStride(users.n)
	load := &Load{Name: "peer", Rate: sc.Rate, Warmup: sc.Warmup.Std(), Duration: sc.Duration.Std(), Workers: sc.Conns,
		Schedule: func(seq int64, intended time.Time) { pk.times.set(seq, intended.UnixNano()) },
		Do: func(seq int64) error {
			u := int((seq * int64(stride)) % int64(users.n))
			ans, err := e.sendMessage(messageID('p', e.run, seq), sender, "peer", users.id(u))
			if err != nil {
				return err
			}
			if ans.Offline == nil || *ans.Offline > 0 {
				mu.Lock()
				users.addExpected(expected, u)
				mu.Unlock()
			}
			return nil
		}}
	m, err := e.measuredLoads(ctx, []*Load{load}, []*msgKind{pk}, base, pollSeries, &mu, expected, stop, receipts)
	if err != nil {
		return err
	}
	res, start, final, last := m.results[0], m.start, m.final, m.last
	hist, _, _ := pk.snapshot()
	e.finish(final, base, expected, heraldBase, maxTime(last, res.LastAnswer))
	e.loadNotes(res)
	measured := load.Duration.Seconds()
	e.rep.metric("target_rate", sc.Rate, "messages/s")
	e.rep.metric("sent", float64(res.Sent), "messages")
	e.rep.metric("errors", float64(res.Errors), "messages")
	e.rep.metric("ingress_per_second", float64(res.InWindow)/measured, "messages/s")
	e.rep.metric("notifications_per_second", float64(e.rep.Totals.Unique)/last.Sub(start).Seconds(), "1/s")
	e.rep.metric("drain_seconds", max(last.Sub(res.LastAnswer).Seconds(), 0), "s")
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	acceptDesc := "intended send time (open-loop schedule) → 2xx answer"
	if sc.Rate <= 0 {
		acceptDesc = "closed loop: actual send → 2xx answer (coordinated omission not corrected)"
		e.rep.note("rate 0: closed loop with %d requests in flight; latency is from the actual send, so it understates what an open-loop client at that rate would see", sc.Conns)
	}
	e.rep.Latencies = append(e.rep.Latencies, Summarize("accept", acceptDesc, res.Latency))
	if receipts {
		e.rep.Latencies = append(e.rep.Latencies, Summarize("ingress_to_simulator",
			"intended send time → each notification counted at a simulator", hist))
	}
	return nil
}

// setupPeerUsers registers the peer scenario's users (all offline) and
// returns them with the sender's id.
func (e *runEnv) setupPeerUsers(ctx context.Context) (*userSet, string, error) {
	users := newPopulation(e.run, e.sc).add("u", e.sc.Users, false)
	if err := e.setupAndLog(ctx, []*userSet{users}, nil); err != nil {
		return nil, "", err
	}
	return users, "s-" + e.run, nil
}

// runLoad runs one load while feeding the counted-so-far into the
// progress line (and, without receipts, into the timeline).
func runLoad(ctx context.Context, l *Load, e *runEnv, base map[string]simkit.Stats, pollSeries int) *LoadResult {
	return runLoads(ctx, []*Load{l}, e, base, pollSeries)[0]
}

// runLoads runs loads side by side, polling the simulators meanwhile.
func runLoads(ctx context.Context, loads []*Load, e *runEnv, base map[string]simkit.Stats, pollSeries int) []*LoadResult {
	out := make([]*LoadResult, len(loads))
	var wg sync.WaitGroup
	for i, l := range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = l.Run(ctx, e.tl, &e.prog.load)
		}()
	}
	stopPoll := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		prev := e.prog.counted.Load()
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(200 * time.Millisecond):
			}
			st, err := e.sims.Stats(ctx)
			if err != nil {
				continue
			}
			got := sumStats(diffStats(st, base)).Unique
			e.prog.counted.Store(got)
			if pollSeries >= 0 && got > prev {
				e.tl.Add(pollSeries, time.Now(), got-prev)
			}
			prev = got
		}
	}()
	wg.Wait()
	close(stopPoll)
	<-polled
	return out
}

// coprimeStride is a step through [0, n) that visits every index.
func coprimeStride(n int) int {
	if n <= 2 {
		return 1
	}
	for s := n/2 + 1; s < n; s++ {
		if gcd(s, n) == 1 {
			return s
		}
	}
	return 1
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// measured is what measuredLoads did.
type measured struct {
	results []*LoadResult
	start   time.Time               // the loads' start
	final   map[string]simkit.Stats // the simulators' counters after the settle wait
	last    time.Time               // the latest notification of kinds counted (polled when there are no receipts)
}

// measuredLoads runs loads (all with the same warm-up and duration) as the
// measured phase, the kinds' latencies measured over the loads' measured
// part, then waits until the simulators counted what expected (guarded by
// mu, filled by the loads) holds beyond base, and stops the receipt hook.
func (e *runEnv) measuredLoads(ctx context.Context, loads []*Load, kinds []*msgKind, base map[string]simkit.Stats, pollSeries int,
	mu *sync.Mutex, expected map[string]int64, stop func(), receipts bool) (measured, error) {
	var m measured
	if err := e.beginMeasure(); err != nil {
		return m, err
	}
	warmup, dur := loads[0].Warmup, loads[0].Duration
	m.start = time.Now()
	e.tl.SetStart(m.start)
	for _, k := range kinds {
		k.window(m.start.Add(warmup), m.start.Add(warmup+dur))
	}
	e.prog.phase("warm-up")
	phaseTimer := time.AfterFunc(warmup, func() { e.prog.phase("measure") })
	defer phaseTimer.Stop()
	m.results = runLoads(ctx, loads, e, base, pollSeries)
	e.prog.phase("drain")
	mu.Lock()
	want := total(expected)
	mu.Unlock()
	e.prog.expected.Store(want)
	done, final, err := e.awaitCounted(ctx, base, want, pollSeries)
	if err != nil {
		return m, err
	}
	m.final = final
	stop()
	for _, k := range kinds {
		_, _, l := k.snapshot()
		m.last = maxTime(m.last, l)
	}
	if !receipts {
		m.last = done
	}
	return m, nil
}
