package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// fakeClient is a vendors.Sender that records every Send. With gate set,
// each Send waits for one value on it before answering.
type fakeClient struct {
	kind      vendors.Kind
	perTarget bool
	maxBatch  int
	gate      chan struct{}
	result    func(vendors.Target) vendors.Result // nil = Delivered

	mu          sync.Mutex
	sends       [][]vendors.Target
	targets     int
	outstanding int // targets in Sends not yet answered
	peak        int
}

func (c *fakeClient) Kind() vendors.Kind     { return c.kind }
func (c *fakeClient) MaxBatch() int          { return c.maxBatch }
func (c *fakeClient) RequestPerTarget() bool { return c.perTarget }

func (c *fakeClient) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	c.record(targets)
	if c.gate != nil {
		<-c.gate
	}
	out := make([]vendors.Result, len(targets))
	for i, t := range targets {
		if c.result != nil {
			out[i] = c.result(t)
		}
	}
	c.mu.Lock()
	c.outstanding -= len(targets)
	c.mu.Unlock()
	return out, nil
}

// record notes a Send's targets as outstanding.
func (c *fakeClient) record(targets []vendors.Target) {
	c.mu.Lock()
	c.sends = append(c.sends, append([]vendors.Target(nil), targets...))
	c.targets += len(targets)
	c.outstanding += len(targets)
	c.peak = max(c.peak, c.outstanding)
	c.mu.Unlock()
}

func (c *fakeClient) snapshot() (sends [][]vendors.Target, targets, outstanding, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]vendors.Target(nil), c.sends...), c.targets, c.outstanding, c.peak
}

// countingComposer builds a plain notification and counts its calls.
type countingComposer struct{ calls atomic.Int64 }

func (c *countingComposer) Notification(_ vendors.Kind, row store.RowID, _ bool, _ string) (*vendors.Notification, error) {
	c.calls.Add(1)
	return &vendors.Notification{MessageID: row.ID, Title: "t"}, nil
}

type senderHarness struct {
	*harness
	senders  *Senders
	composer *countingComposer
	client   *fakeClient
}

// newSenderHarness runs client's sender with cfg on a fresh harness;
// opts, if any, change its SenderDeps.
func newSenderHarness(t *testing.T, client *fakeClient, cfg SenderConfig, opts ...func(*SenderDeps)) *senderHarness {
	t.Helper()
	h := newHarness(t, t.TempDir(), 4)
	return newSenderHarnessWith(t, h, client, cfg, nil, opts...)
}

// newSenderHarnessOn runs the senders on h (and h's manual clock).
func newSenderHarnessOn(t *testing.T, h *harness, client *fakeClient, cfg SenderConfig) *senderHarness {
	t.Helper()
	return newSenderHarnessWith(t, h, client, cfg, nil)
}

// newSenderHarnessYielding runs the senders on h with y holding their
// bulk lanes.
func newSenderHarnessYielding(t *testing.T, h *harness, client *fakeClient, cfg SenderConfig, y *Yield) *senderHarness {
	t.Helper()
	return newSenderHarnessWith(t, h, client, cfg, y)
}

