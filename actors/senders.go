package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// SenderStats are one sender's counters, readable at any time.
type SenderStats struct {
	Sent        atomic.Int64 // notifications the vendor accepted
	Failed      atomic.Int64 // notifications that reached no device for good: dead letters and invalid tokens
	Invalid     atomic.Int64 // tokens the vendor declared invalid (unbound)
	RateLimited atomic.Int64 // times a ready batch waited for the token bucket or the daily quota
	Retried     atomic.Int64 // notifications scheduled for another attempt
	Dead        atomic.Int64 // notifications dead-lettered: rejected, or a transient failure after max_attempts
	Expired     atomic.Int64 // notifications dropped because their message expired or vanished
	Queued      atomic.Int64 // notifications waiting in the sender
	Spilled     atomic.Int64 // notifications waiting in the outbox for room in the sender's memory (limits.max_queued)
	InFlight    atomic.Int64 // notifications sent to the vendor whose verdict is not yet recorded (Sent, Failed, … lag it never)
	QuotaLeft   atomic.Int64 // daily quota left; -1 = unlimited
	Paused      atomic.Int64 // 1 while paused after broken credentials or a misconfigured endpoint

	// Express is the rows of complete messages (peer, users) waiting in
	// the express lane, and ExpressLimit the most it may hold before new
	// such messages are refused (Senders.Backlogged); 0 = no limit.
	Express, ExpressLimit atomic.Int64

	Breaker       atomic.Int64 // the circuit breaker: 0 closed, 1 open, 2 half-open (breaker.go)
	BreakerOpened atomic.Int64 // times it opened

	// TestSent, TestFailed and TestInvalid count test pushes (POST
	// /v1/push/test, sent to the vendor directly: CountTest) by verdict.
	TestSent, TestFailed, TestInvalid atomic.Int64

	// MessagesSent counts the Sent notifications that were a message's
	// (not a call's): those that ask for an arrival receipt when receipts
	// are on. Arrived, ArrivalDuplicates and ArrivalUnmatched count the
	// vendor's arrival receipts (CountArrivals): devices counted as
	// delivered, repeats of a device counted before, entries naming no
	// kept message.
	MessagesSent                                 atomic.Int64
	Arrived, ArrivalDuplicates, ArrivalUnmatched atomic.Int64

	codes failureCodes // Failed by the vendor's code
}

// SenderSnapshot is a copy of SenderStats.
type SenderSnapshot struct {
	Sent, Failed, Invalid, RateLimited, Retried, Dead, Expired, Queued, Spilled, InFlight, QuotaLeft, Paused int64
	Breaker                                                                                                  BreakerState
	BreakerOpened                                                                                            int64
	TestSent, TestFailed, TestInvalid                                                                        int64
	MessagesSent, Arrived, ArrivalDuplicates, ArrivalUnmatched                                               int64
	FailedByCode                                                                                             map[string]int64 // Failed by the vendor's code (at most 64 codes, then "other")
}

// Snapshot copies the counters.
func (s *SenderStats) Snapshot() SenderSnapshot {
	return SenderSnapshot{Sent: s.Sent.Load(), Failed: s.Failed.Load(), Invalid: s.Invalid.Load(),
		RateLimited: s.RateLimited.Load(), Retried: s.Retried.Load(), Dead: s.Dead.Load(), Expired: s.Expired.Load(),
		Queued: s.Queued.Load(), Spilled: s.Spilled.Load(), InFlight: s.InFlight.Load(), QuotaLeft: s.QuotaLeft.Load(), Paused: s.Paused.Load(),
		Breaker: BreakerState(s.Breaker.Load()), BreakerOpened: s.BreakerOpened.Load(),
		TestSent: s.TestSent.Load(), TestFailed: s.TestFailed.Load(), TestInvalid: s.TestInvalid.Load(),
		MessagesSent: s.MessagesSent.Load(), Arrived: s.Arrived.Load(), ArrivalDuplicates: s.ArrivalDuplicates.Load(),
		ArrivalUnmatched: s.ArrivalUnmatched.Load(),
		FailedByCode:     s.codes.snapshot()}
}

