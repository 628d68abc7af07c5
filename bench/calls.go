package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/herald-push/herald/client"
)

// callsAvailable probes POST /v1/calls: a route that does not exist answers
// 404; one that does refuses the empty invitation with a 4xx naming a field.
func (e *runEnv) callsAvailable() (bool, error) {
	err := e.api.Do(context.Background(), false, "POST", "/v1/calls", []byte(`{}`), nil)
	code := client.StatusCode(err)
	switch {
	case code == 404:
		return false, nil
	case err != nil && code == 0:
		return false, err
	}
	return true, nil
}

// runCalls: call invitations to offline users while a group fan-out runs;
// ring latency is from an invitation's intended send time to the first
// notification counted at a simulator for one of the invitee's devices.
// Without the calls API the fan-out runs alone and the report says so.
func runCalls(ctx context.Context, e *runEnv) error {
	sc := e.sc
	avail, err := e.callsAvailable()
	if err != nil {
		return err
	}
	calls := int(math.Ceil(sc.CallRate * sc.Duration.Std().Seconds()))
	if !avail {
		e.rep.note("calls API not available (POST /v1/calls answered 404): no invitations were sent and ring latency was not measured; the fan-out ran alone")
		calls = 0
	}
	pop := newPopulation(e.run, sc)
	warm := pop.add("w", sc.WarmupUsers, false)
	users := pop.add("u", sc.Users, false)
	invitees := pop.add("i", calls, true)
	group, warmGroup, sender := "g-"+e.run, "gw-"+e.run, "s-"+e.run
	if err := e.setup(ctx, []*userSet{warm, users, invitees}, map[string][]string{warmGroup: warm.ids(), group: users.ids()}); err != nil {
		return err
	}

	tr := newTracker(e.run, e.tl)
	fk := tr.kind('f', "notifications_counted")
	// Ring latency: the first receipt on any device of invitee k after
	// call k's intended send time.
	var (
		callTimes seqTimes
		rmu       sync.Mutex
		rang      = map[int64]bool{}
		ring      = NewHistogram()
		ringSerie = e.tl.Series("rings", "calls/s")
	)
	prefix := pop.tokenPrefix()
	tr.byToken = func(token string, at time.Time) {
		idx, ok := tokenIndex(strings.Replace(token, prefix+"v", prefix, 1), prefix)
		if !ok || idx < invitees.firstDev || idx >= invitees.firstDev+int64(invitees.n*invitees.dpu) {
			return
		}
		k := (idx - invitees.firstDev) / int64(invitees.dpu)
		intended, known := callTimes.get(k)
		rmu.Lock()
		defer rmu.Unlock()
		if !known || rang[k] {
			return
		}
		rang[k] = true
		ring.RecordValue(at.UnixNano() - intended)
		e.tl.Add(ringSerie, at, 1)
	}
	stop, receipts, err := e.watch(tr, "the delivery and ring latencies are not measured")
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
		if _, done, err := e.waitCounted(ctx, base, total(warm.expected()), sc.Timeout.Std(), -1); err != nil {
			return err
		} else if done.IsZero() {
			return fmt.Errorf("bench: the warm-up group's notifications did not all arrive within %s", sc.Timeout)
		}
		e.waitHeraldSent(warmHerald, total(warm.expected()))
	}

	e.prog.phase("fan-out+calls")
	e.prog.counted.Store(0)
	expected := users.expected()
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
	if _, err := e.sendMessage(messageID('f', e.run, 0), sender, "group", group); err != nil {
		return fmt.Errorf("bench: the group message: %w", err)
	}
	acked := time.Now()
	var res *LoadResult
	var emu sync.Mutex
	if calls > 0 {
		load := &Load{Name: "calls", Rate: sc.CallRate, Duration: sc.Duration.Std(), Workers: sc.Conns,
			Schedule: func(seq int64, intended time.Time) { callTimes.set(seq, intended.UnixNano()) },
			Do: func(seq int64) error {
				if seq >= int64(invitees.n) {
					return nil
				}
				timeout := int64(600)
				ans, err := e.api.InviteCall(context.Background(), client.CallRequest{CallID: messageID('c', e.run, seq), Inviter: sender,
					Invitees: []string{invitees.id(int(seq))}, TimeoutS: &timeout,
					Push: &client.CallPush{Title: "herald bench", Content: "call"}})
				if err != nil {
					return err
				}
				if len(ans.Invitees) == 0 || ans.Invitees[0].Online == nil || !*ans.Invitees[0].Online {
					emu.Lock()
					invitees.addExpected(expected, int(seq))
					emu.Unlock()
				}
				return nil
			}}
		res = runLoad(ctx, load, e, base, pollSeries)
	}
	emu.Lock()
	want := total(expected)
	emu.Unlock()
	e.prog.expected.Store(want)
	done, final, err := e.awaitCounted(ctx, base, want, pollSeries)
	if err != nil {
		return err
	}
	stop()
	hist, count, last := fk.snapshot()
	if !receipts || count == 0 {
		last = done
	}
	end := last
	if res != nil {
		end = maxTime(end, res.LastAnswer)
	}
	e.finish(final, base, expected, heraldBase, end)
	wall := last.Sub(acked)
	e.rep.metric("fanout_users", float64(users.n), "users")
	e.rep.metric("wall_seconds", wall.Seconds(), "s")
	if wall > 0 {
		e.rep.metric("fanout_notifications_per_second", float64(total(users.expected()))/wall.Seconds(), "1/s")
	}
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	if receipts {
		e.rep.Latencies = append(e.rep.Latencies, Summarize("fanout_delivery",
			"group message sent → each of its notifications counted at a simulator", hist))
	}
	if res != nil {
		e.loadNotes(res)
		rmu.Lock()
		rung := int64(len(rang))
		ringCopy := NewHistogram()
		ringCopy.Merge(ring)
		rmu.Unlock()
		e.rep.metric("calls", float64(res.OK), "calls")
		e.rep.metric("calls_rung", float64(rung), "calls")
		e.rep.Latencies = append(e.rep.Latencies, Summarize("call_accept", "intended send time → 2xx answer to POST /v1/calls", res.Latency))
		if receipts {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("ring",
				"intended send time of the invitation → first notification for the invitee counted at a simulator", ringCopy))
		}
	}
	return nil
}
