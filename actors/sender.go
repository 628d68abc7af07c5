package actors

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// SenderConfig tunes one vendor's sender (vendors.<name>.limits and .retry).
type SenderConfig struct {
	QPS         float64       // vendor requests per second (token bucket rate)
	Burst       int           // token bucket size
	MaxInFlight int           // concurrent vendor requests
	BatchSize   int           // tokens per request (capped by the client's MaxBatch)
	BatchWait   time.Duration // how long a batch may wait to fill
	DailyQuota  int64         // notifications per UTC day; 0 = unlimited
	// MaxQueued bounds the rows held in memory, queued and in flight
	// (raised to twice what MaxInFlight requests carry); beyond it a
	// streaming message's rows stay in the outbox and are read back in
	// key order as the queue drains. 0 = no bound.
	MaxQueued      int
	MaxAttempts    int // sends of one notification before a transient failure dead-letters it; 0 = until the message's ttl ends
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// Composer turns an outbox row's message into the notification a vendor gets.
type Composer interface {
	// Notification returns the notification vendor gets for the rows of
	// row (a message, a call invitation or a cancel notice). userID
	// is the recipient when the batch has one row ("" otherwise). A nil
	// notification with a nil error means the message is gone, expired or
	// no longer wanted: the row is dropped.
	Notification(vendor vendors.Kind, row store.RowID, voip bool, userID string) (*vendors.Notification, error)
}

// sender is the actor of one vendor account. It owns the in-memory queue
// (mirroring the outbox rows), the token bucket, the in-flight count, the
// daily quota and the pause after broken credentials or a misconfigured
// endpoint. Vendor I/O and the outbox writes that follow it run in a
// goroutine per batch, which reports back with sendDone, so Receive never
// blocks.
type sender struct {
	kind vendors.Kind
	d    *senderDeps
	cfg  SenderConfig

	forming   map[batchKey]*batch    // batches still filling
	order     []*batch               // forming batches, oldest first
	ready     []*batch               // full or waited long enough
	express   []*batch               // complete messages' batches (peer, users): served ahead of ready (lane)
	expRun    int                    // express starts in a row while ready batches wait
	priority  []*batch               // the priority lane (calls), served first
	delayed   retryHeap              // rows waiting for their next attempt
	spills    []*spill               // messages with rows left in the outbox, oldest first (spill.go)
	spilled   map[store.RowID]*spill // the same by message (or call row)
	loading   bool                   // a read of spilled rows runs
	readWait  time.Duration          // backoff after failed reads of spilled rows
	readAfter time.Time              // no read before then (after a failure)

	tokens      float64
	refilled    time.Time
	inFlight    int
	quotaDay    int64 // UTC day number (unix days) the quota counts
	quotaUsed   int64
	pausedUntil time.Time
	pauseFor    time.Duration
	breaker     breaker // breaker.go
	stats       *SenderStats

	wakeAt time.Time   // when the armed timer fires (zero = none armed)
	wake   clock.Timer // wakes the sender for its next deadline, on the injected Clock
}

type batchKey struct {
	row  store.RowID
	voip bool
}

type batch struct {
	key   batchKey
	items []store.Queued
	since time.Time
	probe bool   // the circuit breaker's half-open probe
	seq   uint64 // set at start: the how-manieth batch the sender started (breaker.go)
	// each: the rows of several complete messages in one request
	// (mergeExpress), each with its message's notification; key then
	// names no message.
	each bool
}

// Sender messages, sent as pointers; only senderSync is answered (with
// struct{}{}).
type (
	enqueue struct {
		items []store.Queued
		mode  EnqueueMode
	}
	// senderTick is the sender's timer firing (wakeUp): the sender
	// steps, then closes done.
	senderTick struct{ done chan struct{} }
	// slotsFreed wakes the sender when targets of running batches gave a
	// slot quantum of request slots back (senderDeps.freed).
	slotsFreed struct{}
	// senderSync pumps like a tick and answers once done: a test steps
	// the sender through an injected clock's moves with it.
	senderSync struct{}
	setConfig  struct{ cfg SenderConfig }
	sendDone   struct {
		sent     int             // rows the batch carried
		requests int             // in-flight requests it held
		retry    []store.Queued  // rows with a new NotBefore
		requeue  []store.Queued  // rows to send again as they are
		pause    *vendors.Result // the first answer that pauses the sender (CredentialsBroken, Misconfigured); nil = none
		// answered and transient are the rows with a final answer and
		// those that failed for a transient reason (breaker.go); probe
		// says the batch was the breaker's half-open probe.
		answered, transient int
		probe               bool
		seq                 uint64 // the batch's batch.seq
	}
)

func (senderTick) NotInfluenceReceiveTimeout() {}

func (s *sender) Receive(ctx actor.Context) {
	now := s.d.clock.Now()
	s.d.woken.Store(false) // before taking freed: an end after this may wake again
	if f := s.d.freed.Swap(0); f != 0 {
		s.inFlight -= int(f)
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.stats.ExpressLimit.Store(int64(s.queueLimit()))
		s.refilled = now
		s.tokens = float64(s.cfg.Burst)
	case *enqueue:
		kept := len(m.items)
		if m.mode == Streaming {
			kept = s.addStreaming(m.items, now)
		} else {
			lane := &s.ready // Backfill
			if m.mode == Complete {
				lane = &s.express // full batches of complete messages join the express lane too
			}
			for _, q := range m.items {
				s.addTo(q, now, lane)
			}
		}
		if m.mode == Complete {
			// Every row of these messages is here: nothing will join
			// their batches, so waiting batch_wait would only add latency,
			// and they go ahead of the fan-outs' batches (lane).
			for _, q := range m.items {
				if b := s.forming[batchKey{row: q.Key.RowID, voip: q.Entry.VoIP}]; b != nil {
					s.sealTo(b, &s.express)
				}
			}
		}
		s.stats.Queued.Add(int64(kept))
	case *spillLoaded:
		s.loaded(m, now)
	case *sendDone:
		s.inFlight -= m.requests
		if m.pause == nil {
			s.pauseFor = 0
		}
		if s.cfg.DailyQuota > 0 && len(m.requeue) > 0 {
			// Rows the vendor never accepted give their quota back.
			s.quotaUsed = max(0, s.quotaUsed-int64(len(m.requeue)))
		}
		s.stats.InFlight.Add(-int64(m.sent))
		for _, q := range m.retry {
			heap.Push(&s.delayed, q)
		}
		for _, q := range m.requeue {
			s.add(q, now)
		}
		s.stats.Queued.Add(int64(len(m.retry) + len(m.requeue)))
		if m.pause != nil {
			s.pause(now, *m.pause)
		}
		if from, to, changed := s.observe(now, m.seq, m.answered, m.transient, m.probe); changed {
			switch to {
			case breakerOpen:
				s.stats.BreakerOpened.Add(1)
				s.d.log.Warn("vendor looks down: circuit breaker open; its rows wait (no attempt spent) and one batch probes it after open_for",
					"from", from.String(), "open_for", s.breaker.openFor.String())
			case breakerClosed:
				s.d.log.Info("vendor answers again: circuit breaker closed; sending at the configured rate")
			}
		}
	case *setConfig:
		// (s.d.log names the vendor: every line of a sender carries it once.)
		s.cfg = m.cfg
		s.stats.ExpressLimit.Store(int64(s.queueLimit()))
		s.tokens = min(s.tokens, float64(m.cfg.Burst))
		s.d.log.Info("sender limits reloaded", "qps", m.cfg.QPS, "burst", m.cfg.Burst,
			"max_in_flight", m.cfg.MaxInFlight, "batch_size", m.cfg.BatchSize, "daily_quota", m.cfg.DailyQuota)
	case *senderTick:
		// The armed timer has fired: none is armed now. Without this, a
		// wall clock stepped back while it was armed would leave wakeAt
		// ahead of now, schedule would take that deadline for an armed
		// timer still to come, and the sender would arm none (stall).
		s.wakeAt = time.Time{}
		s.step(ctx, now)
		close(m.done)
		return
	case *slotsFreed:
	case *senderSync:
		s.step(ctx, now)
		ctx.Respond(struct{}{})
		return
	case *actor.Stopping:
		if s.wake != nil {
			s.wake.Stop()
		}
		return
	default:
		unhandled(ctx, s.d.log)
		return
	}
	s.step(ctx, now)
}

// step is what every message ends with: start what the limits allow, read
// spilled rows back if there is room, arm the timer for the next deadline.
func (s *sender) step(ctx actor.Context, now time.Time) {
	s.pump(ctx, now)
	s.readBack(ctx, now)
	s.schedule(ctx, now)
}

// quantum is how many bucket tokens b waits for before it goes: 1 for a
// batch vendor (a batch is one request); for a per-target vendor the whole
// batch where burst and in-flight room allow, but never more than 10 ms of
// qps. So a sender held at its qps sends real batches (composed once, one
// outbox commit) a hundred times a second instead of a one-row Send per
// token, and waits at most 10 ms longer for them.
func (s *sender) quantum(b *batch, limit int) int {
	if !s.d.perTarget {
		return 1
	}
	return max(1, min(len(b.items), s.cfg.Burst, limit-s.inFlight, int(s.cfg.QPS/100)))
}

// limit is the in-flight limit for starts from lane: max_in_flight, but
// for the bulk lane (fan-outs' batches, retries) only the share Yield
// leaves it while chat traffic waits for the CPU.
func (s *sender) limit(lane *[]*batch) int {
	if lane == &s.ready {
		return bulkLimit(s.cfg.MaxInFlight, s.d.Yield.Share())
	}
	return s.cfg.MaxInFlight
}

// schedule arms one timer for the sender's next deadline: the oldest
// forming batch's batch_wait, the next retry, the end of a pause or of the
// breaker's open period, a failed read-back's retry, the token the bucket
// needs next, or the next UTC day while the daily quota holds rows back.
// Sends finishing and rows arriving wake the sender anyway, so nothing
// needs polling. The timer runs on the injected Clock and waits at most
// maxTimerWait (deadlines in unix time come sooner if the wall clock is
// stepped forward).
func (s *sender) schedule(ctx actor.Context, now time.Time) {
	// Slots that come back wake the sender once a slot quantum is free.
	lane := s.lane()
	limit := s.limit(lane)
	s.d.wakeFreed.Store(int64(max(1, slotQuantum(limit)-(limit-s.inFlight))))
	var next time.Time
	earlier := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if len(s.order) > 0 {
		earlier(s.order[0].since.Add(s.cfg.BatchWait))
	}
	if s.delayed.Len() > 0 {
		earlier(time.UnixMilli(s.delayed[0].Entry.NotBefore))
	}
	if len(s.spills) > 0 && now.Before(s.readAfter) {
		earlier(s.readAfter) // (once passed, a read waits for room, which a send's end brings)
	}
	if s.breaker.state == breakerOpen && now.Before(s.breaker.until) {
		earlier(s.breaker.until) // (pump turns a passed one half-open)
	}
	if len(*lane) > 0 {
		head := (*lane)[0]
		need := float64(s.quantum(head, limit))
		switch {
		case now.Before(s.pausedUntil):
			earlier(s.pausedUntil)
		case s.cfg.DailyQuota > 0 && s.quotaUsed >= s.cfg.DailyQuota:
			earlier(time.Unix((s.quotaDay+1)*86400, 0)) // the next UTC day's quota
		case s.tokens < need && s.inFlight < s.cfg.MaxInFlight && s.cfg.QPS > 0:
			earlier(now.Add(time.Duration(math.Ceil((need - s.tokens) / s.cfg.QPS * float64(time.Second)))))
		}
	}
	if next.IsZero() {
		return // nothing to wait for
	}
	next = minTime(next, now.Add(maxTimerWait))
	if !s.wakeAt.IsZero() && now.Before(s.wakeAt) && !next.Before(s.wakeAt) {
		return // the armed timer comes first
	}
	s.wakeAt = next
	d := max(next.Sub(now), time.Nanosecond) // every deadline above is after now
	if s.wake == nil {
		self, deps := ctx.Self(), s.d
		s.wake = s.d.clock.AfterFunc(d, func() { deps.wakeUp(self) })
		return
	}
	s.wake.Reset(d)
}

// wakeUp is the sender's timer callback: it has the sender step and
// waits until it has (or the senders stop). So on a manual clock every
// deadline is served at its own time, in order: when Advance returns, each
// sender due within the span has stepped at each of its deadlines, as it
// would have while that much time passed. On the wall clock the callback
// runs on a goroutine of its own, which waits for the sender.
func (d *senderDeps) wakeUp(self *actor.PID) {
	done := make(chan struct{})
	d.root.Send(self, &senderTick{done: done})
	select {
	case <-done:
	case <-d.stopping:
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// slotQuantum is how many request slots a per-target sender waits to have
// free before it sends a batch that could use them: with slots coming back
// one target at a time, sending as soon as one is free would cut batches
// to a row or two, each composed and recorded on its own, for no gain in
// concurrency worth having (a tenth of the in-flight limit idle at most).
func slotQuantum(limit int) int {
	return max(1, limit/10)
}

func (s *sender) batchSize() int {
	return max(1, min(s.cfg.BatchSize, s.d.client.MaxBatch()))
}

// add puts one row into its forming batch (or the delay heap); a batch it
// fills joins the ready lane.
func (s *sender) add(q store.Queued, now time.Time) { s.addTo(q, now, &s.ready) }

// addTo is add with the lane a filled batch joins.
func (s *sender) addTo(q store.Queued, now time.Time, full *[]*batch) {
	if q.Entry.NotBefore > now.UnixMilli() {
		heap.Push(&s.delayed, q)
		return
	}
	key := batchKey{row: q.Key.RowID, voip: q.Entry.VoIP}
	if q.Entry.Priority {
		// Calls skip batching: one batch per row, at the head of the line.
		s.priority = append(s.priority, &batch{key: key, items: []store.Queued{q}, since: now})
		return
	}
	b := s.forming[key]
	if b == nil {
		b = &batch{key: key, since: now}
		s.forming[key] = b
		s.order = append(s.order, b)
	}
	b.items = append(b.items, q)
	if len(b.items) >= s.batchSize() {
		s.sealTo(b, full)
	}
}

func (s *sender) seal(b *batch) { s.sealTo(b, &s.ready) }

// sealTo ends b's forming and queues it on lane.
func (s *sender) sealTo(b *batch, lane *[]*batch) {
	delete(s.forming, b.key)
	for i, o := range s.order {
		if o == b {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	*lane = append(*lane, b)
	if lane == &s.express {
		s.stats.Express.Add(int64(len(b.items)))
	}
}

// expressShare is how many express batches start for each ready batch
// while both wait.
const expressShare = 3

// lane is the queue the next start comes from. Calls first. Then the
// batches of complete messages (a peer or users message: a row or a few,
// every one of them here), ahead of the fan-outs' batches, so a peer
// message does not wait behind a 100 000-member group's queue; but while
// both wait, at most expressShare express starts in a row, so a flood of
// peer messages slows a fan-out down without stopping it. An express start
// is usually a few rows (a peer message's devices; a users message's
// batches can be full), a ready one up to batch_size, so the fan-out keeps
// most of the rows either way. Rows that come back for another attempt (retry,
// requeue) are batched like any other and join ready.
func (s *sender) lane() *[]*batch {
	switch {
	case len(s.priority) > 0:
		return &s.priority
	case len(s.express) > 0 && (len(s.ready) == 0 || s.expRun < expressShare || s.bulkHeld()):
		return &s.express
	default:
		return &s.ready
	}
}

// slotsFree reports whether b may start under the in-flight limit: a
// batch vendor needs one request slot; a per-target vendor waits for a
// slot quantum (or b's rows, if fewer) to be free.
func (s *sender) slotsFree(b *batch, limit int) bool {
	if s.d.perTarget {
		free := limit - s.inFlight
		return free > 0 && free >= min(len(b.items), slotQuantum(limit))
	}
	return s.inFlight < limit
}

// bulkHeld reports whether Yield holds the ready lane back (its share of
// max_in_flight is in use): express batches then go, however many in a
// row, since the fan-out is already at the pace Yield allows.
func (s *sender) bulkHeld() bool {
	return len(s.ready) > 0 && s.d.Yield.Share() < 1 && !s.slotsFree(s.ready[0], s.limit(&s.ready))
}

// mergeExpress joins the express batches at the head of the lane, up to
// batch_size rows, into one batch that goes out as one request through
// the client's SendEach (a vendor whose batch requests may carry a
// different notification per target: OPPO). Express batches are mostly a
// peer message's row or two, and each would otherwise be a request of its
// own: when they queue (the sender at its qps or max_in_flight), a
// thousand peer messages go in one request instead of a thousand, and a
// group fan-out waiting behind them loses a start per batch_size rows,
// not per row. Only batches already waiting are joined, so nothing is
// held back for it.
func (s *sender) mergeExpress() {
	head := s.express[0]
	rows, k := len(head.items), 1
	for k < len(s.express) && s.express[k].key.voip == head.key.voip && rows+len(s.express[k].items) <= s.batchSize() {
		rows += len(s.express[k].items)
		k++
	}
	if k == 1 {
		return
	}
	// A head joined earlier grows in place: copying it again on every
	// pump while the sender waits would cost batch_size rows per row.
	m := head
	if !head.each {
		m = &batch{key: batchKey{voip: head.key.voip}, each: true, since: head.since, items: make([]store.Queued, 0, s.batchSize())}
		m.items = append(m.items, head.items...)
	}
	for _, b := range s.express[1:k] {
		m.items = append(m.items, b.items...)
	}
	s.express[k-1] = m
	s.express = s.express[k-1:]
}

// pause holds the sender's starts after cause, the answer that paused it:
// our credentials refused (CredentialsBroken) or our setup wrong, e.g. the
// endpoint redirecting (Misconfigured). Pauses in a row (no batch ending
// without a pausing answer in between) double, from initial_backoff up to
// max_backoff. It logs one ERROR per pause start, with cause's code and
// reason, which the vendor clients keep free of credentials.
func (s *sender) pause(now time.Time, cause vendors.Result) {
	if now.Before(s.pausedUntil) {
		return // already paused: batches in flight report the same refusal
	}
	if s.pauseFor == 0 {
		s.pauseFor = max(s.cfg.InitialBackoff, time.Second)
	} else {
		s.pauseFor = min(2*s.pauseFor, max(s.cfg.MaxBackoff, time.Second))
	}
	s.pausedUntil = now.Add(s.pauseFor)
	s.stats.Paused.Store(1)
	msg := "vendor refused our credentials: sender paused and retrying; if it persists, fix the account in the config and restart herald"
	if cause.Verdict == vendors.Misconfigured {
		msg = "vendor refused our setup: sender paused and retrying; if it persists, fix the vendor's endpoint in the config (or the proxy in between) and restart herald"
	}
	s.d.log.Error(msg, "paused_for", s.pauseFor.String(),
		"verdict", cause.Verdict.String(), "code", cause.Code, "reason", cause.Reason)
}

// pump moves due rows into batches and starts every batch the limits allow.
func (s *sender) pump(ctx actor.Context, now time.Time) {
	nowMs := now.UnixMilli()
	for s.delayed.Len() > 0 && s.delayed[0].Entry.NotBefore <= nowMs {
		q := heap.Pop(&s.delayed).(store.Queued)
		q.Entry.NotBefore = 0
		s.add(q, now)
	}
	for len(s.order) > 0 && (now.Sub(s.order[0].since) >= s.cfg.BatchWait) {
		s.seal(s.order[0])
	}
	// Token bucket refill.
	if el := now.Sub(s.refilled); el > 0 {
		s.tokens = min(float64(s.cfg.Burst), s.tokens+el.Seconds()*s.cfg.QPS)
		if r := math.Round(s.tokens); math.Abs(s.tokens-r) < 1e-9 {
			s.tokens = r // the deadline schedule armed for a whole token, not a hair before it
		}
		s.refilled = now
	}
	s.reopen(now)
	if now.Before(s.pausedUntil) {
		return
	}
	if s.stats.Paused.Load() == 1 {
		s.stats.Paused.Store(0)
	}
	day := now.Unix() / 86400 // the UTC day: formatting a date on every pump cost more than the rest of it
	if day != s.quotaDay {
		s.quotaDay, s.quotaUsed = day, 0
	}
	for {
		lane := s.lane()
		if len(*lane) == 0 {
			break
		}
		ok, probe := s.admit(now)
		if !ok {
			break // the breaker is open, or its probe is out
		}
		if lane == &s.express && s.d.each != nil {
			s.mergeExpress()
		}
		b := (*lane)[0]
		// room is how many of b's rows may go now. A batch vendor's
		// request carries the whole batch and costs one request of qps
		// and max_in_flight; a per-target vendor (APNs, FCM, Web) makes
		// one request per row, so each row costs one.
		room, limit := len(b.items), s.limit(lane)
		switch {
		case !s.slotsFree(b, limit):
			room = 0 // wait for slots (coming back wakes the sender)
		case s.d.perTarget:
			room = min(room, limit-s.inFlight, int(s.tokens))
			if int(s.tokens) < s.quantum(b, limit) {
				room = 0 // wait for a batch's worth of tokens (schedule arms the wake)
			}
		case s.tokens < 1:
			room = 0
		}
		if probe && s.d.perTarget {
			room = min(room, 1) // a per-target probe is one request
		}
		if room <= 0 {
			if s.tokens < float64(s.quantum(b, limit)) {
				s.stats.RateLimited.Add(1)
			}
			break
		}
		if s.cfg.DailyQuota > 0 {
			left := s.cfg.DailyQuota - s.quotaUsed
			if left <= 0 {
				s.stats.RateLimited.Add(1)
				break // held until the next UTC day
			}
			room = int(min(int64(room), left))
			s.quotaUsed += int64(room)
		}
		if room < len(b.items) {
			rest := &batch{key: b.key, items: b.items[room:], since: b.since, each: b.each}
			b = &batch{key: b.key, items: b.items[:room:room], since: b.since, each: b.each}
			(*lane)[0] = rest
		} else {
			*lane = (*lane)[1:]
		}
		switch lane {
		case &s.express:
			s.expRun++
			s.stats.Express.Add(-int64(len(b.items)))
		case &s.ready:
			s.expRun = 0
		}
		if probe {
			b.probe, s.breaker.probing = true, true
		}
		s.breaker.started++
		b.seq = s.breaker.started
		requests := 1
		if s.d.perTarget {
			requests = len(b.items)
		}
		s.tokens -= float64(requests)
		s.inFlight += requests
		n := int64(len(b.items))
		s.stats.Queued.Add(-n)
		s.stats.InFlight.Add(n)
		s.d.start(ctx, s.kind, s.cfg, b, requests)
	}
	if s.cfg.DailyQuota > 0 {
		s.stats.QuotaLeft.Store(s.cfg.DailyQuota - s.quotaUsed)
	} else {
		s.stats.QuotaLeft.Store(-1)
	}
}

// backoff is the wait before attempt number attempts+1: exponential from
// InitialBackoff, capped at MaxBackoff, with equal jitter (d/2 plus
// jitter(d/2); nil = uniform in [0, d/2)), and never shorter than what the
// vendor asked for.
func backoff(cfg SenderConfig, attempts int64, retryAfter time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := cfg.InitialBackoff
	for i := int64(1); i < attempts && d < cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxBackoff)
	if d > 1 {
		if jitter == nil {
			jitter = rand.N[time.Duration]
		}
		d = d/2 + jitter(d/2)
	}
	return max(d, retryAfter)
}

// retryHeap orders rows by NotBefore.
type retryHeap []store.Queued

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].Entry.NotBefore < h[j].Entry.NotBefore }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(store.Queued)) }
func (h *retryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