// CountTest counts a test push's verdict r.
func (s *SenderStats) CountTest(r vendors.Result) {
	switch r.Verdict {
	case vendors.Delivered:
		s.TestSent.Add(1)
	case vendors.TokenInvalid:
		s.TestInvalid.Add(1)
	default:
		s.TestFailed.Add(1)
	}
}

// SenderDeps are what the senders need from outside.
type SenderDeps struct {
	Store    *store.Store
	Users    *Users // unbinds invalid tokens and remembers APNs environments
	Composer Composer
	Clock    Clock
	Logger   *slog.Logger
	// ObserveBatch, when set, sees every vendor request: its size and latency.
	ObserveBatch func(kind vendors.Kind, size int, latency time.Duration)
	// SendTimeout bounds one vendor request, on the wall clock (it is the
	// request's context deadline: real I/O); 0 = 30s.
	SendTimeout time.Duration
	// Yield, when set, holds the bulk lane to a share of max_in_flight
	// while chat traffic waits for the CPU (yield.go).
	Yield *Yield

	// jitter, when set (tests), replaces the retry backoff's random
	// jitter (backoff).
	jitter func(time.Duration) time.Duration
}

// senderDeps is SenderDeps plus what one sender's goroutines share.
type senderDeps struct {
	SenderDeps
	client    vendors.Sender
	perTarget bool               // the client makes one request per target
	progress  vendors.Progress   // the client tells each target's end (nil: it doesn't)
	each      vendors.EachSender // a batch client whose requests may carry a different notification per target (nil: none)
	// freed counts request slots that targets gave back while their
	// batches still run; the sender actor takes them at its next message,
	// and is woken (once until that message) when freed reaches wakeFreed,
	// the slots it lacks for a slot quantum free (fewer would not start a
	// batch anyway, and a batch's end wakes it regardless).
	freed     atomic.Int64
	wakeFreed atomic.Int64
	woken     atomic.Bool   // a wake-up for freed slots is on its way
	pool      *vendors.Pool // the batch workers
	clock     Clock
	stopping  <-chan struct{} // closed when the senders stop (wakeUp gives up)
	log       *slog.Logger
	failures  *failureLog // the dead-letter and unbind lines
	wg        *sync.WaitGroup
	stats     *SenderStats
	root      *actor.RootContext
}

// Senders runs one sender actor per configured vendor.
type Senders struct {
	system *actor.ActorSystem
	pids   map[vendors.Kind]*actor.PID
	stats  map[vendors.Kind]*SenderStats
	wg     sync.WaitGroup  // send goroutines
	pools  []*vendors.Pool // each sender's batch workers
	stopT  chan struct{}   // closed when Stop begins
	once   sync.Once
}

// NewSenders starts a sender for every client.
func NewSenders(system *actor.ActorSystem, deps SenderDeps, clients map[vendors.Kind]vendors.Sender, cfgs map[vendors.Kind]SenderConfig) (*Senders, error) {
	if deps.Store == nil || deps.Users == nil || deps.Composer == nil || deps.Clock == nil || deps.Logger == nil {
		return nil, errors.New("actors: SenderDeps needs Store, Users, Composer, Clock and Logger")
	}
	if deps.SendTimeout <= 0 {
		deps.SendTimeout = 30 * time.Second
	}
	s := &Senders{system: system, pids: map[vendors.Kind]*actor.PID{}, stats: map[vendors.Kind]*SenderStats{},
		stopT: make(chan struct{})}
	for kind, client := range clients {
		cfg, ok := cfgs[kind]
		if !ok {
			return nil, fmt.Errorf("actors: no sender config for %s", kind)
		}
		st := &SenderStats{}
		st.QuotaLeft.Store(-1)
		d := &senderDeps{SenderDeps: deps, client: client, perTarget: vendors.RequestPerTarget(client),
			progress: progressOf(client), each: eachOf(client), pool: vendors.NewPool(maxBatchWorkers), clock: deps.Clock, stopping: s.stopT, log: deps.Logger.With("vendor", string(kind)),
			wg: &s.wg, stats: st, root: system.Root}
		d.failures = newFailureLog(d.log, deps.Clock)
		s.pools = append(s.pools, d.pool)
		props := actor.PropsFromProducer(func() actor.Actor {
			return &sender{kind: kind, d: d, cfg: cfg, forming: map[batchKey]*batch{}, spilled: map[store.RowID]*spill{}, stats: st}
		})
		pid, err := system.Root.SpawnNamed(props, "sender-"+string(kind))
		if err != nil {
			return nil, fmt.Errorf("actors: spawn sender %s: %w", kind, err)
		}
		s.pids[kind], s.stats[kind] = pid, st
	}
	return s, nil
}

