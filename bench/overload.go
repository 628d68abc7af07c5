package bench

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors/simkit"
)

// OverloadReport is the overload scenario's account: peer messages
// offered far above what the vendors take, and what herald answered.
type OverloadReport struct {
	// OfferedPerSecond is --rate; SustainablePerSecond what the daemon's
	// vendor limits let through for this vendor mix (min over the kinds
	// of qps ÷ share: a peer message is one request); Factor their ratio.
	OfferedPerSecond     float64 `json:"offered_per_second"`
	SustainablePerSecond float64 `json:"sustainable_per_second"`
	Factor               float64 `json:"factor"`
	// Scheduled is the requests the open-loop schedule owed, Sent those
	// the load generator got out (fewer when it could not keep up).
	Scheduled int64 `json:"scheduled"`
	Sent      int64 `json:"sent"`
	// AnsweredPerSecond is every answer (any status) per second from the
	// load's start to its last answer: below the offered rate, herald (or
	// the load generator) could not answer as fast as the schedule asked,
	// and the schedule ran late (see the accept latency).
	AnsweredPerSecond float64 `json:"answered_per_second"`
	// Accepted (2xx), Overloaded (503), OverloadedRetryAfter (those with
	// a Retry-After header), OtherStatus (any other status, by code) and
	// Failed (no answer).
	Accepted             int64         `json:"accepted"`
	Overloaded           int64         `json:"overloaded"`
	OverloadedRetryAfter int64         `json:"overloaded_retry_after"`
	OtherStatus          []StatusCount `json:"other_status"`
	Failed               int64         `json:"failed"`
	// AcceptedLost is the accepted messages owed a notification whose id
	// never reached a simulator; RefusedDelivered the refused ones whose id
	// did (herald must not send what it refused).
	AcceptedLost     int64 `json:"accepted_lost"`
	RefusedDelivered int64 `json:"refused_delivered"`
	// MemoryLimitBytes is the daemon's runtime.memory_limit (0 = none),
	// MaxRSSBytes the scenario's bound (max_rss; 0 = none) and
	// PeakRSSBytes the daemon's peak (the higher of VmHWM and the highest
	// sample); RSSChecked is false when the RSS is not the daemon's alone
	// (in-process, --target).
	MemoryLimitBytes int64 `json:"memory_limit_bytes"`
	MaxRSSBytes      int64 `json:"max_rss_bytes"`
	PeakRSSBytes     int64 `json:"peak_rss_bytes"`
	RSSChecked       bool  `json:"rss_checked"`
}

// StatusCount is how many answers had one HTTP status.
type StatusCount struct {
	Status int   `json:"status"`
	Count  int64 `json:"count"`
}

// seqFlags is a set of sequence numbers in [0, n), safe for concurrent use.
type seqFlags []atomic.Uint32

func newSeqFlags(n int64) seqFlags      { return make(seqFlags, (n+31)/32) }
func (f seqFlags) set(i int64)          { f[i/32].Or(1 << (i % 32)) }
func (f seqFlags) has(i int64) bool     { return f[i/32].Load()&(1<<(i%32)) != 0 }
func (f seqFlags) inRange(i int64) bool { return i >= 0 && i/32 < int64(len(f)) }

// setNew sets i and reports whether it was not set before.
func (f seqFlags) setNew(i int64) bool {
	bit := uint32(1) << (i % 32)
	return f[i/32].Or(bit)&bit == 0
}
func (f seqFlags) setIfIn(i int64) {
	if f.inRange(i) {
		f.set(i)
	}
}

// sustainableRate is the peer messages per second the vendors' qps limits
// let through for shares (each message's notification is one request);
// 0 = no vendor is limited.
func sustainableRate(cfg configs.Config, shares map[string]float64) float64 {
	var total float64
	for _, w := range shares {
		total += max(w, 0)
	}
	best := math.Inf(1)
	byName := cfg.Vendors.ByName()
	for k, w := range shares {
		v, ok := byName[k]
		if !ok || w <= 0 || v.Limits.QPS <= 0 {
			continue
		}
		best = min(best, v.Limits.QPS/(w/total))
	}
	if math.IsInf(best, 1) {
		return 0
	}
	return best
}

