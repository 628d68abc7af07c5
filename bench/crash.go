package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// CrashReport is the crash scenario's account: during one group fan-out
// and open-loop peer load the child daemon was killed with SIGKILL (kill
// -9: no shutdown, nothing flushed) again and again, and started each time
// on the same config, data dir and port. Everything is counted at the
// simulators, which run in the harness and outlive every kill, by message
// id and token: what herald answered 2xx for is owed, whatever happened
// after.
type CrashReport struct {
	// Seed seeded the kill moments (the scenario's seed, or a random one
	// when it was 0): --seed repeats them.
	Seed         int64       `json:"seed"`
	KillsPlanned int         `json:"kills_planned"`
	Kills        []CrashKill `json:"kills"`
	// KillsDuringFanout is the kills that fell before the group's last
	// owed notification was counted; Lives the daemon processes over the
	// measured phase (the first, and one per restart that came up).
	KillsDuringFanout int `json:"kills_during_fanout"`
	Lives             int `json:"lives"`
	// GroupOwed is the group message's notifications (one per member
	// device); FanoutSeconds from its 2xx to the first arrival of the
	// last of them.
	GroupOwed     int64   `json:"group_owed"`
	FanoutSeconds float64 `json:"fanout_seconds"`
	// The peer load: PeerRate messages/s open loop from the group
	// message's 2xx until duration after the last restart was ready.
	// PeerSent requests, PeerAccepted answered 2xx (each owes its
	// recipient's devices a notification: PeerOwed),
	// PeerRefusedWhileDown answered otherwise (connection refused or
	// reset, or any other status) between a kill and the next /readyz,
	// PeerFailedWhileUp answered otherwise while the daemon was up.
	// Neither is an error: a refused message is not owed.
	// PeerUnansweredDelivered is refused messages whose notifications
	// arrived anyway (the daemon had committed them and died before it
	// answered).
	PeerRate                float64 `json:"peer_rate"`
	PeerSent                int64   `json:"peer_sent"`
	PeerAccepted            int64   `json:"peer_accepted"`
	PeerRefusedWhileDown    int64   `json:"peer_refused_while_down"`
	PeerFailedWhileUp       int64   `json:"peer_failed_while_up"`
	PeerOwed                int64   `json:"peer_owed"`
	PeerUnansweredDelivered int64   `json:"peer_unanswered_delivered"`
	// Owed = GroupOwed + PeerOwed; Lost is the owed (message, device)
	// notifications that never arrived after the final drain (GroupLost +
	// PeerLost). Passed = Lost is 0.
	Owed      int64 `json:"owed"`
	GroupLost int64 `json:"group_lost"`
	PeerLost  int64 `json:"peer_lost"`
	Lost      int64 `json:"lost"`
	Passed    bool  `json:"passed"`
	// Duplicates is notifications counted more than once (at-least-once
	// delivery re-sends what was in flight at a kill), in all and per
	// vendor.
	Duplicates         int64         `json:"duplicates"`
	DuplicatesByVendor []VendorCount `json:"duplicates_by_vendor"`
	// PeakRSSBytes is the highest of every life's peak RSS (VmHWM, or the
	// highest VmRSS sampled every 100 ms).
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// CrashKill is one kill -9 and the restart after it.
type CrashKill struct {
	// AtS is when the kill fell, seconds since the group message's 2xx;
	// Fraction the planned moment: when the group's notifications counted
	// reach this share of GroupOwed (and this life has brought at least one
	// more); GroupCounted how many were counted when it fell,
	// DuringFanout whether that was short of all.
	AtS          float64 `json:"at_s"`
	Fraction     float64 `json:"fraction"`
	GroupCounted int64   `json:"group_counted"`
	DuringFanout bool    `json:"during_fanout"`
	// PID is the process killed, LifeS how long it had served (since its
	// /readyz; the first life since the group message's 2xx) and
	// PeakRSSBytes its peak RSS.
	PID          int     `json:"pid"`
	LifeS        float64 `json:"life_s"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// RestartS is from the SIGKILL to the new process's first 200 on GET
	// /readyz; PeerRefused the peer requests refused meanwhile.
	RestartS    float64 `json:"restart_s"`
	PeerRefused int64   `json:"peer_refused"`
}

// Kill moments are shares of the group's notifications drawn from
// [crashFirst, crashFirst+crashSpan): never at the very start or end of
// the fan-out, where a kill would test little.
const (
	crashFirst = 0.05
	crashSpan  = 0.9
)

// crashPlan is the planned kill moments for seed: kills shares of the
// group's notifications, drawn uniformly by a PCG seeded with seed, in
// increasing order. The same seed gives the same plan.
func crashPlan(seed int64, kills int) []float64 {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6b696c6c)) // "kill"
	out := make([]float64, kills)
	for i := range out {
		out[i] = round3(crashFirst + crashSpan*r.Float64())
	}
	slices.Sort(out)
	return out
}

// crashLoadSpan is the peer load's nominal length: it is stopped by
// cancellation, duration after the last restart.
const crashLoadSpan = 24 * time.Hour

// runCrash: a group fan-out to users (plus open-loop peer messages to the
// same users) during which the child daemon is killed with SIGKILL kills
// times, at moments drawn from the seed, and restarted on the same config
// each time; after a final drain nothing herald answered 2xx for may be
// missing at the simulators.
func runCrash(ctx context.Context, e *runEnv) error {
	sc := e.sc
	loc := e.loc
	if loc == nil || loc.child == nil {
		return errors.New("bench: the crash scenario kills -9 and restarts the daemon: it needs the child daemon (--daemon child)")
	}
	cr := &CrashReport{Seed: sc.Seed, KillsPlanned: sc.Kills, Kills: []CrashKill{}, PeerRate: sc.Rate, DuplicatesByVendor: []VendorCount{}}
	if cr.Seed == 0 {
		cr.Seed = rand.Int64N(math.MaxInt32) + 1
	}
	e.rep.Crash = cr
	plan := crashPlan(cr.Seed, sc.Kills)
	e.logf("crash: seed %d (repeat with --seed %d), kills at %v of the group's notifications", cr.Seed, cr.Seed, plan)
	// No one process spans the measured phase: the crash section has each
	// life's peak RSS instead of the process section.
	e.skipProc = true

	// Every notification is counted by (message, device): the group's by
	// member device, the peer messages' by sequence number and device.
	var (
		users                     *userSet
		groupGot                  seqFlags
		groupCounted              atomic.Int64
		groupDone                 atomic.Int64 // unix ns of the group's last owed notification's first arrival
		peerAccepted, peerOwed    = &bitSet{}, &bitSet{}
		peerGot                   = &bitSet{}
		pk                        *msgKind
		dpu                       int64
		firstDev, groupOwed, pref = int64(0), int64(0), ""
	)
	prepare := func(u *userSet, tr *tracker) {
		users, dpu, firstDev = u, int64(u.dpu), u.firstDev
		groupOwed = int64(u.n * u.dpu)
		groupGot = newSeqFlags(groupOwed)
		pref = u.pop.tokenPrefix()
		pk = tr.kind('p', "peer_notifications_counted")
		tr.bySeq = func(letter byte, seq int64, r simkit.Receipt) {
			idx, ok := tokenIndex(r.Token, pref)
			if !ok {
				return
			}
			dev := idx - firstDev
			switch {
			case letter == 'f' && seq == 0 && groupGot.inRange(dev) && dev < groupOwed:
				if groupGot.setNew(dev) && groupCounted.Add(1) == groupOwed {
					groupDone.Store(r.At.UnixNano())
				}
			case letter == 'p' && dev >= 0:
				peerGot.add(seq*dpu + dev%dpu)
			}
		}
	}
	f, err := e.setupFanoutWith(ctx, "notifications cannot be counted by message id", prepare)
	if err != nil {
		return err
	}
	defer f.stop()
	if !f.receipts {
		return errors.New("bench: the crash scenario counts every notification by message id: it needs the simulators' receipts")
	}
	cr.GroupOwed = groupOwed
	groupExpected := users.expected()

	g, err := e.measuredGroupMessage(ctx, f.receipts, f.fk, f.sender, f.group, users.n, groupOwed)
	if err != nil {
		return err
	}
	acked := g.acked
	lives := newLifeRSS(loc.child.pid, rssInterval)
	defer lives.stop()

	// The peer load, from the 2xx on: a request answered other than 2xx
	// while the daemon is down (between a kill and its /readyz) is
	// refused, not failed.
	var (
		down                atomic.Bool
		refusedDown, failUp atomic.Int64
		mu                  sync.Mutex
		peerExpected        = map[string]int64{}
	)
	stride := coprimeStride(users.n)
	peerCtx, cancelPeer := context.WithCancel(ctx)
	defer cancelPeer()
	peerRes := make(chan *LoadResult, 1)
	var peerWait sync.Once
	var res *LoadResult
	waitPeer := func() *LoadResult {
		peerWait.Do(func() {
			cancelPeer()
			if sc.Rate > 0 {
				res = <-peerRes
			} else {
				res = &LoadResult{Name: "peer", Latency: NewHistogram()}
			}
		})
		return res
	}
	defer waitPeer()
	if sc.Rate > 0 {
		load := &Load{Name: "peer", Rate: sc.Rate, Duration: crashLoadSpan, Workers: sc.Conns,
			Schedule: func(seq int64, t time.Time) { pk.times.set(seq, t.UnixNano()) },
			Do: func(seq int64) error {
				u := int((seq * int64(stride)) % int64(users.n))
				ans, _, _, err := postMessageStatus(e.api, messageID('p', e.run, seq), f.sender, "peer", users.id(u))
				if err != nil {
					if down.Load() {
						refusedDown.Add(1)
					} else {
						failUp.Add(1)
					}
					return err
				}
				peerAccepted.add(seq)
				if ans.Offline == nil || *ans.Offline > 0 {
					peerOwed.add(seq)
					mu.Lock()
					users.addExpected(peerExpected, u)
					mu.Unlock()
				}
				return nil
			}}
		go func() { peerRes <- load.Run(peerCtx, e.tl, &e.prog.load) }()
	}

	// The kills: each when the group's notifications counted reach its
	// planned share, and at least one more of them has arrived since this
	// life answered /readyz (the counts jump by whole batches, so two
	// planned shares can fall in one jump: every life still resumes the
	// fan-out before it is killed); the restart right after.
	lifeStart := acked
	cr.Lives = 1
	var prevCounted int64
	for i, frac := range plan {
		e.prog.phase(fmt.Sprintf("fan-out, kill %d/%d at %.0f%%", i+1, len(plan), frac*100))
		target := min(max(int64(math.Ceil(frac*float64(groupOwed))), prevCounted+1), groupOwed)
		if !waitUntil(ctx, lifeStart.Add(sc.Timeout.Std()), 2*time.Millisecond, func() bool {
			n := groupCounted.Load()
			e.prog.counted.Store(n)
			return n >= target
		}) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.rep.fail("the fan-out stalled at %d of %d notifications: kill %d of %d (at %g of them) never fell within --timeout %s",
				groupCounted.Load(), groupOwed, i+1, len(plan), frac, sc.Timeout)
			break
		}
		pid := loc.child.pid()
		k := CrashKill{Fraction: frac, PID: pid, PeakRSSBytes: lives.peak(pid)}
		refused0 := refusedDown.Load()
		down.Store(true)
		killAt := time.Now()
		k.GroupCounted = groupCounted.Load()
		k.DuringFanout = k.GroupCounted < groupOwed
		if err := loc.child.kill(); err != nil {
			return err
		}
		k.AtS, k.LifeS = round3(killAt.Sub(acked).Seconds()), round3(killAt.Sub(lifeStart).Seconds())
		// The dead process's idle connections would fail the next
		// requests on them; new ones go to the next life.
		e.api.Close()
		e.prog.phase(fmt.Sprintf("restart %d/%d", i+1, len(plan)))
		addr, err := loc.child.start()
		if err != nil {
			return fmt.Errorf("bench: restart %d after kill -9: %w", i+1, err)
		}
		if "http://"+addr != loc.URL {
			return fmt.Errorf("bench: restart %d came back on %s, not %s", i+1, addr, loc.URL)
		}
		if err := waitReadyEvery(ctx, e.api, childStartTimeout, 10*time.Millisecond); err != nil {
			return fmt.Errorf("bench: restart %d after kill -9: %w", i+1, err)
		}
		lifeStart = time.Now()
		prevCounted = groupCounted.Load()
		down.Store(false)
		cr.Lives++
		k.RestartS = round3(lifeStart.Sub(killAt).Seconds())
		k.PeerRefused = refusedDown.Load() - refused0
		cr.Kills = append(cr.Kills, k)
		e.logf("crash: kill %d/%d of pid %d at %.3fs after the 2xx (%d of %d group notifications counted, planned %g); ready again %.3fs later",
			i+1, len(plan), pid, k.AtS, k.GroupCounted, groupOwed, frac, k.RestartS)
	}

	// The last life takes peer load for duration too, then everything owed
	// must arrive.
	if sc.Rate > 0 {
		e.prog.phase("peer load after the last restart")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sc.Duration.Std()):
		}
	}
	res = waitPeer()
	e.prog.phase("drain")
	missing := func() (group, peer int64) {
		group = groupOwed - groupCounted.Load()
		peerOwed.each(func(seq int64) {
			for j := range dpu {
				if !peerGot.has(seq*dpu + j) {
					peer++
				}
			}
		})
		return group, peer
	}
	cr.PeerOwed = peerOwed.len() * dpu
	cr.Owed = groupOwed + cr.PeerOwed
	e.prog.expected.Store(cr.Owed)
	drained := waitUntil(ctx, time.Now().Add(sc.Timeout.Std()), 20*time.Millisecond, func() bool {
		gm, pm := missing()
		e.prog.counted.Store(cr.Owed - gm - pm)
		return gm+pm == 0
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !drained {
		e.rep.note("timed out after %s waiting for the simulators to count every owed notification", sc.Timeout)
	}
	end := time.Now()
	cr.PeakRSSBytes = lives.peak(loc.child.pid())
	lives.stop()
	final, err := e.settle(ctx)
	if err != nil {
		return err
	}
	f.stop()

	cr.GroupLost, cr.PeerLost = missing()
	cr.Lost = cr.GroupLost + cr.PeerLost
	cr.Passed = cr.Lost == 0
	cr.PeerSent, cr.PeerAccepted = res.Sent, peerAccepted.len()
	cr.PeerRefusedWhileDown, cr.PeerFailedWhileUp = refusedDown.Load(), failUp.Load()
	for seq := range res.Sent {
		if peerAccepted.has(seq) {
			continue
		}
		for j := range dpu {
			if peerGot.has(seq*dpu + j) {
				cr.PeerUnansweredDelivered++
				break
			}
		}
	}
	if t := groupDone.Load(); t > 0 {
		cr.FanoutSeconds = round3(time.Unix(0, t).Sub(acked).Seconds())
	}
	for _, k := range cr.Kills {
		cr.PeakRSSBytes = max(cr.PeakRSSBytes, k.PeakRSSBytes)
		if k.DuringFanout {
			cr.KillsDuringFanout++
		}
	}

	expected := map[string]int64{}
	for k, v := range groupExpected {
		expected[k] += v
	}
	mu.Lock()
	for k, v := range peerExpected {
		expected[k] += v
	}
	mu.Unlock()
	// herald's /v1/stats counters start again at 0 in every life: the
	// vendor table's herald columns are the last life's.
	e.finish(final, g.base, expected, nil, maxTime(end, res.LastAnswer))
	e.rep.note("herald's own counters (GET /v1/stats) restart with each life: the vendor table's herald columns are the last life's alone")
	for _, v := range e.rep.Vendors {
		cr.Duplicates += v.Duplicates
		cr.DuplicatesByVendor = append(cr.DuplicatesByVendor, VendorCount{Vendor: v.Vendor, Count: v.Duplicates})
	}

	if cr.Lost > 0 {
		e.rep.fail("%d owed notifications never arrived after %d kills (%d of the group message's, %d of accepted peer messages')", cr.Lost, len(cr.Kills), cr.GroupLost, cr.PeerLost)
	}
	if len(cr.Kills) < cr.KillsPlanned {
		e.rep.fail("%d of %d planned kills fell", len(cr.Kills), cr.KillsPlanned)
	}
	switch {
	case len(cr.Kills) > 0 && cr.KillsDuringFanout == 0:
		e.rep.fail("no kill fell during the fan-out: it tested nothing; give a larger --users")
	case cr.KillsDuringFanout < len(cr.Kills):
		e.rep.note("%d of %d kills fell after the group's last notification had arrived", len(cr.Kills)-cr.KillsDuringFanout, len(cr.Kills))
	}
	if cr.PeerFailedWhileUp > 0 {
		e.rep.note("%d peer requests failed while the daemon was up (e.g. %s)", cr.PeerFailedWhileUp, strings.Join(res.FirstErrs, " | "))
	}

	var restarts []float64
	for _, k := range cr.Kills {
		restarts = append(restarts, k.RestartS)
	}
	e.rep.metric("kills", float64(len(cr.Kills)), "kills")
	e.rep.metric("lost", float64(cr.Lost), "notifications")
	e.rep.metric("duplicates", float64(cr.Duplicates), "notifications")
	e.rep.metric("peer_accepted", float64(cr.PeerAccepted), "messages")
	e.rep.metric("peer_refused_while_down", float64(cr.PeerRefusedWhileDown), "requests")
	if len(restarts) > 0 {
		e.rep.metric("restart_seconds_max", slices.Max(restarts), "s")
		var sum float64
		for _, r := range restarts {
			sum += r
		}
		e.rep.metric("restart_seconds_mean", sum/float64(len(restarts)), "s")
	}
	e.rep.metric("fanout_seconds", cr.FanoutSeconds, "s")
	if cr.PeakRSSBytes > 0 {
		e.rep.metric("peak_rss_mib", mibF(cr.PeakRSSBytes), "MiB")
	}
	if sc.Rate > 0 {
		e.rep.Latencies = append(e.rep.Latencies, Summarize("peer_accept", "intended send time (open-loop schedule) → 2xx answer (refused requests not included)", res.Latency))
		hist, _, _ := pk.snapshot()
		e.rep.Latencies = append(e.rep.Latencies, Summarize("peer_ingress_to_simulator",
			"intended send time of a peer message → its notifications counted at a simulator (across kills)", hist))
	}
	return nil
}

// waitUntil polls cond every poll until it holds (true), deadline passes
// or ctx ends (false).
func waitUntil(ctx context.Context, deadline time.Time, poll time.Duration, cond func() bool) bool {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// bitSet is a growable set of non-negative integers, safe for concurrent
// use (the peer load's sequence numbers, whose count is not known ahead).
type bitSet struct {
	mu sync.Mutex
	w  []uint64
	n  int64
}

func (b *bitSet) add(i int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for int64(len(b.w)) <= i/64 {
		b.w = append(b.w, 0)
	}
	if bit := uint64(1) << (i % 64); b.w[i/64]&bit == 0 {
		b.w[i/64] |= bit
		b.n++
	}
}

func (b *bitSet) has(i int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return i >= 0 && i/64 < int64(len(b.w)) && b.w[i/64]&(1<<(i%64)) != 0
}

func (b *bitSet) len() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// each calls fn for every member in increasing order (fn must not use b).
func (b *bitSet) each(fn func(i int64)) {
	b.mu.Lock()
	w := append([]uint64(nil), b.w...)
	b.mu.Unlock()
	for k, x := range w {
		for j := int64(0); x != 0; j++ {
			if x&1 != 0 {
				fn(int64(k)*64 + j)
			}
			x >>= 1
		}
	}
}

// lifeRSS samples the current daemon process's RSS every interval, across
// restarts, and keeps each process's highest.
type lifeRSS struct {
	pid        func() int
	quit, done chan struct{}
	once       sync.Once

	mu    sync.Mutex
	peaks map[int]int64
}

func newLifeRSS(pid func() int, interval time.Duration) *lifeRSS {
	l := &lifeRSS{pid: pid, quit: make(chan struct{}), done: make(chan struct{}), peaks: map[int]int64{}}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			l.sample(l.pid())
			select {
			case <-l.quit:
				return
			case <-t.C:
			}
		}
	}()
	return l
}

// sample reads pid's VmRSS and VmHWM (a process that is gone is skipped).
func (l *lifeRSS) sample(pid int) {
	if pid == 0 {
		return
	}
	m, err := newProc(pid).mem()
	if err != nil {
		return
	}
	l.mu.Lock()
	l.peaks[pid] = max(l.peaks[pid], m.RSS, m.HWM)
	l.mu.Unlock()
}

// peak is pid's peak RSS so far, read once more now: the caller is about
// to kill it, or the run is over.
func (l *lifeRSS) peak(pid int) int64 {
	l.sample(pid)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peaks[pid]
}

func (l *lifeRSS) stop() {
	l.once.Do(func() { close(l.quit) })
	<-l.done
}
