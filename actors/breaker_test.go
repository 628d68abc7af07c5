package actors

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// A vendor down for 60 s in the middle of a fan-out loses nothing: no row
// is dead-lettered for a transient failure, however many attempts it
// took; the circuit breaker opens after three wholly failed batches, so
// the outage costs a handful of probe requests instead of every row's
// retries; once the vendor answers, the probe closes it and every row is
// delivered exactly once. The clock is the injected one.
func TestVendorOutageOfAMinuteLosesNothingAndTheBreakerBoundsTheRequests(t *testing.T) {
	var down atomic.Bool
	var duringOutage atomic.Int64
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, result: func(vendors.Target) vendors.Result {
		if down.Load() {
			return vendors.Result{Verdict: vendors.Retry, Code: "unavailable", Reason: "HTTP 503"}
		}
		return vendors.Result{}
	}}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight, cfg.MaxAttempts = 100, 4, 0 // retry until the ttl (the default)
	cfg.InitialBackoff, cfg.MaxBackoff = 500*time.Millisecond, 5*time.Minute
	cfg.BatchWait = 0
	h := newSenderHarness(t, client, cfg)
	const rowsN = 2000
	settle := func() {
		t.Helper()
		h.step(t, vendors.Huawei)
		waitFor(t, "the sender's batches to come back", func() bool {
			st := h.senders.Stats()[vendors.Huawei]
			return st.InFlight == 0
		})
		h.step(t, vendors.Huawei) // take in what came back; start what may go
	}
	down.Store(true)
	h.senders.Enqueue(rows(vendors.Huawei, "group", rowsN), Streaming)
	sawOpen := false
	for range 60 { // one minute of outage, a second at a time
		settle()
		sends, _, _, _ := client.snapshot()
		duringOutage.Store(int64(len(sends)))
		if h.senders.Stats()[vendors.Huawei].Breaker.String() == "open" {
			sawOpen = true
		}
		h.clock.Advance(time.Second)
	}
	st := h.senders.Stats()[vendors.Huawei]
	if !sawOpen || st.BreakerOpened == 0 {
		t.Fatalf("breaker never opened during the outage: %+v", st)
	}
	// Without a breaker each of the 20 batches is tried ~7 times in a
	// minute of backoff (0.5 s doubling); with it: the first in-flight
	// batches, then one probe per open period (1, 2, 4, 8, 16, 30 s).
	if n := duringOutage.Load(); n > 15 {
		t.Fatalf("%d requests reached the down vendor in a minute; the breaker should hold it to a few probes", n)
	}
	if st.Dead != 0 || st.Failed != 0 {
		t.Fatalf("dead-lettered during a transient outage: dead %d failed %d", st.Dead, st.Failed)
	}
	down.Store(false)
	for i := 0; h.senders.Stats()[vendors.Huawei].Sent < rowsN; i++ {
		if i > 600 {
			t.Fatalf("after the outage and 10 minutes: %+v", h.senders.Stats()[vendors.Huawei])
		}
		h.clock.Advance(time.Second)
		settle()
	}
	st = h.senders.Stats()[vendors.Huawei]
	if st.Dead != 0 || st.Failed != 0 || st.Breaker.String() != "closed" {
		t.Fatalf("after recovery: %+v; want nothing dead and the breaker closed", st)
	}
	seen := map[string]int{}
	sends, _, _, _ := client.snapshot()
	failedSends := duringOutage.Load()
	for i, s := range sends {
		if int64(i) < failedSends {
			continue // answered 503: not delivered
		}
		for _, tg := range s {
			seen[tg.Token]++
		}
	}
	for i := range rowsN {
		if n := seen[fmt.Sprint("tok-", i)]; n != 1 {
			t.Fatalf("tok-%d delivered %d times after the outage; want exactly once", i, n)
		}
	}
}