// errOverloaded marks a 503 answer for the load generator (not a success).
var errOverloaded = errors.New("503 overloaded")

// runOverload: peer messages to offline users at --rate, open loop, far
// above what the vendors take: herald must answer 503 overloaded (with
// Retry-After) for what it cannot queue, deliver every message it
// accepted, and stay within the memory bound.
func runOverload(ctx context.Context, e *runEnv) error {
	sc := e.sc
	users, sender, err := e.setupPeerUsers(ctx)
	if err != nil {
		return err
	}
	warmup, dur := sc.Warmup.Std(), sc.Duration.Std()
	scheduled := int64(sc.Rate * (warmup + dur).Seconds())
	or := &OverloadReport{OfferedPerSecond: sc.Rate, SustainablePerSecond: round3(sustainableRate(e.cfg, sc.VendorShares)),
		Scheduled: scheduled, OtherStatus: []StatusCount{}, MemoryLimitBytes: int64(e.cfg.Runtime.MemoryLimit), MaxRSSBytes: int64(sc.MaxRSS)}
	if or.SustainablePerSecond > 0 {
		or.Factor = round3(sc.Rate / or.SustainablePerSecond)
	}
	e.rep.Overload = or

	accepted, delivered := newSeqFlags(scheduled+1), newSeqFlags(scheduled+1)
	tr := newTracker(e.run, e.tl)
	pk := tr.kind('o', "notifications_counted")
	tr.bySeq = func(letter byte, seq int64, _ simkit.Receipt) {
		if letter == 'o' {
			delivered.setIfIn(seq)
		}
	}
	stop, receipts, base, heraldBase, pollSeries, err := e.watchBaseline(ctx, tr, "accepted messages are counted per vendor, not by message id")
	if err != nil {
		return err
	}
	defer stop()

	var mu sync.Mutex
	expected := map[string]int64{}
	owed := newSeqFlags(scheduled + 1) // accepted and offline: a notification is owed
	status := map[int]int64{}
	var overloaded, retryAfter, failed atomic.Int64
	stride := coprimeStride(users.n)
	load := &Load{Name: "peer", Rate: sc.Rate, Warmup: warmup, Duration: dur, Workers: sc.Conns,
		Schedule: func(seq int64, t time.Time) { pk.times.set(seq, t.UnixNano()) },
		Do: func(seq int64) error {
			u := int((seq * int64(stride)) % int64(users.n))
			ans, code, ra, err := postMessageStatus(e.api, messageID('o', e.run, seq), sender, "peer", users.id(u))
			switch {
			case err == nil:
				accepted.setIfIn(seq)
				if ans.Offline == nil || *ans.Offline > 0 {
					owed.setIfIn(seq)
					mu.Lock()
					users.addExpected(expected, u)
					mu.Unlock()
				}
				return nil
			case code == 503:
				overloaded.Add(1)
				if ra {
					retryAfter.Add(1)
				}
				return errOverloaded
			case code == 0:
				failed.Add(1)
			default:
				mu.Lock()
				status[code]++
				mu.Unlock()
			}
			return err
		}}
	m, err := e.measuredLoads(ctx, []*Load{load}, []*msgKind{pk}, base, pollSeries, &mu, expected, stop, receipts)
	if err != nil {
		return err
	}
	res, start, final, last := m.results[0], m.start, m.final, m.last
	hist, _, _ := pk.snapshot()
	e.finish(final, base, expected, heraldBase, maxTime(last, res.LastAnswer))

	or.Sent, or.Accepted, or.Overloaded, or.OverloadedRetryAfter, or.Failed = res.Sent, res.OK, overloaded.Load(), retryAfter.Load(), failed.Load()
	if d := res.LastAnswer.Sub(start).Seconds(); d > 0 {
		or.AnsweredPerSecond = round3(float64(res.Sent-or.Failed) / d)
	}
	for code, n := range status {
		or.OtherStatus = append(or.OtherStatus, StatusCount{Status: code, Count: n})
	}
	slices.SortFunc(or.OtherStatus, func(a, b StatusCount) int { return a.Status - b.Status })
	if receipts {
		for seq := int64(0); seq < res.Sent && owed.inRange(seq); seq++ {
			switch {
			case owed.has(seq) && !delivered.has(seq):
				or.AcceptedLost++
			case !accepted.has(seq) && delivered.has(seq):
				or.RefusedDelivered++
			}
		}
	}
	if p := e.rep.Process; p != nil {
		or.PeakRSSBytes = p.PeakRSSBytes // at least every sample (procWatch.stop)
		or.RSSChecked = p.Scope == "daemon"
	}

	if or.AcceptedLost > 0 {
		e.rep.fail("%d accepted messages never reached a simulator", or.AcceptedLost)
	}
	if or.RefusedDelivered > 0 {
		e.rep.fail("%d messages herald refused were delivered anyway", or.RefusedDelivered)
	}
	switch {
	case !or.RSSChecked:
		e.rep.note("the daemon's RSS is not its own here (in-process or --target): max_rss is not checked")
	case or.MaxRSSBytes > 0 && or.PeakRSSBytes > or.MaxRSSBytes:
		e.rep.fail("the daemon's peak RSS %s MiB is above max_rss %s MiB", mib(or.PeakRSSBytes), mib(or.MaxRSSBytes))
	}
	if or.Overloaded == 0 {
		e.rep.note("herald answered no 503: the offered rate did not overload it (raise --rate or lower the vendors' qps)")
	} else if or.OverloadedRetryAfter < or.Overloaded {
		e.rep.note("%d of %d 503 answers had no Retry-After", or.Overloaded-or.OverloadedRetryAfter, or.Overloaded)
	}
	if or.Sent < or.Scheduled {
		e.rep.note("the load generator sent %d of the %d requests the schedule owed: it could not offer %s/s", or.Sent, or.Scheduled, fmtNum(sc.Rate))
	}

	measured := dur.Seconds()
	e.rep.metric("offered_per_second", sc.Rate, "messages/s")
	e.rep.metric("sustainable_per_second", or.SustainablePerSecond, "messages/s")
	e.rep.metric("sent", float64(or.Sent), "messages")
	e.rep.metric("answered_per_second", or.AnsweredPerSecond, "answers/s")
	e.rep.metric("accepted", float64(or.Accepted), "messages")
	e.rep.metric("overloaded_503", float64(or.Overloaded), "messages")
	e.rep.metric("accepted_per_second", float64(res.InWindow)/measured, "messages/s")
	e.rep.metric("accepted_lost", float64(or.AcceptedLost), "messages")
	e.rep.metric("lost", float64(e.rep.Totals.Lost), "notifications")
	e.rep.metric("duplicates", float64(e.rep.Totals.Duplicates), "notifications")
	if or.PeakRSSBytes > 0 {
		e.rep.metric("peak_rss_mib", mibF(or.PeakRSSBytes), "MiB")
	}
	e.rep.metric("drain_seconds", max(last.Sub(res.LastAnswer).Seconds(), 0), "s")
	e.rep.Latencies = append(e.rep.Latencies, Summarize("accept", "intended send time (open-loop schedule) → 2xx answer (503s not included)", res.Latency))
	if receipts {
		e.rep.Latencies = append(e.rep.Latencies, Summarize("ingress_to_simulator",
			"intended send time of an accepted message → its notification counted at a simulator", hist))
	}
	return nil
}

// statusText is "500 ×12, 504 ×1" for a report line.
func statusText(s []StatusCount) string {
	var out []string
	for _, c := range s {
		out = append(out, strconv.Itoa(c.Status)+" ×"+strconv.FormatInt(c.Count, 10))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