func newSenderHarnessWith(t *testing.T, h *harness, client *fakeClient, cfg SenderConfig, y *Yield, opts ...func(*SenderDeps)) *senderHarness {
	t.Helper()
	comp := &countingComposer{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := SenderDeps{Store: h.store, Users: h.users, Composer: comp, Clock: h.clock, Logger: log, Yield: y}
	for _, o := range opts {
		o(&deps)
	}
	snd, err := NewSenders(h.users.system, deps,
		map[vendors.Kind]vendors.Sender{client.kind: client}, map[vendors.Kind]SenderConfig{client.kind: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snd.Stop)
	return &senderHarness{harness: h, senders: snd, composer: comp, client: client}
}

// rows are n outbox rows of message id for kind, row i with badge i.
func rows(kind vendors.Kind, id string, n int) []store.Queued {
	out := make([]store.Queued, n)
	for i := range out {
		out[i] = store.Queued{
			Key:   store.OutboxKey{Vendor: string(kind), RowID: store.RowID{ID: id}, UserID: fmt.Sprint("u", i), DeviceID: "d"},
			Entry: store.OutboxEntry{Token: fmt.Sprint("tok-", i), APNsEnv: "production", Badge: int64(i)},
		}
	}
	return out
}

func baseSenderConfig() SenderConfig {
	return SenderConfig{QPS: 1e6, Burst: 1e6, MaxInFlight: 500, BatchSize: 100, BatchWait: time.Hour,
		MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute}
}

func TestSenderPerTargetVendorSendsBatchesWithEachTargetsBadge(t *testing.T) {
	client := &fakeClient{kind: vendors.APNs, perTarget: true, maxBatch: 1000}
	h := newSenderHarness(t, client, baseSenderConfig())
	h.senders.Enqueue(rows(vendors.APNs, "m1", 250), Complete)
	waitFor(t, "250 sent", func() bool { return h.senders.Stats()[vendors.APNs].Sent == 250 })
	sends, targets, _, _ := client.snapshot()
	if targets != 250 || len(sends) != 3 {
		t.Fatalf("%d targets in %d sends, want 250 in 3 (batch_size 100)", targets, len(sends))
	}
	seen := map[string]bool{}
	for _, s := range sends {
		if len(s) > 100 {
			t.Fatalf("a send of %d targets, batch_size is 100", len(s))
		}
		for _, tg := range s {
			var i int
			if _, err := fmt.Sscanf(tg.Token, "tok-%d", &i); err != nil {
				t.Fatal(err)
			}
			if tg.Badge == nil || *tg.Badge != i {
				t.Fatalf("target %s badge %v, want %d", tg.Token, tg.Badge, i)
			}
			seen[tg.Token] = true
		}
	}
	if len(seen) != 250 {
		t.Fatalf("%d distinct tokens sent, want 250", len(seen))
	}
	if got := h.composer.calls.Load(); got != int64(len(sends)) {
		t.Fatalf("composed %d times for %d sends: want once per send", got, len(sends))
	}
}

func TestSenderBatchVendorSendsOneBadgeOnlyForASingleRow(t *testing.T) {
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000}
	cfg := baseSenderConfig()
	cfg.BatchSize = 1000
	h := newSenderHarness(t, client, cfg)
	h.senders.Enqueue(rows(vendors.Huawei, "m1", 20), Complete)
	waitFor(t, "20 sent", func() bool { return h.senders.Stats()[vendors.Huawei].Sent == 20 })
	sends, _, _, _ := client.snapshot()
	if len(sends) != 1 || len(sends[0]) != 20 {
		t.Fatalf("sends %v, want one of 20 targets", sends)
	}
	for _, tg := range sends[0] {
		if tg.Badge != nil {
			t.Fatalf("batch vendor target %s got a per-target badge", tg.Token)
		}
	}
}

// Every target of a per-target vendor is one request: the token bucket
// pays for each, so a batch never outruns qps.
func TestSenderPerTargetVendorPaysTheBucketPerTarget(t *testing.T) {
	client := &fakeClient{kind: vendors.FCM, perTarget: true, maxBatch: 500}
	cfg := baseSenderConfig()
	cfg.QPS, cfg.Burst = 100, 10
	h := newSenderHarness(t, client, cfg)
	h.senders.Enqueue(rows(vendors.FCM, "m1", 50), Complete)
	sentIs := func(n int64) {
		t.Helper()
		waitFor(t, fmt.Sprint(n, " sent"), func() bool { return h.senders.Stats()[vendors.FCM].Sent >= n })
		// The clock stands still: nothing more can go. The sender takes
		// every answer in and looks at the clock once more, so a send
		// beyond the bucket would have started by now.
		waitFor(t, "nothing in flight", func() bool { return h.senders.Stats()[vendors.FCM].InFlight == 0 })
		h.step(t, vendors.FCM)
		if st := h.senders.Stats()[vendors.FCM]; st.Sent != n || st.Queued != 50-n {
			t.Fatalf("sent %d, queued %d; the bucket allows %d", st.Sent, st.Queued, n)
		}
		if _, targets, _, _ := client.snapshot(); targets != int(n) {
			t.Fatalf("%d targets reached the client; the bucket allows %d", targets, n)
		}
	}
	sentIs(10) // the burst
	h.clock.Advance(100 * time.Millisecond)
	sentIs(20) // + 100/s × 0.1 s
	h.clock.Advance(50 * time.Millisecond)
	sentIs(25)
	h.clock.Advance(250 * time.Millisecond)
	sentIs(50)
}

// max_in_flight bounds a per-target vendor's requests, not its Sends.
func TestSenderPerTargetVendorBoundsTargetsInFlight(t *testing.T) {
	client := &fakeClient{kind: vendors.APNs, perTarget: true, maxBatch: 1000, gate: make(chan struct{})}
	cfg := baseSenderConfig()
	cfg.MaxInFlight = 30
	h := newSenderHarness(t, client, cfg)
	h.senders.Enqueue(rows(vendors.APNs, "m1", 100), Complete)
	waitFor(t, "30 targets in flight", func() bool { _, _, out, _ := client.snapshot(); return out == 30 })
	if st := h.senders.Stats()[vendors.APNs]; st.InFlight != 30 || st.Queued != 70 {
		t.Fatalf("in flight %d, queued %d; want 30 and 70 (max_in_flight 30)", st.InFlight, st.Queued)
	}
	go func() {
		for range 100 {
			client.gate <- struct{}{}
		}
	}()
	waitFor(t, "100 sent", func() bool { return h.senders.Stats()[vendors.APNs].Sent == 100 })
	if _, targets, _, peak := client.snapshot(); targets != 100 || peak > 30 {
		t.Fatalf("%d targets, peak %d in flight; want 100 and at most 30", targets, peak)
	}
}

// An automatic APNs token is tried on production first, so only a
// development answer is remembered on the device.
func TestSenderRemembersOnlyADevelopmentEnvironment(t *testing.T) {
	client := &fakeClient{kind: vendors.APNs, perTarget: true, maxBatch: 1000,
		result: func(tg vendors.Target) vendors.Result {
			if tg.Token == "dev-tok" {
				return vendors.Result{ResolvedEnv: "development"}
			}
			return vendors.Result{ResolvedEnv: "production"}
		}}
	h := newSenderHarness(t, client, baseSenderConfig())
	ctx := context.Background()
	for _, u := range []string{"prod", "dev"} {
		if _, err := h.users.BindDevice(ctx, u, "d", store.Device{Vendor: "apns", Token: u + "-tok", APNsEnv: "automatic"}); err != nil {
			t.Fatal(err)
		}
	}
	h.senders.Enqueue([]store.Queued{
		{Key: store.OutboxKey{Vendor: "apns", RowID: store.RowID{ID: "m"}, UserID: "prod", DeviceID: "d"}, Entry: store.OutboxEntry{Token: "prod-tok", APNsEnv: "automatic", Badge: -1}},
		{Key: store.OutboxKey{Vendor: "apns", RowID: store.RowID{ID: "m"}, UserID: "dev", DeviceID: "d"}, Entry: store.OutboxEntry{Token: "dev-tok", APNsEnv: "automatic", Badge: -1}},
	}, Complete)
	waitFor(t, "2 sent", func() bool { return h.senders.Stats()[vendors.APNs].Sent == 2 })
	env := func(u string) string {
		devs, err := h.users.Devices(ctx, u)
		if err != nil || len(devs) != 1 {
			t.Fatalf("devices of %s: %v %v", u, devs, err)
		}
		return devs[0].Device.ResolvedEnv
	}
	waitFor(t, "development remembered", func() bool { return env("dev") == "development" })
	if got := env("prod"); got != "" {
		t.Fatalf("production answer remembered as %q; nothing to remember there", got)
	}
}

// Nothing polls: the sender's own timer, on the injected clock, is what
// seals a streaming batch after batch_wait and what brings a retried row
// back after its backoff.
func TestSenderTimerServesBatchWaitAndBackoff(t *testing.T) {
	var failed atomic.Bool
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, result: func(tg vendors.Target) vendors.Result {
		if tg.Token == "tok-0" && failed.CompareAndSwap(false, true) {
			return vendors.Result{Verdict: vendors.Retry, Code: "busy"}
		}
		return vendors.Result{}
	}}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.BatchWait, cfg.InitialBackoff, cfg.MaxBackoff = 1000, 20*time.Millisecond, 40*time.Millisecond, 40*time.Millisecond
	// No jitter: the backoff is 40ms exactly (with it, 20-40ms).
	s := newSenderHarness(t, client, cfg, func(d *SenderDeps) { d.jitter = func(d time.Duration) time.Duration { return d } })
	s.senders.Enqueue(rows(vendors.Huawei, "m1", 5), Streaming) // a batch that never fills
	s.step(t, vendors.Huawei)
	s.clock.Advance(19 * time.Millisecond)
	s.step(t, vendors.Huawei)
	if sends, _, _, _ := client.snapshot(); len(sends) != 0 {
		t.Fatalf("sends %v before batch_wait", sends)
	}
	s.clock.Advance(time.Millisecond)
	waitFor(t, "the batch sealed by batch_wait, 4 sent and 1 to retry", func() bool {
		st := s.senders.Stats()[vendors.Huawei]
		return st.Sent == 4 && st.Retried == 1 && st.InFlight == 0
	})
	s.step(t, vendors.Huawei)              // the answer taken in: the retry's timer is armed
	s.clock.Advance(40 * time.Millisecond) // the backoff: the row is due
	s.step(t, vendors.Huawei)
	if sends, _, _, _ := client.snapshot(); len(sends) != 1 || s.senders.Stats()[vendors.Huawei].Queued != 1 {
		t.Fatalf("%d sends, stats %+v: want the retried row queued, its batch waiting its batch_wait", len(sends), s.senders.Stats()[vendors.Huawei])
	}
	s.clock.Advance(20 * time.Millisecond) // a retried row is batched like any other
	waitFor(t, "the retry sent", func() bool { return s.senders.Stats()[vendors.Huawei].Sent == 5 })
	if sends, _, _, _ := client.snapshot(); len(sends) != 2 || len(sends[0]) != 5 || len(sends[1]) != 1 {
		t.Fatalf("sends %v: want the batch of 5, then the retried row alone", sends)
	}
}

