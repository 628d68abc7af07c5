package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/herald-push/herald/client"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// herald's circuit breaker (actors/breaker.go), as the outage scenario
// bounds what a down vendor receives: it opens after breakerTrips batches
// in a row failed wholly for transient reasons, stays open breakerMinOpen
// (or the vendor's retry.initial_backoff when longer), then lets one probe
// batch through, doubling the open period after each failed probe up to
// breakerMaxOpen.
const (
	breakerTrips   = 3
	breakerMinOpen = time.Second
	breakerMaxOpen = 30 * time.Second
)

// OutageReport is the outage scenario's account: one vendor's simulator
// answered every request with that vendor's transient failure for a
// while during a fan-out.
type OutageReport struct {
	Vendor string `json:"vendor"`
	// AfterS and Seconds are the outage's planned start (after the group
	// message's 2xx) and length; StartS and EndS when the simulator went
	// down and up again, seconds since the 2xx.
	AfterS  float64 `json:"after_s"`
	Seconds float64 `json:"seconds"`
	StartS  float64 `json:"start_s"`
	EndS    float64 `json:"end_s"`
	// Expected is the vendor's notifications owed; DeliveredBefore,
	// DeliveredDuring and DeliveredAfter the vendor's unique notifications
	// counted before the outage began, while it lasted (requests already
	// inside the simulator when it went down) and after it ended.
	Expected        int64 `json:"expected"`
	DeliveredBefore int64 `json:"delivered_before"`
	DeliveredDuring int64 `json:"delivered_during"`
	DeliveredAfter  int64 `json:"delivered_after"`
	// Requests is what the vendor's simulator refused while down: every
	// request herald sent it (sends, and any auth call). RequestBound is
	// what the circuit breaker should allow: what max_in_flight lets out
	// before breaker_trips batches have failed, plus one probe per open
	// period; WithinBound says Requests <= RequestBound.
	Requests     int64 `json:"requests"`
	RequestBound int64 `json:"request_bound"`
	WithinBound  bool  `json:"within_bound"`
	MaxInFlight  int   `json:"max_in_flight"`
	Probes       int64 `json:"probes"` // open periods that fit in the outage: the bound's probes
	// BreakerOpened is how often herald's breaker for the vendor opened
	// (GET /v1/stats breaker_opened, over the measured phase; -1 = not
	// reported) and Transitions every breaker state change seen by
	// polling /v1/stats every PollS seconds, for every vendor.
	BreakerOpened int64               `json:"breaker_opened"`
	PollS         float64             `json:"poll_s"`
	Transitions   []BreakerTransition `json:"transitions"`
	// RecoverySeconds is from the outage's end to the vendor's last
	// notification counted.
	RecoverySeconds float64 `json:"recovery_seconds"`
	// DeadLetters is herald's dead letters of this run per vendor (GET
	// /v1/admin/dead-letters): any fails the run.
	DeadLetters []VendorCount `json:"dead_letters"`
}

// BreakerTransition is one change of a vendor's circuit breaker state.
type BreakerTransition struct {
	Seconds float64 `json:"t_s"` // since the group message's 2xx
	Vendor  string  `json:"vendor"`
	From    string  `json:"from"`
	To      string  `json:"to"` // closed, open, half_open
}

// VendorCount is a count for one vendor.
type VendorCount struct {
	Vendor string `json:"vendor"`
	Count  int64  `json:"count"`
}

// outageRequestBound is what herald's breaker lets reach a vendor that is
// down for d: the requests in flight when it went down and those started
// before breaker_trips batches had failed (at most (trips+1)·max_in_flight
// for either kind of vendor: a per-target batch holds at most
// max_in_flight requests, a batch vendor's one), plus one probe request per
// open period, and the number of those periods.
func outageRequestBound(maxInFlight int, initialBackoff, d time.Duration) (bound, probes int64) {
	open := min(max(breakerMinOpen, initialBackoff), breakerMaxOpen)
	for t := open; t <= d; t += open {
		probes++
		open = min(2*open, breakerMaxOpen)
	}
	return int64((breakerTrips+1)*max(maxInFlight, 1)) + probes + 1, probes
}

