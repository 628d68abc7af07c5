package actors

import "time"

// A vendor's circuit breaker, owned by its sender actor. While a vendor is
// down every request fails, and every failed row waits its own backoff;
// without a breaker the sender would keep spending its whole qps on
// requests that cannot succeed (a retry storm), and each row's attempts
// would run up. So after breakerTrips batches in a row whose every row
// failed for a transient reason and none was answered, the breaker opens:
// the sender starts nothing for a while (rows wait where they are, no
// attempt is spent), then lets one batch through (half-open). The probe
// answered closes it and the sender resumes at its configured rate; the
// probe failing opens it again for twice as long, up to breakerMaxOpen.
//
// "In a row" is in the order the batches started, not the order they
// ended. With many batches in flight, a batch that started before the
// vendor went down may end, answered, after later batches failed: its
// answer is old news and does not reset the count; likewise a failure of
// a batch that started before one the vendor answered. A batch with any
// row answered resets the count, so a vendor failing only part of each
// batch never trips the breaker (those rows back off one by one). And
// since the batches in flight when the vendor goes down end first (failed
// after their timeout, or answered), the breaker opens about one request
// latency after the outage began, plus the time for breakerTrips batches
// started after the last answered one to fail: with max_in_flight
// requests in flight, that is later under load than when idle.
type breaker struct {
	state   BreakerState
	fails   int           // batches in a row (by start) failed wholly for transient reasons
	started uint64        // batches started so far: the next one's seq is started+1
	okSeq   uint64        // the latest-started batch the vendor answered
	failSeq uint64        // the latest-started batch that failed wholly
	until   time.Time     // open until then
	openFor time.Duration // the next open period
	probing bool          // half-open: the probe is in flight
}

type BreakerState int

// Breaker states: /v1/stats shows their names, herald_vendor_breaker
// their values.
const (
	breakerClosed   BreakerState = iota // sending at the configured rate
	breakerOpen                         // the vendor looks down: nothing starts until until
	breakerHalfOpen                     // one probe batch may go
)

func (b BreakerState) String() string {
	switch b {
	case breakerOpen:
		return "open"
	case breakerHalfOpen:
		return "half_open"
	}
	return "closed"
}

const (
	breakerTrips   = 3                // wholly failed batches in a row that open the breaker
	breakerMinOpen = time.Second      // the first open period (or initial_backoff, if longer)
	breakerMaxOpen = 30 * time.Second // a down vendor is probed at least this often
)

// observe takes one finished batch, the seq-th started: rows the vendor
// answered (delivered, token invalid, rejected) and rows that failed for a
// transient reason. An answer or failure older (by start) than the latest
// of the other kind is ignored. It returns the state change, if any, for
// the log.
func (s *sender) observe(now time.Time, seq uint64, answered, transient int, probe bool) (from, to BreakerState, changed bool) {
	b := &s.breaker
	from = b.state
	if probe {
		b.probing = false
	}
	switch {
	case answered > 0 && seq < b.failSeq && !probe:
		// started before a batch that failed: says nothing of now
	case answered > 0:
		b.fails, b.okSeq = 0, max(b.okSeq, seq)
		if b.state != breakerClosed && (probe || b.state == breakerHalfOpen) {
			b.state, b.openFor = breakerClosed, 0
		}
	case transient > 0 && seq < b.okSeq && !probe:
		// started before a batch the vendor answered: says nothing of now
	case transient > 0:
		b.fails, b.failSeq = b.fails+1, max(b.failSeq, seq)
		switch {
		case b.state == breakerHalfOpen && probe:
			b.open(now, s.cfg, true)
		case b.state == breakerClosed && b.fails >= breakerTrips:
			b.open(now, s.cfg, false)
		}
	}
	s.stats.Breaker.Store(int64(b.state))
	return from, b.state, from != b.state
}

func (b *breaker) open(now time.Time, cfg SenderConfig, again bool) {
	switch {
	case b.openFor == 0:
		b.openFor = min(max(breakerMinOpen, cfg.InitialBackoff), breakerMaxOpen)
	case again:
		b.openFor = min(2*b.openFor, breakerMaxOpen)
	}
	b.state, b.until = breakerOpen, now.Add(b.openFor)
}

// reopen turns an open breaker whose period has passed half-open, with or
// without traffic waiting (pump calls it first): the next batch probes.
func (s *sender) reopen(now time.Time) {
	if b := &s.breaker; b.state == breakerOpen && !now.Before(b.until) {
		b.state = breakerHalfOpen
		s.stats.Breaker.Store(int64(b.state))
	}
}

// admit is the breaker's say in pump: whether a batch may start now, and
// whether that batch is the half-open probe.
func (s *sender) admit(now time.Time) (ok, probe bool) {
	b := &s.breaker
	s.reopen(now)
	if b.state == breakerOpen {
		return false, false
	}
	if b.state == breakerHalfOpen {
		if b.probing {
			return false, false
		}
		return true, true
	}
	return true, false
}