// A vendor that throttles (429, quota) is up: the breaker stays closed
// however many batches it slows down. One that fails opens it, and once
// the open period has passed it is half-open (the next batch probes) even
// with nothing waiting to go.
func TestBreakerIgnoresThrottlingAndGoesHalfOpenWithoutTraffic(t *testing.T) {
	var throttle atomic.Bool
	throttle.Store(true)
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, result: func(vendors.Target) vendors.Result {
		return vendors.Result{Verdict: vendors.Retry, Code: "busy", Throttled: throttle.Load()}
	}}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight, cfg.MaxAttempts, cfg.BatchWait = 1, 1, 1, 0 // one attempt: the rows leave as dead letters
	h := newSenderHarness(t, client, cfg)
	stats := func() SenderSnapshot { return h.senders.Stats()[vendors.Huawei] }
	h.senders.Enqueue(rows(vendors.Huawei, "throttled", 5), Complete)
	waitFor(t, "5 throttled answers", func() bool { return stats().Dead == 5 && stats().InFlight == 0 })
	if st := stats(); st.Breaker.String() != "closed" || st.BreakerOpened != 0 {
		t.Fatalf("after 5 throttled batches: breaker %s, opened %d; want closed (the vendor is up)", st.Breaker, st.BreakerOpened)
	}
	throttle.Store(false)
	h.senders.Enqueue(rows(vendors.Huawei, "down", 3), Complete)
	waitFor(t, "3 failed batches", func() bool { return stats().Dead == 8 && stats().InFlight == 0 })
	h.step(t, vendors.Huawei)
	if st := stats(); st.Breaker.String() != "open" || st.BreakerOpened != 1 {
		t.Fatalf("after 3 failed batches: breaker %s, opened %d; want open once", st.Breaker, st.BreakerOpened)
	}
	h.clock.Advance(999 * time.Millisecond)
	h.step(t, vendors.Huawei)
	if st := stats(); st.Breaker.String() != "open" {
		t.Fatalf("before the open period ends: %s", st.Breaker)
	}
	h.clock.Advance(time.Millisecond)
	h.step(t, vendors.Huawei)
	if st := stats(); st.Breaker.String() != "half_open" {
		t.Fatalf("the open period over, nothing queued: breaker %s; want half_open", st.Breaker)
	}
}

// With many batches in flight, the breaker counts failures in the order
// the batches started: batches that started before the vendor went down
// and end answered after later batches failed do not reset the count (the
// outage scenario's breaker once never opened so), and a failure of a
// batch older than one the vendor answered does not add to it.
func TestBreakerCountsBatchesInStartOrder(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &sender{stats: &SenderStats{}, cfg: baseSenderConfig()}
	ok := func(seq uint64) { s.observe(now, seq, 1, 0, false) }
	fail := func(seq uint64) { s.observe(now, seq, 0, 1, false) }
	s.breaker.started = 9 // batches 1..9 in flight; the vendor went down after 3 started
	fail(4)
	ok(1)
	fail(5)
	ok(2)
	ok(3)
	if s.breaker.state != breakerClosed || s.breaker.fails != 2 {
		t.Fatalf("after 2 failures and 3 older answers: %s with %d fails; want closed with 2", s.breaker.state, s.breaker.fails)
	}
	fail(6)
	if s.breaker.state != breakerOpen || s.stats.Breaker.Load() != int64(breakerOpen) {
		t.Fatalf("after 3 failures by start: %s; want open", s.breaker.state)
	}

	s = &sender{stats: &SenderStats{}, cfg: baseSenderConfig()}
	fail(1)
	fail(2)
	ok(4) // a later batch answered: the vendor is up
	fail(3)
	fail(3)
	if s.breaker.state != breakerClosed || s.breaker.fails != 0 {
		t.Fatalf("failures older than an answer: %s with %d fails; want closed with 0", s.breaker.state, s.breaker.fails)
	}
	fail(5)
	fail(6)
	fail(7)
	if s.breaker.state != breakerOpen {
		t.Fatalf("3 failures after the answer: %s; want open", s.breaker.state)
	}
}
