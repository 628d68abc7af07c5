package actors

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// sortedRows are n outbox rows of message id in key order (zero-padded
// user ids), written to the store as a fan-out's chunks would be.
func sortedRows(t *testing.T, st *store.Store, kind vendors.Kind, id string, n int) []store.Queued {
	t.Helper()
	out := make([]store.Queued, n)
	for i := range out {
		out[i] = store.Queued{
			Key:   store.OutboxKey{Vendor: string(kind), RowID: store.RowID{ID: id}, UserID: fmt.Sprintf("u%05d", i), DeviceID: "d"},
			Entry: store.OutboxEntry{Token: fmt.Sprintf("tok-%05d", i), Badge: -1},
		}
	}
	if err := st.OutboxRetry(out); err != nil {
		t.Fatal(err)
	}
	return out
}

// spillHarness runs one batch-vendor sender (50 tokens a request, 2
// requests in flight) whose memory holds maxQueued rows at most, on a
// manual clock that checkOnce moves while it waits (retries back off 1ms).
type spillHarness struct {
	*senderHarness
	mu        sync.Mutex
	delivered map[string]int // successful sends per token
	peak      int64          // most rows in memory seen at a send
}

func newSpillHarness(t *testing.T, maxQueued int, gate chan struct{}, result func(vendors.Target) vendors.Result) *spillHarness {
	t.Helper()
	sh := &spillHarness{delivered: map[string]int{}}
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, gate: gate}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight, cfg.MaxQueued = 50, 2, maxQueued
	cfg.InitialBackoff, cfg.MaxBackoff, cfg.BatchWait = time.Millisecond, time.Millisecond, 5*time.Millisecond
	h := newHarness(t, t.TempDir(), 4)
	sh.senderHarness = newSenderHarnessOn(t, h, client, cfg)
	client.result = func(tg vendors.Target) vendors.Result {
		st := sh.senders.Stats()[vendors.Huawei]
		r := vendors.Result{}
		if result != nil {
			r = result(tg)
		}
		sh.mu.Lock()
		sh.peak = max(sh.peak, st.Queued+st.InFlight)
		if r.Verdict == vendors.Delivered {
			sh.delivered[tg.Token]++
		}
		sh.mu.Unlock()
		return r
	}
	return sh
}

// checkOnce fails unless each of the n tokens was delivered exactly once,
// nothing is left in memory, in the spill or in the outbox. While it waits
// for the sends it moves the clock on, 5ms a look (any small step would
// do: the harness backs retries off 1ms), so retries come due.
func (sh *spillHarness) checkOnce(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprint(n, " sent"), func() bool {
		if sh.senders.Stats()[vendors.Huawei].Sent == int64(n) {
			return true
		}
		sh.clock.Advance(5 * time.Millisecond)
		return false
	})
	// The counters settle when the sender has taken in the last answers,
	// a moment after the vendor counted the last send.
	waitFor(t, "queued, spilled and in flight all 0 after the last send", func() bool {
		st := sh.senders.Stats()[vendors.Huawei]
		return st.Queued == 0 && st.Spilled == 0 && st.InFlight == 0
	})
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range n {
		if c := sh.delivered[fmt.Sprintf("tok-%05d", i)]; c != 1 {
			t.Fatalf("tok-%05d delivered %d times, want once", i, c)
		}
	}
	if len(sh.delivered) != n {
		t.Fatalf("%d tokens delivered, want %d", len(sh.delivered), n)
	}
	left := 0
	if err := sh.store.Outbox("huawei", func(store.Queued) error { left++; return nil }); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d rows left in the outbox", left)
	}
}

// A fan-out larger than max_queued: the sender holds at most max_queued
// rows in memory, the rest wait in the outbox and are read back in order,
// and every row is sent exactly once.
func TestSenderSpillsAFanOutBeyondMaxQueuedAndSendsEachRowOnce(t *testing.T) {
	gate := make(chan struct{})
	sh := newSpillHarness(t, 300, gate, nil)
	t.Cleanup(func() { close(gate) }) // before Stop: a failed test must not leave sends blocked
	rows := sortedRows(t, sh.store, vendors.Huawei, "m1", 1000)
	for i := 0; i < len(rows); i += 100 {
		sh.senders.Enqueue(rows[i:i+100], Streaming)
	}
	sh.step(t, vendors.Huawei)
	st := sh.senders.Stats()[vendors.Huawei]
	if held := st.Queued + st.InFlight; held > 300 || held+st.Spilled != 1000 {
		t.Fatalf("queued %d + in flight %d + spilled %d: want at most 300 in memory and 1000 in all", st.Queued, st.InFlight, st.Spilled)
	}
	if st.Spilled < 700 {
		t.Fatalf("spilled %d, want at least 700 (300 fit in memory)", st.Spilled)
	}
	go func() {
		for range 1000 / 50 {
			gate <- struct{}{}
		}
	}()
	sh.checkOnce(t, 1000)
	if sh.peak > 300 {
		t.Fatalf("%d rows in memory at a send, max_queued is 300", sh.peak)
	}
}

// Rows retried while their message is spilled come back from the delay
// heap, not from the outbox a second time; a chunk planned again after an
// interrupted fan-out (rows still in the range to read) adds nothing.
func TestSenderSpillWithRetriesAndAReplannedChunkSendsEachRowOnce(t *testing.T) {
	var mu sync.Mutex
	failed := map[string]bool{}
	gate := make(chan struct{})
	sh := newSpillHarness(t, 200, gate, func(tg vendors.Target) vendors.Result {
		mu.Lock()
		defer mu.Unlock()
		var i int
		fmt.Sscanf(tg.Token, "tok-%d", &i)
		if i%7 == 0 && !failed[tg.Token] {
			failed[tg.Token] = true
			return vendors.Result{Verdict: vendors.Retry, Code: "busy"}
		}
		return vendors.Result{}
	})
	rows := sortedRows(t, sh.store, vendors.Huawei, "m1", 2000)
	for i := 0; i < len(rows); i += 100 {
		sh.senders.Enqueue(rows[i:i+100], Streaming)
		if i == 1500 {
			sh.senders.Enqueue(rows[1200:1300], Streaming) // planned again
		}
	}
	sh.step(t, vendors.Huawei) // every chunk is in: 200 in memory, the rest spilled
	if st := sh.senders.Stats()[vendors.Huawei]; st.Queued+st.InFlight+st.Spilled != 2000 {
		t.Fatalf("queued %d + in flight %d + spilled %d, want 2000: the chunk planned again counts once", st.Queued, st.InFlight, st.Spilled)
	}
	close(gate)
	sh.checkOnce(t, 2000)
	if sh.peak > 200 {
		t.Fatalf("%d rows in memory at a send, max_queued is 200", sh.peak)
	}
}

// Complete messages (peer, users) are never spilled, whatever the queue
// holds: their rows stay in memory.
func TestSenderNeverSpillsCompleteMessages(t *testing.T) {
	gate := make(chan struct{})
	sh := newSpillHarness(t, 200, gate, nil)
	t.Cleanup(func() { close(gate) })
	for i := range 5 {
		id := fmt.Sprint("peer-", i)
		sh.senders.Enqueue(sortedRows(t, sh.store, vendors.Huawei, id, 100), Complete)
	}
	sh.step(t, vendors.Huawei)
	if st := sh.senders.Stats()[vendors.Huawei]; st.Spilled != 0 || st.Queued+st.InFlight != 500 {
		t.Fatalf("spilled %d, in memory %d: complete messages stay in memory", st.Spilled, st.Queued+st.InFlight)
	}
}