// A per-target sender held at its qps waits for a batch's worth of tokens
// (10 ms of qps) instead of sending one row per token as the bucket
// refills, even when it looks at the clock every millisecond.
func TestSenderPerTargetVendorAtItsQPSSendsBatchesNotSingleRows(t *testing.T) {
	client := &fakeClient{kind: vendors.FCM, perTarget: true, maxBatch: 500}
	cfg := baseSenderConfig()
	cfg.QPS, cfg.Burst = 1000, 10 // 10 ms of qps = 10 tokens
	h := newSenderHarness(t, client, cfg)
	h.senders.Enqueue(rows(vendors.FCM, "m1", 50), Complete)
	waitFor(t, "the burst sent", func() bool { return h.senders.Stats()[vendors.FCM].Sent == 10 })
	for range 40 { // 40 ms in 1 ms steps, the sender looking at every one
		h.clock.Advance(time.Millisecond)
		h.step(t, vendors.FCM)
	}
	waitFor(t, "all sent", func() bool { return h.senders.Stats()[vendors.FCM].Sent == 50 })
	sends, _, _, _ := client.snapshot()
	for _, s := range sends {
		if len(s) != 10 {
			t.Fatalf("send sizes %v: want batches of 10 (the burst, then 10 ms of qps each)", sizes(sends))
		}
	}
}