// Has reports whether a sender runs for kind.
func (s *Senders) Has(kind vendors.Kind) bool { _, ok := s.pids[kind]; return ok }

// Backlogged reports whether kind's sender holds as many rows of complete
// messages waiting to go as its queue may (limits.max_queued), or twice
// that in all (a fan-out's share is at most max_queued; the rest is rows
// waiting for a retry): the vendor is taking them slower than they arrive,
// and accepting more would only grow memory. It is a soft bound: messages
// checked at once may each pass it by their own rows. A fan-out's rows
// beyond max_queued wait in the outbox and never count.
func (s *Senders) Backlogged(kind vendors.Kind) (waiting int64, full bool) {
	st := s.stats[kind]
	if st == nil {
		return 0, false
	}
	w, limit := st.Express.Load(), st.ExpressLimit.Load()
	held := st.Queued.Load() + st.InFlight.Load()
	return w, limit > 0 && (w >= limit || held >= 2*limit)
}

// EnqueueMode tells a sender how rows arrive.
type EnqueueMode int

// Enqueue modes.
const (
	// Streaming rows may be followed by more rows of the same messages (a
	// group fan-out's chunks): their batches wait up to batch_wait to fill.
	Streaming EnqueueMode = iota
	// Complete rows are all the rows their messages will have (a peer or
	// users message): their batches are sent as soon as the limits allow,
	// ahead of fan-out batches (the express lane).
	Complete
	// Backfill rows are sent again from the store (dead letters replayed):
	// batched like a fan-out's, in the ready lane, kept in memory, never
	// counted against the express lane's backpressure.
	Backfill
)

// Enqueue hands committed outbox rows to their vendors' senders.
func (s *Senders) Enqueue(items []store.Queued, mode EnqueueMode) {
	byVendor := map[string][]store.Queued{}
	for _, q := range items {
		byVendor[q.Key.Vendor] = append(byVendor[q.Key.Vendor], q)
	}
	for v, qs := range byVendor {
		if pid, ok := s.pids[vendors.Kind(v)]; ok {
			s.system.Root.Send(pid, &enqueue{items: qs, mode: mode})
		}
	}
}

// SetConfig applies new limits to a running sender; its queue is kept.
func (s *Senders) SetConfig(kind vendors.Kind, cfg SenderConfig) {
	if pid, ok := s.pids[kind]; ok {
		s.system.Root.Send(pid, &setConfig{cfg: cfg})
	}
}

// CountTest counts a test push's verdict r under kind's sender (none
// runs for a vendor without an account: nothing is counted).
func (s *Senders) CountTest(kind vendors.Kind, r vendors.Result) {
	if st := s.stats[kind]; st != nil {
		st.CountTest(r)
	}
}

// CountArrivals counts an arrival receipt's entries under kind's sender:
// new devices delivered, repeats, and entries naming no kept message.
func (s *Senders) CountArrivals(kind vendors.Kind, delivered, duplicate, unmatched int) {
	if st := s.stats[kind]; st != nil {
		st.Arrived.Add(int64(delivered))
		st.ArrivalDuplicates.Add(int64(duplicate))
		st.ArrivalUnmatched.Add(int64(unmatched))
	}
}

// Stats returns every sender's counters.
func (s *Senders) Stats() map[vendors.Kind]SenderSnapshot {
	out := make(map[vendors.Kind]SenderSnapshot, len(s.stats))
	for k, st := range s.stats {
		out[k] = st.Snapshot()
	}
	return out
}

