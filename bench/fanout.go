package bench

import (
	"context"
	"fmt"
	"time"
)

// runFanout: N offline users in one group, one group message, measured from
// its 2xx to the last notification counted at the simulators.
func runFanout(ctx context.Context, e *runEnv) error {
	sc := e.sc
	pop := newPopulation(e.run, sc)
	warm := pop.add("w", sc.WarmupUsers, false)
	users := pop.add("u", sc.Users, false)
	group, warmGroup := "g-"+e.run, "gw-"+e.run
	sender := "s-" + e.run
	if err := e.setupAndLog(ctx, []*userSet{warm, users}, map[string][]string{warmGroup: warm.ids(), group: users.ids()}); err != nil {
		return err
	}

	tr := newTracker(e.run, e.tl)
	fk := tr.kind('f', "notifications_counted")
	stop, receipts, err := e.watch(tr, "the delivery latency is not measured and the last notification is timed by polling")
	if err != nil {
		return err
	}
	defer stop()

	if warm.n > 0 {
		e.prog.phase("warm-up")
		base, err := e.sims.Stats(ctx)
		if err != nil {
			return err
		}
		warmHerald := e.heraldStats()
		if _, err := e.sendMessage(messageID('w', e.run, 0), sender, "group", warmGroup); err != nil {
			return fmt.Errorf("bench: warm-up message: %w", err)
		}
		want := total(warm.expected())
		e.prog.expected.Store(want)
		_, done, err := e.waitCounted(ctx, base, want, sc.Timeout.Std(), -1)
		if err != nil {
			return err
		}
		if done.IsZero() {
			return fmt.Errorf("bench: the warm-up group's %d notifications did not all arrive within %s", want, sc.Timeout)
		}
		e.waitHeraldSent(warmHerald, want)
	}

	expected := users.expected()
	if e.floor == FloorBefore {
		if err := e.runFloors(ctx, expected); err != nil {
			return err
		}
	}

	e.prog.phase("fan-out")
	want := total(expected)
	e.prog.expected.Store(want)
	e.prog.counted.Store(0)
	base, heraldBase, pollSeries, err := e.baseline(ctx, receipts)
	if err != nil {
		return err
	}
	if err := e.beginMeasure(); err != nil {
		return err
	}
	sent := time.Now()
	e.tl.SetStart(sent)
	fk.times.set(0, sent.UnixNano())
	ans, err := e.sendMessage(messageID('f', e.run, 0), sender, "group", group)
	acked := time.Now()
	if err != nil {
		return fmt.Errorf("bench: the group message: %w", err)
	}
	e.prog.load.sent.Add(1)
	e.prog.load.ok.Add(1)
	if ans.Recipients != int64(users.n) {
		e.rep.note("herald answered %d recipients for a group of %d", ans.Recipients, users.n)
	}
	done, err := e.countedOrTimeout(ctx, base, want, pollSeries)
	if err != nil {
		return err
	}
	// The measured phase ends with the last expected notification: the
	// daemon's CPU is taken here, before the settle wait.
	e.stopProc()
	final, err := e.settle(ctx)
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