// runOutage: a fan-out to N offline users during which one vendor's
// simulator is down for a while; nothing may be lost or dead-lettered.
func runOutage(ctx context.Context, e *runEnv) error {
	sc := e.sc
	f, err := e.setupFanout(ctx, "the vendor's last notification is timed by polling")
	if err != nil {
		return err
	}
	defer f.stop()
	users, fk, stop, receipts := f.users, f.fk, f.stop, f.receipts

	vendor := sc.OutageVendor
	expected := users.expected()
	want := total(expected)
	or := &OutageReport{Vendor: vendor, AfterS: sc.OutageAfter.Std().Seconds(), Seconds: sc.Outage.Std().Seconds(),
		Expected: expected[vendor], BreakerOpened: -1, PollS: outagePoll.Seconds(), Transitions: []BreakerTransition{}, DeadLetters: []VendorCount{}}
	e.rep.Outage = or
	if vc, ok := e.cfg.Vendors.ByName()[vendor]; ok {
		or.MaxInFlight = vc.Limits.MaxInFlight
		or.RequestBound, or.Probes = outageRequestBound(vc.Limits.MaxInFlight, vc.Retry.InitialBackoff.Std(), sc.Outage.Std())
	}
	refused0, err := e.sims.Outages(ctx)
	if err != nil {
		return fmt.Errorf("bench: the simulators cannot take a vendor down (GET /sim/outage): %w", err)
	}
	// Whatever happens, the vendor comes back up.
	defer func() { _ = e.sims.SetOutage(context.Background(), vendor, false) }()

	g, err := e.measuredGroupMessage(ctx, receipts, fk, f.sender, f.group, users.n, want)
	if err != nil {
		return err
	}
	base, heraldBase, acked := g.base, g.heraldBase, g.acked
	w := e.watchBreakers(ctx, acked, heraldBase, refused0[vendor].Refused, vendor)
	defer w.stop()

	// The outage: down outage_after after the 2xx, up again outage later.
	var atStart, atEnd map[string]simkit.Stats
	var start, end time.Time
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	if err := sleep(time.Until(acked.Add(sc.OutageAfter.Std()))); err != nil {
		return err
	}
	if err := e.sims.SetOutage(ctx, vendor, true); err != nil {
		return err
	}
	start = time.Now()
	e.prog.phase("outage " + vendor)
	if atStart, err = e.sims.Stats(ctx); err != nil {
		return err
	}
	if err := sleep(sc.Outage.Std()); err != nil {
		return err
	}
	if atEnd, err = e.sims.Stats(ctx); err != nil {
		return err
	}
	if err := e.sims.SetOutage(ctx, vendor, false); err != nil {
		return err
	}
	end = time.Now()
	e.prog.phase("recovery")
	done, final, err := e.awaitCounted(ctx, base, want, g.pollSeries)
	if err != nil {
		return err
	}
	w.stop()
	stop()
	_, _, last := fk.snapshot()
	if !receipts {
		last = done
	}
	e.finish(final, base, expected, heraldBase, maxTime(last, end))

	or.StartS, or.EndS = round3(start.Sub(acked).Seconds()), round3(end.Sub(acked).Seconds())
	unique := func(st map[string]simkit.Stats) int64 { return st[vendor].Unique - base[vendor].Unique }
	or.DeliveredBefore = unique(atStart)
	or.DeliveredDuring = unique(atEnd) - or.DeliveredBefore
	or.DeliveredAfter = unique(final) - unique(atEnd)
	or.Requests = w.refusedDuring()
	or.WithinBound = or.RequestBound == 0 || or.Requests <= or.RequestBound
	or.Transitions = w.transitionList()
	if hb := diffHerald(e.heraldStats(), heraldBase); hb[vendor].Breaker != "" {
		or.BreakerOpened = hb[vendor].BreakerOpened
	} else {
		e.rep.note("herald's GET /v1/stats does not report its circuit breakers: breaker_opened is not measured")
	}
	vLast := last
	if receipts {
		if t, ok := fk.lastByVendor()[vendor]; ok {
			vLast = t
		}
	}
	if or.DeliveredAfter > 0 {
		or.RecoverySeconds = round3(max(vLast.Sub(end).Seconds(), 0))
	}

	dead, err := e.deadLetters(ctx)
	if err != nil {
		e.rep.fail("dead letters not read: %v", err)
	}
	or.DeadLetters = dead
	var deadTotal int64
	for _, d := range dead {
		deadTotal += d.Count
		if d.Count > 0 {
			e.rep.fail("%d dead letters for %s", d.Count, d.Vendor)
		}
	}
	if or.DeliveredBefore >= or.Expected {
		e.rep.fail("every %s notification arrived before the outage began (%.3fs after the 2xx): it tested nothing; give a larger --users or a smaller --outage-after", vendor, or.StartS)
	}
	if !or.WithinBound {
		e.rep.note("%s's simulator got %d requests while down, above the %d herald's circuit breaker should let through", vendor, or.Requests, or.RequestBound)
	}
	if or.BreakerOpened == 0 {
		e.rep.note("herald's circuit breaker for %s never opened during the outage", vendor)
	}

	t := e.rep.Totals
	e.rep.metric("lost", float64(t.Lost), "notifications")
	e.rep.metric("duplicates", float64(t.Duplicates), "notifications")
	e.rep.metric("outage_seconds", end.Sub(start).Seconds(), "s")
	e.rep.metric("outage_requests", float64(or.Requests), "requests")
	e.rep.metric("outage_request_bound", float64(or.RequestBound), "requests")
	e.rep.metric("breaker_opened", float64(or.BreakerOpened), "times")
	e.rep.metric("dead_letters", float64(deadTotal), "notifications")
	e.rep.metric("recovery_seconds", or.RecoverySeconds, "s")
	e.rep.metric("fanout_seconds", maxTime(last, acked).Sub(acked).Seconds(), "s")
	return nil
}

