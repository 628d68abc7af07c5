package bench

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// mixedTraffic is the mixed scenario's traffic, set up and counted from
// its baseline on: its loads (peer, group and presence, each when its rate
// is above 0), the message kinds they send and what they owe. The soak
// scenario runs the same traffic for longer.
type mixedTraffic struct {
	loads      []*Load
	pk, gk     *msgKind
	stop       func() // the receipt hook's
	receipts   bool
	base       map[string]simkit.Stats
	heraldBase map[string]heraldVendor
	pollSeries int

	mu       sync.Mutex // guards expected, which the loads fill
	expected map[string]int64
}

// runMixed: presence churn, peer messages and group messages at once. Peer
// messages go to every user, churning ones included (herald's answer says
// whether the recipient was offline, which sets what is owed); group
// messages go to groups of always-offline users.
func runMixed(ctx context.Context, e *runEnv) error {
	mt, err := e.setupMixed(ctx)
	if err != nil {
		return err
	}
	defer mt.stop()
	m, err := mt.measure(ctx, e)
	if err != nil {
		return err
	}
	e.reportMixed(mt, m)
	return nil
}

// setupMixed registers the mixed traffic's users and groups, installs the
// receipt hook, takes the baseline and builds the loads. The caller defers
// the returned traffic's stop.
func (e *runEnv) setupMixed(ctx context.Context) (*mixedTraffic, error) {
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
		return nil, err
	}

	tr := newTracker(e.run, e.tl)
	mt := &mixedTraffic{expected: map[string]int64{}}
	mt.pk = tr.kind('p', "peer_notifications_counted")
	mt.gk = tr.kind('g', "group_notifications_counted")
	var err error
	mt.stop, mt.receipts, mt.base, mt.heraldBase, mt.pollSeries, err = e.watchBaseline(ctx, tr, "the ingress-to-simulator latencies are not measured")
	if err != nil {
		return nil, err
	}

	everyone := stable.n + churn.n
	stride := coprimeStride(everyone)
	warmup, dur := sc.Warmup.Std(), sc.Duration.Std()
	pk, gk := mt.pk, mt.gk
	if sc.Rate > 0 {
		mt.loads = append(mt.loads, &Load{Name: "peer", Rate: sc.Rate, Warmup: warmup, Duration: dur, Workers: sc.Conns,
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
					mt.mu.Lock()
					set.addExpected(mt.expected, u)
					mt.mu.Unlock()
				}
				return nil
			}})
	}
	if sc.GroupRate > 0 {
		mt.loads = append(mt.loads, &Load{Name: "group", Rate: sc.GroupRate, Warmup: warmup, Duration: dur, Workers: max(sc.Conns/4, 1),
			Schedule: func(seq int64, t time.Time) { gk.times.set(seq, t.UnixNano()) },
			Do: func(seq int64) error {
				g := int(seq % int64(sc.Groups))
				if _, err := e.sendMessage(messageID('g', e.run, seq), sender, "group", groupName(g)); err != nil {
					return err
				}
				mt.mu.Lock()
				for i := g * sc.GroupSize; i < (g+1)*sc.GroupSize; i++ {
					stable.addExpected(mt.expected, i)
				}
				mt.mu.Unlock()
				return nil
			}})
	}
	if sc.ChurnRate > 0 {
		mt.loads = append(mt.loads, &Load{Name: "presence", Rate: sc.ChurnRate, Warmup: warmup, Duration: dur, Workers: max(sc.Conns/4, 1),
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
				err = e.api.Do(context.Background(), false, "POST", "/v1/presence", body, nil)
				return err
			}})
	}
	return mt, nil
}

// measure runs the traffic's loads as the measured phase and waits until
// everything they owe is counted (see measuredLoads).
func (mt *mixedTraffic) measure(ctx context.Context, e *runEnv) (measured, error) {
	return e.measuredLoads(ctx, mt.loads, []*msgKind{mt.pk, mt.gk}, mt.base, mt.pollSeries, &mt.mu, mt.expected, mt.stop, mt.receipts)
}

// reportMixed fills the totals, metrics and latencies of measured mixed
// traffic.
func (e *runEnv) reportMixed(mt *mixedTraffic, m measured) {
	sc := e.sc
	dur := sc.Duration.Std()
	results, start, final, last := m.results, m.start, m.final, m.last
	ph, _, _ := mt.pk.snapshot()
	gh, _, _ := mt.gk.snapshot()
	end := last
	for _, r := range results {
		end = maxTime(end, r.LastAnswer)
	}
	e.finish(final, mt.base, mt.expected, mt.heraldBase, end)
	for _, r := range results {
		e.loadNotes(r)
		e.rep.metric(r.Name+"_per_second", float64(r.InWindow)/dur.Seconds(), "requests/s")
		e.rep.Latencies = append(e.rep.Latencies, Summarize(r.Name+"_accept", "intended send time → 2xx answer", r.Latency))
	}
	e.rep.metric("notifications_per_second", float64(e.rep.Totals.Unique)/last.Sub(start).Seconds(), "1/s")
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	if mt.receipts {
		if sc.Rate > 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("peer_ingress_to_simulator",
				"intended send time of a peer message → its notifications counted at a simulator", ph))
		}
		if sc.GroupRate > 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("group_ingress_to_simulator",
				"intended send time of a group message → each of its notifications counted at a simulator", gh))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
