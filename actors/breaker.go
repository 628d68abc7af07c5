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
type breaker struct {
	state   BreakerState
	fails   int           // batches in a row failed wholly for transient reasons
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

// observe takes one finished batch: rows the vendor answered (delivered,
// token invalid, rejected) and rows that failed for a transient reason.
// It returns the state change, if any, for the log.
func (s *sender) observe(now time.Time, answered, transient int, probe bool) (from, to BreakerState, changed bool) {
	b := &s.breaker
	from = b.state
	if probe {
		b.probing = false
	}
	switch {
	case answered > 0:
		b.fails = 0
		if b.state != breakerClosed && (probe || b.state == breakerHalfOpen) {
			b.state, b.openFor = breakerClosed, 0
		}
	case transient > 0:
		b.fails++
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