// outagePoll is how often the outage scenario reads herald's breakers and
// the simulator's refused requests.
const outagePoll = 100 * time.Millisecond

// breakerWatch polls GET /v1/stats (breaker states) and GET /sim/outage
// (requests refused by the down vendor) until stopped.
type breakerWatch struct {
	quit, done chan struct{}
	once       sync.Once

	mu          sync.Mutex
	transitions []BreakerTransition
	refused     int64 // by the outage vendor since the watch began
}

func (e *runEnv) watchBreakers(ctx context.Context, t0 time.Time, heraldBase map[string]heraldVendor, refused0 int64, vendor string) *breakerWatch {
	w := &breakerWatch{quit: make(chan struct{}), done: make(chan struct{})}
	series := e.tl.Series("outage_requests_refused", "requests/s")
	state := map[string]string{}
	for k, v := range heraldBase {
		state[k] = v.Breaker
	}
	prevRefused := refused0
	poll := func() {
		now := time.Now()
		for k, v := range e.heraldStats() {
			if v.Breaker != "" && v.Breaker != state[k] {
				w.mu.Lock()
				w.transitions = append(w.transitions, BreakerTransition{Seconds: round3(now.Sub(t0).Seconds()), Vendor: k, From: state[k], To: v.Breaker})
				w.mu.Unlock()
				state[k] = v.Breaker
			}
		}
		if st, err := e.sims.Outages(ctx); err == nil {
			r := st[vendor].Refused
			if r > prevRefused {
				e.tl.Add(series, now, r-prevRefused)
			}
			prevRefused = r
			w.mu.Lock()
			w.refused = r - refused0
			w.mu.Unlock()
		}
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(outagePoll)
		defer t.Stop()
		for {
			select {
			case <-w.quit:
				poll()
				return
			case <-t.C:
				poll()
			}
		}
	}()
	return w
}

// stop ends the polling after a last poll (idempotent).
func (w *breakerWatch) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

func (w *breakerWatch) refusedDuring() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused
}

func (w *breakerWatch) transitionList() []BreakerTransition {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]BreakerTransition{}, w.transitions...)
}

// deadLetters counts herald's dead letters of this run's messages for
// every vendor (GET /v1/admin/dead-letters?vendor=K, paged; with
// --target the API key needs the admin scope). Dead letters of other
// messages are noted, not counted.
func (e *runEnv) deadLetters(ctx context.Context) ([]VendorCount, error) {
	var names []string
	for _, k := range vendors.Kinds() {
		names = append(names, string(k))
	}
	sort.Strings(names)
	out := []VendorCount{}
	var other int64
	for _, v := range names {
		var n int64
		after := ""
		for {
			page, err := setup(e.api).DeadLetters(ctx, v, client.Page{After: after, Limit: 1000})
			if err != nil {
				return out, err
			}
			for _, d := range page.DeadLetters {
				if strings.Contains(d.MessageID, "-"+e.run+"-") {
					n++
				} else {
					other++
				}
			}
			if page.Next == "" || ctx.Err() != nil {
				break
			}
			after = page.Next
		}
		out = append(out, VendorCount{Vendor: v, Count: n})
	}
	if other > 0 {
		e.rep.note("herald holds %d dead letters of messages from before this run (not counted)", other)
	}
	return out, ctx.Err()
}
