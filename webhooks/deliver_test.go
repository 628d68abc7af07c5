package webhooks

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
)

var testKey = []byte("test webhook secret")

func openStore(t *testing.T, clk *testutil.Clock) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// startDispatcher delivers st's events to url as endpoint "backend" on
// clk (or to o.Endpoints when given), with jitter fixed at its top (each
// wait is the full backoff).
func startDispatcher(t *testing.T, st *store.Store, clk *testutil.Clock, url string, o Options) *Dispatcher {
	t.Helper()
	o.Store, o.Clock, o.Log = st, clk, slog.New(slog.NewTextHandler(io.Discard, nil))
	if len(o.Endpoints) == 0 {
		o.Endpoints = []Endpoint{{Name: "backend", URL: url, Events: store.EventTypes(), Keys: [][]byte{testKey}}}
	}
	o.Jitter = func() float64 { return 1 }
	if o.SweepInterval == 0 {
		o.SweepInterval = time.Hour // out of the way: these tests call Sweep when they need it
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

// deadLetter writes n dead letters of message id, each a push.failed
// event, and returns the events' ids.
func deadLetter(t *testing.T, st *store.Store, id string, n int) []string {
	t.Helper()
	before := map[string]bool{}
	for _, e := range pendingIDs(t, st) {
		before[e] = true
	}
	writeDeadLetters(t, st, id, n)
	var ids []string
	for _, e := range pendingIDs(t, st) {
		if !before[e] {
			ids = append(ids, e)
		}
	}
	if len(ids) != n {
		t.Fatalf("%d new events for %d dead letters", len(ids), n)
	}
	return ids
}

// pendingIDs are the ids of the events awaiting delivery, oldest first.
// writeDeadLetters writes n dead letters of message id.
func writeDeadLetters(t *testing.T, st *store.Store, id string, n int) {
	t.Helper()
	var rows []store.Queued
	for i := range n {
		rows = append(rows, store.Queued{Key: store.OutboxKey{Vendor: "fcm", RowID: store.RowID{ID: id}, UserID: fmt.Sprintf("u%03d", i), DeviceID: "d"},
			Entry: store.OutboxEntry{Token: "t", Attempts: 3, LastCode: "UNAVAILABLE"}})
	}
	if err := st.DeadLetter(rows); err != nil {
		t.Fatal(err)
	}
}

func pendingIDs(t *testing.T, st *store.Store) []string {
	t.Helper()
	evs, err := st.WebhookPending("backend", "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func counts(t *testing.T, st *store.Store) (pending, dead int64) {
	t.Helper()
	p, d, err := st.WebhookCounts("backend")
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// downReceiver is a store on a manual clock and a Receiver, switched
// down, verifying with testKey at url.
func downReceiver(t *testing.T) (*testutil.Clock, *store.Store, *Receiver, string) {
	t.Helper()
	clk := testutil.NewClock(time.Unix(1_800_000_000, 0))
	st := openStore(t, clk)
	rcv := NewReceiver([][]byte{testKey}, clk.Now)
	rcv.SetDown(true)
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return clk, st, rcv, srv.URL
}

// The receiver is down for 30 s (of the injected clock) while events
// wait, then comes back: it gets every event, each id at least once,
// with a signature that verifies, and nothing stays queued.
func TestReceiverDownThirtySecondsThenUpGetsEveryEvent(t *testing.T) {
	clk, st, rcv, url := downReceiver(t)
	const batch = 10
	startDispatcher(t, st, clk, url, Options{BatchMax: batch, MaxAttempts: 100, MinBackoff: time.Second, MaxBackoff: 8 * time.Second})

	ids := deadLetter(t, st, "m1", 35)
	// The sweep's ticker and the endpoint's backoff timer: the first
	// delivery failed.
	clk.WaitArmed(t, 2, 10*time.Second)
	start := clk.Now()
	for clk.Now().Sub(start) < 30*time.Second {
		clk.Advance(8 * time.Second) // at least any wait
		clk.WaitArmed(t, 2, 10*time.Second)
	}
	// Tried at 0, 1, 3, 7 and 15 s (backoff 1, 2, 4, 8 s), one try per
	// advance of 8 s: five deliveries refused.
	s := rcv.Stats()
	if s.Events != 0 || s.Refused != 5 {
		t.Fatalf("while down: %+v, want no event taken and 5 deliveries refused", s)
	}
	if pending, _ := counts(t, st); pending != 35 {
		t.Fatalf("%d events pending while the receiver is down, want 35", pending)
	}
	more := deadLetter(t, st, "m2", 7) // events made during the outage
	rcv.SetDown(false)
	clk.Advance(8 * time.Second)
	testutil.WaitFor(t, 10*time.Second, func() bool { return rcv.Stats().Events == 42 }, "every event delivered")
	for _, id := range append(ids, more...) {
		if rcv.Seen(id) < 1 {
			t.Errorf("event %s never delivered", id)
		}
	}
	if s := rcv.Stats(); s.BadSignature != 0 || s.ByType[store.EventPushFailed] != 42 {
		t.Fatalf("stats %+v", s)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { p, _ := counts(t, st); return p == 0 }, "the delivered events removed")
}

// An event that has failed MaxAttempts deliveries is dead-lettered with
// its attempts and last error, the endpoint goes on with the next ones
// (which fail on their own count), and a replay delivers the dead ones with
// their ids unchanged.
func TestDeadLetterAfterMaxAttemptsThenReplay(t *testing.T) {
	clk, st, rcv, url := downReceiver(t)
	startDispatcher(t, st, clk, url, Options{BatchMax: 3, MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Second})
	ids := deadLetter(t, st, "m1", 5)
	clk.WaitArmed(t, 2, 10*time.Second) // the first three: attempt 1 failed
	clk.Advance(time.Second)
	clk.WaitArmed(t, 2, 10*time.Second) // attempt 2 failed
	clk.Advance(time.Second)            // attempt 3 fails: dead; the last two go at once and fail (1)
	testutil.WaitFor(t, 10*time.Second, func() bool { _, d := counts(t, st); return d == 3 }, "the first three dead-lettered")
	clk.WaitArmed(t, 2, 10*time.Second)
	clk.Advance(time.Second) // (2)
	clk.WaitArmed(t, 2, 10*time.Second)
	clk.Advance(time.Second) // (3): dead
	testutil.WaitFor(t, 10*time.Second, func() bool { _, d := counts(t, st); return d == 5 }, "all five dead-lettered")
	if got := rcv.Stats().Refused; got != 6 {
		t.Fatalf("%d deliveries refused, want 6 (three of each batch)", got)
	}
	dead, err := st.WebhookDead("backend", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range dead {
		if e.ID != ids[i] || e.Attempts != 3 || e.LastError != "HTTP 503" {
			t.Fatalf("dead letter %d: %+v, want id %s after 3 attempts, HTTP 503", i, e, ids[i])
		}
	}
	// Paging: after the second, the rest.
	page, err := st.WebhookDead("backend", ids[1], 10)
	if err != nil || len(page) != 3 || page[0].ID != ids[2] {
		t.Fatalf("page after %s: %v %v", ids[1], page, err)
	}
	if pending, _ := counts(t, st); pending != 0 {
		t.Fatalf("%d still pending", pending)
	}
	rcv.SetDown(false)
	n, more, err := st.WebhookReplay("backend", 3)
	if err != nil || n != 3 || !more {
		t.Fatalf("replay: %d %v %v, want 3 and more", n, more, err)
	}
	if n, more, err = st.WebhookReplay("backend", 10); err != nil || n != 2 || more {
		t.Fatalf("replay: %d %v %v, want 2 and no more", n, more, err)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return rcv.Stats().Events == 5 }, "the replayed events delivered")
	for _, id := range ids {
		if rcv.Seen(id) != 1 {
			t.Errorf("event %s delivered %d times", id, rcv.Seen(id))
		}
	}
}

// rawReceiver keeps each delivery as it came.
type rawReceiver struct {
	mu   sync.Mutex
	reqs []rawDelivery
}

type rawDelivery struct {
	header http.Header
	body   []byte
}

func (r *rawReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, rawDelivery{header: req.Header.Clone(), body: b})
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *rawReceiver) all() []rawDelivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rawDelivery(nil), r.reqs...)
}

// A delivery is signed as Standard Webhooks says: it verifies as sent,
// and fails once a byte of its body is changed.
func TestDeliverySignatureVerifiesAndTamperingFails(t *testing.T) {
	clk := testutil.NewClock(time.Unix(1_800_000_000, 0))
	st := openStore(t, clk)
	raw := &rawReceiver{}
	srv := httptest.NewServer(raw)
	defer srv.Close()
	startDispatcher(t, st, clk, srv.URL, Options{})
	writeDeadLetters(t, st, "m1", 2)
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(raw.all()) == 1 }, "one delivery")
	d := raw.all()[0]
	h := d.header
	if h.Get("Content-Type") != "application/json" || h.Get(HeaderTimestamp) != "1800000000" {
		t.Fatalf("headers %v", h)
	}
	if err := Verify([][]byte{testKey}, h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), d.body, clk.Now(), 0); err != nil {
		t.Fatalf("a delivery as sent does not verify: %v", err)
	}
	var del Delivery
	if err := json.Unmarshal(d.body, &del); err != nil || len(del.Events) != 2 || del.Events[0].ID == del.Events[1].ID {
		t.Fatalf("body %s: %v", d.body, err)
	}
	ids := []string{del.Events[0].ID, del.Events[1].ID}
	var data store.PushFailedData
	if err := json.Unmarshal(del.Events[0].Data, &data); err != nil || data.MessageID != "m1" || data.Reason != "dead_letter" ||
		data.Code != "UNAVAILABLE" || data.Attempts != 3 || data.Vendor != "fcm" || data.UserID != "u000" {
		t.Fatalf("push.failed data %s: %v", del.Events[0].Data, err)
	}
	if !del.Events[0].Timestamp.Equal(clk.Now()) || del.Events[0].Type != store.EventPushFailed {
		t.Fatalf("event %+v", del.Events[0])
	}
	tampered := []byte(string(d.body))
	tampered[len(tampered)-3] ^= 1
	if err := Verify([][]byte{testKey}, h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), tampered, clk.Now(), 0); err == nil {
		t.Fatal("a tampered body verifies")
	}
	// The same batch again has the same webhook-id.
	evs := []store.HookEvent{{ID: ids[0], Type: store.EventPushFailed}, {ID: ids[1], Type: store.EventPushFailed}}
	if _, id, _ := Body(evs); id != h.Get(HeaderID) {
		t.Fatalf("webhook-id %s for the same events, sent %s", id, h.Get(HeaderID))
	}
}

// An event that turns up behind the loop's cursor (here a replayed dead
// letter, older than the events delivered since; in a running daemon one
// whose batch committed late) is still delivered.
func TestEventBehindTheCursorIsDelivered(t *testing.T) {
	clk, st, rcv, url := downReceiver(t)
	startDispatcher(t, st, clk, url, Options{MaxAttempts: 1})
	// With one attempt allowed the event may be dead-lettered at once:
	// its id is read from the dead letters, not looked up as pending.
	writeDeadLetters(t, st, "m1", 1)
	testutil.WaitFor(t, 10*time.Second, func() bool { _, d := counts(t, st); return d == 1 }, "the first event dead-lettered")
	old, err := st.WebhookDead("backend", "", 10)
	if err != nil || len(old) != 1 {
		t.Fatalf("dead events %v, %v", old, err)
	}
	rcv.SetDown(false)
	// The newer events may be delivered at once: they are counted at
	// the receiver, not looked up as pending.
	writeDeadLetters(t, st, "m2", 2)
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(rcv.Events()) == 2 }, "the newer events delivered")
	if n, _, err := st.WebhookReplay("backend", 10); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return rcv.Seen(old[0].ID) == 1 }, "the replayed event, behind the cursor, delivered")
}