func sizes(sends [][]vendors.Target) []int {
	out := make([]int, len(sends))
	for i, s := range sends {
		out[i] = len(s)
	}
	return out
}

// step has kind's sender look at the clock now and waits until it has.
func (h *senderHarness) step(t *testing.T, kind vendors.Kind) {
	t.Helper()
	if _, err := h.senders.system.Root.RequestFuture(h.senders.pids[kind], &senderSync{}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
}

// progressClient is a per-target fakeClient that reports each target's end
// (vendors.Progress) and answers every target on its own goroutine; the
// target whose token is slow waits for one value on gate.
type progressClient struct {
	*fakeClient
	slow string
}

func (c *progressClient) SendProgress(ctx context.Context, n *vendors.Notification, targets []vendors.Target, ended func()) ([]vendors.Result, error) {
	c.record(targets)
	var wg sync.WaitGroup
	for _, tg := range targets {
		wg.Go(func() {
			if tg.Token == c.slow {
				<-c.gate
			}
			c.mu.Lock()
			c.outstanding--
			c.mu.Unlock()
			ended()
		})
	}
	wg.Wait()
	return make([]vendors.Result, len(targets)), nil
}

// A target whose request ended gives its max_in_flight slot back at once:
// one slow target holds one slot, not its whole batch's, so the rest of the
// queue goes out while it waits, and never more than max_in_flight at once.
func TestSenderSlowTargetHoldsOnlyItsOwnSlot(t *testing.T) {
	client := &progressClient{fakeClient: &fakeClient{kind: vendors.APNs, perTarget: true, maxBatch: 1000,
		gate: make(chan struct{})}, slow: "tok-0"}
	cfg := baseSenderConfig()
	cfg.MaxInFlight = 10
	snd, _ := sendersOf(t, client, cfg)
	t.Cleanup(snd.Stop)
	t.Cleanup(func() { close(client.gate) }) // runs first: a failed test must not leave tok-0 blocking Stop
	snd.Enqueue(rows(vendors.APNs, "m1", 100), Complete)
	waitFor(t, "every target at the client while tok-0 waits", func() bool {
		_, targets, _, _ := client.snapshot()
		return targets == 100
	})
	// The last targets answer on their own goroutines: wait for them to
	// end, then only tok-0 may be left, and never more than 10 at once.
	waitFor(t, "every target but tok-0 answered", func() bool { _, _, out, _ := client.snapshot(); return out == 1 })
	if _, _, out, peak := client.snapshot(); out != 1 || peak > 10 {
		t.Fatalf("%d targets outstanding (want only tok-0), peak %d (max_in_flight 10)", out, peak)
	}
	// The slots came back one by one (every target reached the client
	// with max_in_flight 10 while tok-0 held one); the stats count a
	// target in flight until its verdict is recorded, so the rows of
	// tok-0's batch are in flight and every other row is sent.
	waitFor(t, "tok-0's batch in flight, the rest sent", func() bool {
		st := snd.Stats()[vendors.APNs]
		return st.InFlight >= 1 && st.Sent+st.InFlight == 100
	})
	client.gate <- struct{}{}
	waitFor(t, "100 sent", func() bool { return snd.Stats()[vendors.APNs].Sent == 100 })
	waitFor(t, "nothing in flight or queued after the last answer", func() bool {
		st := snd.Stats()[vendors.APNs]
		return st.InFlight == 0 && st.Queued == 0
	})
}

// A peer message's batch goes out ahead of a group fan-out's queued
// batches (the next start after the one in flight), and a flood of them
// still leaves the fan-out one start in every expressShare+1.
func TestSenderServesCompleteMessagesAheadOfAQueuedFanOutAndKeepsItMoving(t *testing.T) {
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, gate: make(chan struct{})}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight = 1000, 1
	h := newSenderHarness(t, client, cfg)
	t.Cleanup(func() { close(client.gate) }) // runs before Stop: nothing left blocking
	h.senders.Enqueue(rows(vendors.Huawei, "group", 100_000), Streaming)
	sent := func(n int) [][]vendors.Target {
		t.Helper()
		waitFor(t, fmt.Sprint(n, " sends at the client"), func() bool { s, _, _, _ := client.snapshot(); return len(s) == n })
		s, _, _, _ := client.snapshot()
		return s
	}
	sent(1) // the fan-out's first batch is in flight; 99 wait
	peer := func(i int) []store.Queued {
		q := rows(vendors.Huawei, fmt.Sprint("peer-", i), 1)
		q[0].Entry.Token = fmt.Sprint("peer-tok-", i)
		return q
	}
	h.senders.Enqueue(peer(0), Complete)
	h.step(t, vendors.Huawei)
	client.gate <- struct{}{}
	if s := sent(2); len(s[1]) != 1 || s[1][0].Token != "peer-tok-0" {
		t.Fatalf("second send %d targets, first %q: want the peer message ahead of 99 fan-out batches", len(s[1]), s[1][0].Token)
	}
	for i := 1; i <= 8; i++ {
		h.senders.Enqueue(peer(i), Complete)
	}
	h.step(t, vendors.Huawei)
	// peer-0 was the first express start of a run: two more peer
	// messages, then a fan-out batch, three peer messages, a fan-out
	// batch, the last three, and the fan-out alone again.
	got := ""
	for n := 3; n <= 13; n++ {
		client.gate <- struct{}{}
		s := sent(n)
		if len(s[n-1]) == 1 {
			got += "P"
		} else {
			got += "F"
		}
	}
	if want := "PPFPPPFPPPF"; got != want {
		t.Fatalf("start order %s, want %s (P: a peer message, F: a fan-out batch of 1000)", got, want)
	}
}

