package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// runFanout: N offline users in one group, one group message, measured from
// its 2xx to the last notification counted at the simulators.
func runFanout(ctx context.Context, e *runEnv) error {
	f, err := e.setupFanout(ctx, "the delivery latency is not measured and the last notification is timed by polling")
	if err != nil {
		return err
	}
	defer f.stop()
	users, fk, stop, receipts := f.users, f.fk, f.stop, f.receipts
	expected := users.expected()
	if e.floor == FloorBefore {
		if err := e.runFloors(ctx, expected); err != nil {
			return err
		}
	}

	want := total(expected)
	g, err := e.measuredGroupMessage(ctx, receipts, fk, f.sender, f.group, users.n, want)
	if err != nil {
		return err
	}
	base, heraldBase, sent, acked := g.base, g.heraldBase, g.sent, g.acked
	// The measured phase ends with the last expected notification: the
	// daemon's CPU is taken there, before the settle wait.
	done, final, err := e.awaitCounted(ctx, base, want, g.pollSeries)
	if err != nil {
		return err
	}
	stop()
	hist, count, last := fk.snapshot()
	if !receipts || count == 0 {
		last = done
	}
	wall := last.Sub(acked)
	e.finish(final, base, expected, heraldBase, last)
	lastBy := fk.lastByVendor()
	for i := range e.rep.Vendors {
		v := &e.rep.Vendors[i]
		end, ok := lastBy[v.Vendor]
		if !receipts || !ok {
			end = last
		}
		if d := end.Sub(acked).Seconds(); d > 0 {
			v.PerSecond = round3(float64(v.Unique) / d)
		}
	}
	if e.floor == FloorAfter {
		if err := e.runFloors(ctx, expected); err != nil {
			return err
		}
	}
	e.rep.fillFloorRatios()
	t := e.rep.Totals
	e.rep.metric("wall_seconds", wall.Seconds(), "s")
	if wall > 0 {
		e.rep.metric("notifications_per_second", float64(t.Unique)/wall.Seconds(), "1/s")
	}
	e.rep.metric("from_send_seconds", last.Sub(sent).Seconds(), "s")
	e.rep.metric("accept_ms", float64(acked.Sub(sent))/float64(time.Millisecond), "ms")
	e.rep.metric("lost", float64(t.Lost), "notifications")
	e.rep.metric("duplicates", float64(t.Duplicates), "notifications")
	if receipts {
		e.rep.Latencies = append(e.rep.Latencies, Summarize("delivery",
			"group message sent → each of its notifications counted at a simulator", hist))
	}
	return nil
}

// fanoutRun is a fan-out scenario's users, set up and warmed: the
// measured group and its sender, the tracker kind of the group message's
// notifications ('f'), and the receipt hook (stop; receipts false when the
// simulators do not report receipts).
type fanoutRun struct {
	users         *userSet
	group, sender string
	fk            *msgKind
	stop          func()
	receipts      bool
}

// setupFanout registers a warm-up group of warmup_users and the measured
// group of users (all offline), installs the receipt hook (noting
// without when there are no receipts) and messages the warm-up group.
// The caller defers the returned stop.
func (e *runEnv) setupFanout(ctx context.Context, without string) (*fanoutRun, error) {
	return e.setupFanoutWith(ctx, without, nil)
}

// setupFanoutWith is setupFanout whose prepare, when set, sees the run's
// users and tracker before the receipt hook is installed: it registers
// further message kinds and hooks there (the tracker is read by the
// simulators' goroutines from then on).
func (e *runEnv) setupFanoutWith(ctx context.Context, without string, prepare func(users *userSet, tr *tracker)) (*fanoutRun, error) {
	pop := newPopulation(e.run, e.sc)
	warm := pop.add("w", e.sc.WarmupUsers, false)
	f := &fanoutRun{users: pop.add("u", e.sc.Users, false), group: "g-" + e.run, sender: "s-" + e.run}
	warmGroup := "gw-" + e.run
	if err := e.setupAndLog(ctx, []*userSet{warm, f.users}, map[string][]string{warmGroup: warm.ids(), f.group: f.users.ids()}); err != nil {
		return nil, err
	}
	tr := newTracker(e.run, e.tl)
	f.fk = tr.kind('f', "notifications_counted")
	if prepare != nil {
		prepare(f.users, tr)
	}
	var err error
	if f.stop, f.receipts, err = e.watch(tr, without); err != nil {
		return nil, err
	}
	if err := e.warmupGroup(ctx, warm, f.sender, warmGroup); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// warmupGroup messages the warm-up group (when it has users) and waits
// until the simulators counted all of its notifications and herald's own
// counters caught up: connections, TLS and actors are warm, and nothing
// of it leaks into the measured phase.
func (e *runEnv) warmupGroup(ctx context.Context, warm *userSet, sender, group string) error {
	if warm.n == 0 {
		return nil
	}
	e.prog.phase("warm-up")
	base, err := e.sims.Stats(ctx)
	if err != nil {
		return err
	}
	warmHerald := e.heraldStats()
	if _, err := e.sendMessage(messageID('w', e.run, 0), sender, "group", group); err != nil {
		return fmt.Errorf("bench: warm-up message: %w", err)
	}
	want := total(warm.expected())
	e.prog.expected.Store(want)
	_, done, err := e.waitCounted(ctx, base, want, e.sc.Timeout.Std(), -1)
	if err != nil {
		return err
	}
	if done.IsZero() {
		return fmt.Errorf("bench: the warm-up group's %d notifications did not all arrive within %s", want, e.sc.Timeout)
	}
	e.waitHeraldSent(warmHerald, want)
	return nil
}

// groupSend is the measured group message of a fan-out scenario: the
// counters before it, when it was sent and when its 2xx came.
type groupSend struct {
	base        map[string]simkit.Stats
	heraldBase  map[string]heraldVendor
	pollSeries  int
	sent, acked time.Time
}

// measuredGroupMessage takes the baseline, starts the measured phase and
// sends the fan-out's group message (kind fk, seq 0) to group, whose
// members number members and are owed want notifications.
func (e *runEnv) measuredGroupMessage(ctx context.Context, receipts bool, fk *msgKind, sender, group string, members int, want int64) (groupSend, error) {
	e.prog.phase("fan-out")
	e.prog.expected.Store(want)
	e.prog.counted.Store(0)
	var g groupSend
	var err error
	if g.base, g.heraldBase, g.pollSeries, err = e.baseline(ctx, receipts); err != nil {
		return g, err
	}
	if err := e.beginMeasure(); err != nil {
		return g, err
	}
	g.sent = time.Now()
	e.tl.SetStart(g.sent)
	fk.times.set(0, g.sent.UnixNano())
	ans, err := e.sendMessage(messageID('f', e.run, 0), sender, "group", group)
	g.acked = time.Now()
	if err != nil {
		return g, fmt.Errorf("bench: the group message: %w", err)
	}
	e.prog.load.sent.Add(1)
	e.prog.load.ok.Add(1)
	if ans.Recipients != int64(members) {
		e.rep.note("herald answered %d recipients for a group of %d", ans.Recipients, members)
	}
	return g, nil
}