// Kinds lists the vendors with a sender.
func (s *Senders) Kinds() []vendors.Kind {
	var out []vendors.Kind
	for _, k := range vendors.Kinds() {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// Stop stops the senders and waits for requests in flight to finish and
// record their verdicts. Rows still queued stay in the outbox for the next start.
func (s *Senders) Stop() {
	s.once.Do(func() {
		close(s.stopT)
		for _, pid := range s.pids {
			_ = s.system.Root.StopFuture(pid).Wait()
		}
		s.wg.Wait()
		for _, p := range s.pools {
			p.Close()
		}
	})
}

// maxBatchWorkers caps one sender's batch workers. The sender's
// max_in_flight is the real limit (at most that many batches run at once);
// the cap only bounds the pool if a reload raises max_in_flight absurdly.
const maxBatchWorkers = 4096

// progressOf is client's per-target progress, for per-target clients that
// report it.
func progressOf(client vendors.Sender) vendors.Progress {
	if p, ok := client.(vendors.Progress); ok && vendors.RequestPerTarget(client) {
		return p
	}
	return nil
}

// eachOf is client's SendEach, for batch clients that have one.
func eachOf(client vendors.Sender) vendors.EachSender {
	if e, ok := client.(vendors.EachSender); ok && !vendors.RequestPerTarget(client) {
		return e
	}
	return nil
}

// start runs one batch on a batch worker: send, record verdicts, report
// back. The workers are long-lived, so the stacks that vendor requests and
// Pebble commits grow are kept from one batch to the next. With a client
// that reports progress, each target gives its request slot back as soon
// as its request ends (through freed, with a wake-up when freed was empty),
// so one slow target holds one slot, not its whole batch's.
func (d *senderDeps) start(ctx actor.Context, kind vendors.Kind, cfg SenderConfig, b *batch, requests int) {
	self := ctx.Self()
	d.wg.Add(1)
	d.pool.Go(func() {
		defer d.wg.Done()
		var ended func()
		var early atomic.Int64
		if d.progress != nil {
			ended = func() {
				early.Add(1) // the slot is free; the stats count it in flight until its verdict is recorded
				if d.freed.Add(1) >= d.wakeFreed.Load() && d.woken.CompareAndSwap(false, true) {
					d.root.Send(self, &slotsFreed{})
				}
			}
		}
		done := d.run(kind, cfg, b, ended)
		e := int(early.Load())
		done.requests = requests - e
		d.root.Send(self, done)
	})
}

// outcome collects what a batch's verdicts mean for the outbox.
type outcome struct {
	done    []store.Done
	dead    []store.Queued
	deadWhy []vendors.Result // the verdict of each dead row, for its log line
	retry   []store.Queued
	requeue []store.Queued
	unbind  []store.Queued
	// pause is the batch's first answer that pauses the sender
	// (CredentialsBroken, Misconfigured); nil = none.
	pause *vendors.Result
	// answered counts rows the vendor gave a final answer (delivered,
	// token invalid, rejected), transient rows that failed for a reason
	// that may pass: what the circuit breaker watches.
	answered, transient int
}

func (d *senderDeps) run(kind vendors.Kind, cfg SenderConfig, b *batch, ended func()) *sendDone {
	var o outcome
	if b.each {
		d.runEach(kind, cfg, b, &o)
	} else if n := d.compose(kind, cfg, b.key, b.items, &o); n != nil {
		d.send(kind, cfg, b.items, func(ctx context.Context, targets []vendors.Target) ([]vendors.Result, error) {
			if ended != nil {
				return d.progress.SendProgress(ctx, n, targets, ended)
			}
			return d.client.Send(ctx, n, targets)
		}, &o)
	}
	d.record(&o)
	return &sendDone{sent: len(b.items), retry: o.retry, requeue: o.requeue, pause: o.pause,
		answered: o.answered, transient: o.transient, probe: b.probe, seq: b.seq}
}

// compose builds the notification of items, rows of one message (key):
// nil when there is nothing to send, the rows then filed in o. A batch
// vendor's single row carries its badge in the notification.
func (d *senderDeps) compose(kind vendors.Kind, cfg SenderConfig, key batchKey, items []store.Queued, o *outcome) *vendors.Notification {
	user := ""
	if len(items) == 1 {
		user = items[0].Key.UserID
	}
	n, err := d.Composer.Notification(kind, key.row, key.voip, user)
	switch {
	case err != nil:
		d.log.Warn("cannot build notification; retrying later", "message_id", key.row.ID, "kind", key.row.Kind.String(), "err", err)
		transient := o.transient
		d.classifyAll(cfg, items, vendors.Result{Verdict: vendors.Retry, Code: "compose_failed", Reason: err.Error()}, o)
		o.transient = transient // our failure, not the vendor's: the breaker must not hear of it
		return nil
	case n == nil:
		for _, q := range items {
			o.done = append(o.done, store.Done{Key: q.Key, Outcome: store.OutcomeExpired})
		}
		d.stats.Expired.Add(int64(len(items)))
		return nil
	}
	if !d.perTarget && len(items) == 1 && items[0].Entry.Badge >= 0 {
		nn := *n
		badge := int(items[0].Entry.Badge)
		nn.Badge = &badge
		n = &nn
	}
	return n
}

// runEach sends a batch of several messages' rows (sender.mergeExpress)
// in one request through the client's SendEach: each message is composed
// once, and its rows carry its notification.
func (d *senderDeps) runEach(kind vendors.Kind, cfg SenderConfig, b *batch, o *outcome) {
	items := make([]store.Queued, 0, len(b.items))
	ns := make([]*vendors.Notification, 0, len(b.items))
	for start := 0; start < len(b.items); {
		end := start + 1
		for end < len(b.items) && b.items[end].Key.RowID == b.items[start].Key.RowID {
			end++
		}
		group := b.items[start:end]
		start = end
		n := d.compose(kind, cfg, batchKey{row: group[0].Key.RowID, voip: b.key.voip}, group, o)
		if n == nil {
			continue
		}
		items = append(items, group...)
		for range group {
			ns = append(ns, n)
		}
	}
	if len(items) == 0 {
		return
	}
	d.send(kind, cfg, items, func(ctx context.Context, targets []vendors.Target) ([]vendors.Result, error) {
		return d.each.SendEach(ctx, ns, targets)
	}, o)
}

// send makes the vendor call for items through call and files each row
// under its verdict.
func (d *senderDeps) send(kind vendors.Kind, cfg SenderConfig, items []store.Queued, call func(context.Context, []vendors.Target) ([]vendors.Result, error), o *outcome) {
	targets := make([]vendors.Target, len(items))
	var badges []int
	for i, q := range items {
		targets[i] = vendors.Target{Token: q.Entry.Token, APNsEnv: q.Entry.APNsEnv}
		if d.perTarget && q.Entry.Badge >= 0 {
			if badges == nil {
				badges = make([]int, len(items))
			}
			badges[i] = int(q.Entry.Badge)
			targets[i].Badge = &badges[i]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.SendTimeout)
	defer cancel()
	start := time.Now()
	results, err := call(ctx, targets)
	if d.ObserveBatch != nil {
		d.ObserveBatch(kind, len(targets), time.Since(start))
	}
	if err == nil && len(results) != len(targets) {
		err = fmt.Errorf("client returned %d results for %d targets", len(results), len(targets))
	}
	if err != nil {
		d.classifyAll(cfg, items, vendors.Result{Verdict: vendors.Retry, Code: "send_error", Reason: err.Error()}, o)
		return
	}
	for i, r := range results {
		q := items[i]
		// An automatic token is tried on production first, so only a
		// development answer is worth remembering: it saves the failed
		// production request on every later push.
		if r.ResolvedEnv == "development" && q.Entry.APNsEnv == "automatic" && !q.Entry.VoIP {
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := d.Users.RememberAPNsEnv(rctx, q.Key.UserID, q.Key.DeviceID, q.Entry.Token, r.ResolvedEnv); err != nil {
				d.log.Warn("remembering APNs environment failed", "user_id", q.Key.UserID, "err", err)
			}
			rcancel()
		}
		d.classify(cfg, q, r, o)
	}
}

func (d *senderDeps) classifyAll(cfg SenderConfig, items []store.Queued, r vendors.Result, o *outcome) {
	for _, q := range items {
		d.classify(cfg, q, r, o)
	}
}

// classify files one row under its verdict.
func (d *senderDeps) classify(cfg SenderConfig, q store.Queued, r vendors.Result, o *outcome) {
	switch r.Verdict {
	case vendors.Delivered:
		o.answered++
		o.done = append(o.done, store.Done{Key: q.Key, Outcome: store.OutcomeSent})
		d.stats.Sent.Add(1)
		if q.Key.Kind == store.RowMessage {
			d.stats.MessagesSent.Add(1)
		}
	case vendors.TokenInvalid:
		o.answered++
		if !r.NotSent {
			q.Entry.Attempts++
		}
		q.Entry.LastCode = r.Code
		o.done = append(o.done, store.Done{Key: q.Key, Outcome: store.OutcomeInvalid, Code: r.Code, Attempts: q.Entry.Attempts})
		o.unbind = append(o.unbind, q)
		d.stats.Invalid.Add(1)
		d.stats.Failed.Add(1)
		d.stats.codes.add(r.Code)
	case vendors.CredentialsBroken, vendors.Misconfigured:
		// Our side is wrong, not the push: hold the row (no attempt
		// counted) until the pause ends, and pause the sender.
		o.requeue = append(o.requeue, q)
		if o.pause == nil {
			o.pause = &vendors.Result{Verdict: r.Verdict, Code: r.Code, Reason: r.Reason}
		}
	case vendors.Retry:
		// A transient failure is tried again until the message's ttl
		// ends (the composer then drops the row as expired), however
		// long a vendor's outage lasts; max_attempts > 0 caps it.
		if !r.Throttled { // throttling says nothing of the vendor's health: the breaker ignores it
			o.transient++
		}
		q.Entry.Attempts++
		q.Entry.LastCode = r.Code
		if cfg.MaxAttempts > 0 && q.Entry.Attempts >= int64(cfg.MaxAttempts) {
			d.deadLetter(q, r, o)
			return
		}
		q.Entry.NotBefore = d.clock.Now().Add(backoff(cfg, q.Entry.Attempts, r.RetryAfter, d.jitter)).UnixMilli()
		o.retry = append(o.retry, q)
		d.stats.Retried.Add(1)
	default: // Rejected: final, kept among the dead letters for operators
		o.answered++
		if !r.NotSent {
			q.Entry.Attempts++ // this send was one
		}
		q.Entry.LastCode = r.Code
		d.deadLetter(q, r, o)
	}
}

// deadLetter files q (its Attempts and LastCode set) among the dead
// letters, counted and logged with r's verdict.
func (d *senderDeps) deadLetter(q store.Queued, r vendors.Result, o *outcome) {
	o.dead = append(o.dead, q)
	o.deadWhy = append(o.deadWhy, r)
	d.stats.Dead.Add(1)
	d.stats.Failed.Add(1)
	d.stats.codes.add(q.Entry.LastCode)
}

// record writes the outcome to the store and unbinds dead tokens.
func (d *senderDeps) record(o *outcome) {
	if err := d.Store.OutboxDone(o.done); err != nil {
		d.log.Error("outbox update failed", "err", err)
	}
	if err := d.Store.OutboxRetry(o.retry); err != nil {
		d.log.Error("outbox retry update failed", "err", err)
	}
	if err := d.Store.DeadLetter(o.dead); err != nil {
		d.log.Error("dead-lettering failed", "err", err)
	} else {
		for i, q := range o.dead {
			d.failures.dead(q, o.deadWhy[i])
		}
	}
	for _, q := range o.unbind {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if ok, err := d.Users.UnbindToken(ctx, q.Key.UserID, q.Key.DeviceID, q.Key.Vendor, q.Entry.Token); err != nil {
			d.log.Warn("unbinding invalid token failed", "user_id", q.Key.UserID, "device_id", q.Key.DeviceID, "err", err)
		} else if ok {
			d.failures.unbound(q, q.Entry.LastCode)
		}
		cancel()
	}
}