// eachClient is a batch fakeClient with SendEach (vendors.EachSender):
// it records the message id each target's notification carries.
type eachClient struct {
	*fakeClient
	mu   sync.Mutex
	each [][]string // per SendEach call, the message id of each target
}

func (c *eachClient) SendEach(ctx context.Context, ns []*vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.MessageID
	}
	c.mu.Lock()
	c.each = append(c.each, ids)
	c.mu.Unlock()
	return c.fakeClient.Send(ctx, nil, targets)
}

// Peer messages that queue behind a fan-out's batch at a vendor whose
// batch requests take a notification per target go out together in one
// request, each target with its own message's notification, and the
// fan-out's next batch follows them.
func TestSenderJoinsQueuedPeerMessagesIntoOneRequestWhereTheVendorTakesOneNotificationPerTarget(t *testing.T) {
	client := &eachClient{fakeClient: &fakeClient{kind: vendors.OPPO, maxBatch: 1000, gate: make(chan struct{})}}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight = 1000, 1
	snd, comp := sendersOf(t, client, cfg)
	t.Cleanup(func() { close(client.gate); snd.Stop() })
	sent := func(n int) [][]vendors.Target {
		t.Helper()
		waitFor(t, fmt.Sprint(n, " sends at the client"), func() bool { s, _, _, _ := client.snapshot(); return len(s) == n })
		s, _, _, _ := client.snapshot()
		return s
	}
	snd.Enqueue(rows(vendors.OPPO, "group", 2000), Streaming)
	sent(1) // the fan-out's first batch is in flight
	const peers = 5
	for i := range peers {
		q := rows(vendors.OPPO, fmt.Sprint("peer-", i), 1)
		q[0].Key.UserID = fmt.Sprint("pu-", i)
		q[0].Entry.Token = fmt.Sprint("peer-tok-", i)
		snd.Enqueue(q, Complete)
	}
	if _, err := snd.system.Root.RequestFuture(snd.pids[vendors.OPPO], &senderSync{}, 5*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	client.gate <- struct{}{}
	s := sent(2)
	if len(s[1]) != peers {
		t.Fatalf("second request carried %d targets, want the %d queued peer messages together", len(s[1]), peers)
	}
	client.mu.Lock()
	each := client.each
	client.mu.Unlock()
	if len(each) != 1 {
		t.Fatalf("%d SendEach calls, want 1", len(each))
	}
	for i, tgt := range s[1] {
		if want := fmt.Sprint("peer-tok-", i); tgt.Token != want || each[0][i] != fmt.Sprint("peer-", i) {
			t.Errorf("target %d: token %q with message %q, want %q with peer-%d", i, tgt.Token, each[0][i], want, i)
		}
	}
	client.gate <- struct{}{}
	if s := sent(3); len(s[2]) != 1000 {
		t.Fatalf("third request carried %d targets, want the fan-out's next batch of 1000", len(s[2]))
	}
	client.gate <- struct{}{}
	waitFor(t, "every row sent", func() bool { return snd.Stats()[vendors.OPPO].Sent == 2000+peers })
	if got := comp.calls.Load(); got != 2+peers {
		t.Errorf("%d compositions, want one per fan-out batch (2) and one per peer message (%d)", got, peers)
	}
}

// sendersOf runs client's sender alone with cfg on a fresh harness; the
// caller stops it.
func sendersOf(t *testing.T, client vendors.Sender, cfg SenderConfig) (*Senders, *countingComposer) {
	t.Helper()
	h := newHarness(t, t.TempDir(), 4)
	comp := &countingComposer{}
	snd, err := NewSenders(h.users.system, SenderDeps{Store: h.store, Users: h.users, Composer: comp,
		Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		map[vendors.Kind]vendors.Sender{client.Kind(): client}, map[vendors.Kind]SenderConfig{client.Kind(): cfg})
	if err != nil {
		t.Fatal(err)
	}
	return snd, comp
}

// lagClock is h's manual clock read behind by lag: a wall clock stepped
// back (timers keep their durations, as time.Timer's monotonic ones do).
type lagClock struct {
	*testutil.Clock
	lag atomic.Int64 // nanoseconds
}

func (c *lagClock) Now() time.Time { return c.Clock.Now().Add(-time.Duration(c.lag.Load())) }

// A wall clock stepped back while a retry's timer is armed: the timer
// fires before the row is due (by the clock's Now), and the sender arms a
// new one for the row's due time instead of taking its spent deadline for
// a timer still to come.
func TestSenderReArmsItsTimerWhenTheWallClockStepsBack(t *testing.T) {
	var failed atomic.Bool
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, result: func(vendors.Target) vendors.Result {
		if failed.CompareAndSwap(false, true) {
			return vendors.Result{Verdict: vendors.Retry, Code: "busy"}
		}
		return vendors.Result{}
	}}
	cfg := baseSenderConfig()
	cfg.BatchWait, cfg.InitialBackoff, cfg.MaxBackoff = 0, 40*time.Millisecond, 40*time.Millisecond
	h := newHarness(t, t.TempDir(), 1)
	clk := &lagClock{Clock: h.clock}
	s := newSenderHarnessWith(t, h, client, cfg, nil, func(d *SenderDeps) {
		d.Clock, d.jitter = clk, func(d time.Duration) time.Duration { return d }
	})
	s.senders.Enqueue(rows(vendors.Huawei, "m1", 1), Complete)
	waitFor(t, "the row answered retry", func() bool {
		st := s.senders.Stats()[vendors.Huawei]
		return st.Retried == 1 && st.InFlight == 0
	})
	s.step(t, vendors.Huawei) // the answer taken in: the backoff's timer is armed
	clk.lag.Store(int64(10 * time.Second))
	h.clock.Advance(40 * time.Millisecond) // fires; by Now the row is due in 10s
	s.step(t, vendors.Huawei)
	if st := s.senders.Stats()[vendors.Huawei]; st.Sent != 0 || st.Queued != 1 {
		t.Fatalf("stats %+v: want the row still waiting for its due time", st)
	}
	h.clock.Advance(10*time.Second - time.Millisecond)
	s.step(t, vendors.Huawei)
	if st := s.senders.Stats()[vendors.Huawei]; st.Sent != 0 {
		t.Fatalf("stats %+v: sent before its due time", st)
	}
	h.clock.Advance(time.Millisecond) // due by Now: only a re-armed timer sends it
	waitFor(t, "the retry sent at its due time", func() bool { return s.senders.Stats()[vendors.Huawei].Sent == 1 })
}
