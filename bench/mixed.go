package bench

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// runMixed: presence churn, peer messages and group messages at once. Peer
// messages go to every user, churning ones included (herald's answer says
// whether the recipient was offline, which sets what is owed); group
// messages go to groups of always-offline users.
func runMixed(ctx context.Context, e *runEnv) error {
	sc := e.sc
	pop := newPopulation(e.run, sc)
	stable := pop.add("u", sc.Users, false)
	churn := pop.add("c", sc.ChurnUsers, false)
	sender := "s-" + e.run
	groups := map[string][]string{}
	groupName := func(g int) string { return "g" + itoa(g) + "-" + e.run }
	for g := 0; g < sc.Groups; g++ {
		ids := make([]string, 0, sc.GroupSize)
		for i := g * sc.GroupSize; i < (g+1)*sc.GroupSize; i++ {
			ids = append(ids, stable.id(i))
		}
		groups[groupName(g)] = ids
	}
	if err := e.setupAndLog(ctx, []*userSet{stable, churn}, groups); err != nil {
		return err
	}

	tr := newTracker(e.run, e.tl)
	pk := tr.kind('p', "peer_notifications_counted")
	gk := tr.kind('g', "group_notifications_counted")
	stop, receipts, base, heraldBase, pollSeries, err := e.watchBaseline(ctx, tr, "the ingress-to-simulator latencies are not measured")
	if err != nil {
		return err
	}
	defer stop()

	var mu sync.Mutex
	expected := map[string]int64{}
	everyone := stable.n + churn.n
	stride := coprimeStride(everyone)
	warmup, dur := sc.Warmup.Std(), sc.Duration.Std()
	var loads []*Load
	if sc.Rate > 0 {
		loads = append(loads, &Load{Name: "peer", Rate: sc.Rate, Warmup: warmup, Duration: dur, Workers: sc.Conns,
			Schedule: func(seq int64, t time.Time) { pk.times.set(seq, t.UnixNano()) },
			Do: func(seq int64) error {
				i := int((seq * int64(stride)) % int64(everyone))
				set, u := stable, i
				if i >= stable.n {
					set, u = churn, i-stable.n
				}
				ans, err := e.sendMessage(messageID('p', e.run, seq), sender, "peer", set.id(u))
				if err != nil {
					return err
				}
				if ans.Offline == nil || *ans.Offline > 0 {
					mu.Lock()
					set.addExpected(expected, u)
					mu.Unlock()
				}
				return nil
			}})
	}
	if sc.GroupRate > 0 {
		loads = append(loads, &Load{Name: "group", Rate: sc.GroupRate, Warmup: warmup, Duration: dur, Workers: max(sc.Conns/4, 1),
			Schedule: func(seq int64, t time.Time) { gk.times.set(seq, t.UnixNano()) },
			Do: func(seq int64) error {
				g := int(seq % int64(sc.Groups))
				if _, err := e.sendMessage(messageID('g', e.run, seq), sender, "group", groupName(g)); err != nil {
					return err
				}
				mu.Lock()
				for i := g * sc.GroupSize; i < (g+1)*sc.GroupSize; i++ {
					stable.addExpected(expected, i)
				}
				mu.Unlock()
				return nil
			}})
	}
	if sc.ChurnRate > 0 {
		loads = append(loads, &Load{Name: "presence", Rate: sc.ChurnRate, Warmup: warmup, Duration: dur, Workers: max(sc.Conns/4, 1),
			Do: func(seq int64) error {
				first := seq * int64(sc.ChurnBatch)
				ups := make([]PresenceUpdate, 0, sc.ChurnBatch)
				for k := int64(0); k < int64(sc.ChurnBatch); k++ {
					n := first + k
					u := int(n % int64(churn.n))
					online := (n/int64(churn.n))%2 == 0
					for j := 0; j < churn.dpu; j++ {
						up := PresenceUpdate{UserID: churn.id(u), DeviceID: "d" + itoa(j), Online: online}
						if online {
							up.TTLS = 60
						}
						ups = append(ups, up)
					}
				}
				body, err := json.Marshal(map[string][]PresenceUpdate{"updates": ups})
				if err != nil {
					return err
				}
				_, err = e.api.Do("POST", "/v1/presence", body, nil)
				return err
			}})
	}
	m, err := e.measuredLoads(ctx, loads, []*msgKind{pk, gk}, base, pollSeries, &mu, expected, stop, receipts)
	if err != nil {
		return err
	}
	results, start, final, last := m.results, m.start, m.final, m.last
	ph, _, _ := pk.snapshot()
	gh, _, _ := gk.snapshot()
	end := last
	for _, r := range results {
		end = maxTime(end, r.LastAnswer)
	}
	e.finish(final, base, expected, heraldBase, end)
	for _, r := range results {
		e.loadNotes(r)
		e.rep.metric(r.Name+"_per_second", float64(r.InWindow)/dur.Seconds(), "requests/s")
		e.rep.Latencies = append(e.rep.Latencies, Summarize(r.Name+"_accept", "intended send time → 2xx answer", r.Latency))
	}
	e.rep.metric("notifications_per_second", float64(e.rep.Totals.Unique)/last.Sub(start).Seconds(), "1/s")
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	if receipts {
		if sc.Rate > 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("peer_ingress_to_simulator",
				"intended send time of a peer message → its notifications counted at a simulator", ph))
		}
		if sc.GroupRate > 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("group_ingress_to_simulator",
				"intended send time of a group message → each of its notifications counted at a simulator", gh))
		}
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }
