package actors

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// The bulk share halves while the scheduler's p99 is over the target and
// chat traffic is recent, stops at 1/64, grows back by a fifth while the
// p99 is under half the target, holds in between, and is 1 again once
// chat traffic has been quiet for YieldQuiet (or was never seen, or the
// target is 0).
func TestYieldHalvesUnderLatencyAndRecoversWhenChatIsQuiet(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	y := NewYield(time.Millisecond)
	if got := y.Observe(now, time.Second); got != 1 {
		t.Fatalf("no chat traffic yet, p99 1s: share %v, want 1", got)
	}
	y.Chat(now)
	want := 1.0
	for i := range 8 {
		now = now.Add(YieldEvery)
		want = max(want/2, yieldMinShare)
		if got := y.Observe(now, 5*time.Millisecond); got != want {
			t.Fatalf("step %d over the target: share %v, want %v", i, got, want)
		}
		y.Chat(now)
	}
	if want != yieldMinShare {
		t.Fatalf("after 8 halvings the share is %v, want the floor %v", want, yieldMinShare)
	}
	if got := y.Observe(now, 700*time.Microsecond); got != yieldMinShare {
		t.Fatalf("p99 between half the target and the target: share %v, want it held at %v", got, yieldMinShare)
	}
	if got := y.Observe(now, 100*time.Microsecond); got != yieldMinShare*1.2 {
		t.Fatalf("p99 under half the target: share %v, want %v", got, yieldMinShare*1.2)
	}
	if got := y.Share(); got != yieldMinShare*1.2 {
		t.Fatalf("Share %v after Observe", got)
	}
	if got := y.Observe(now.Add(YieldQuiet), 5*time.Millisecond); got == 1 {
		t.Fatal("chat exactly YieldQuiet ago still counts; the share went back to 1")
	}
	if got := y.Observe(now.Add(YieldQuiet+time.Nanosecond), 5*time.Millisecond); got != 1 {
		t.Fatalf("chat quiet for longer than YieldQuiet: share %v, want 1", got)
	}
	off := NewYield(0)
	off.Chat(now)
	if got := off.Observe(now, time.Second); got != 1 {
		t.Fatalf("target 0: share %v, want 1", got)
	}
	var none *Yield
	none.Chat(now)
	if none.Share() != 1 {
		t.Fatal("a nil Yield yields")
	}
	for _, tc := range []struct {
		max   int
		share float64
		want  int
	}{{500, 1, 500}, {500, 0.5, 250}, {500, yieldMinShare, 8}, {16, yieldMinShare, 1}, {1, 0.5, 1}, {3, 0.5, 2}} {
		if got := bulkLimit(tc.max, tc.share); got != tc.want {
			t.Errorf("bulkLimit(%d, %v) = %d, want %d", tc.max, tc.share, got, tc.want)
		}
	}
}

// While Yield holds the bulk lane to a share, a fan-out's batches keep at
// most that share of max_in_flight in flight, and a peer message's row
// (express) still starts beside them; once the share is 1 again the
// fan-out fills the whole limit.
func TestSenderHoldsFanOutToTheYieldShareButNotPeerMessages(t *testing.T) {
	gate := make(chan struct{})
	client := &fakeClient{kind: vendors.APNs, perTarget: true, maxBatch: 1, gate: gate}
	cfg := baseSenderConfig()
	cfg.MaxInFlight, cfg.BatchSize, cfg.BatchWait = 100, 100, 0
	h := newHarness(t, t.TempDir(), 4)
	y := NewYield(time.Millisecond)
	now := time.Unix(1_700_000_000, 0)
	y.Chat(now)
	for range 3 {
		y.Observe(now, time.Second) // 1/2, 1/4, 1/8: 13 of 100 slots
	}
	sh := newSenderHarnessYielding(t, h, client, cfg, y)
	var release sync.Once
	open := func() { release.Do(func() { close(gate) }) }
	t.Cleanup(open) // before the senders stop (cleanups run last first): a failed wait must not leave sends blocked
	outstanding := func() int {
		client.mu.Lock()
		defer client.mu.Unlock()
		return client.outstanding
	}
	sh.senders.Enqueue(rows(vendors.APNs, "group", 300), Streaming)
	held := bulkLimit(100, 1.0/8)
	waitFor(t, "the fan-out's first starts", func() bool { return outstanding() >= held })
	sh.step(t, vendors.APNs) // nothing has come back: nothing more may start
	if n := outstanding(); n != held {
		t.Fatalf("%d fan-out requests in flight at share 1/8 of 100; want %d", n, held)
	}
	for i := range 5 { // more peer messages than express starts in a row (expressShare) while the fan-out waits
		sh.senders.Enqueue(rows(vendors.APNs, fmt.Sprint("peer-", i), 1), Complete)
	}
	waitFor(t, "the peer rows to start beside the held fan-out", func() bool { return outstanding() == held+5 })

	y.Observe(now.Add(YieldQuiet+time.Second), time.Second) // chat quiet: share 1
	gate <- struct{}{}                                      // one request answers: the sender starts what the whole limit allows
	waitFor(t, "the fan-out to fill max_in_flight", func() bool { return outstanding() == 100 })
	open()
	waitFor(t, "every row sent", func() bool { return sh.senders.Stats()[vendors.APNs].Sent == 305 })
}
