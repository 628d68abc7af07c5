package oppo

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// fakeClock is a settable clock shared by a client and a simulator.
type fakeClock = testutil.Clock

func newFakeClock(t time.Time) *fakeClock { return testutil.NewClock(t) }

// testStart is 10:00 UTC = 18:00 in Beijing, six hours before OPPO's quota
// day ends.
var testStart = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

// env is a simulator on a TLS + HTTP/2 loopback server, mounted under
// /oppo, and a real client for it sharing a fake clock.
type env struct {
	clock  *fakeClock
	rec    *simkit.Recorder
	sim    *Simulator
	client *Client
	nonH2  atomic.Int64 // requests that did not arrive over HTTP/2
}

func newEnv(t *testing.T, opts SimOptions, mutate func(*Config)) *env {
	t.Helper()
	e := &env{clock: newFakeClock(testStart)}
	e.rec = simkit.NewRecorder(e.clock.Now)
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.sim = NewSimulator(e.rec, opts)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			e.nonH2.Add(1)
		}
		e.sim.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/oppo/", http.StripPrefix("/oppo", h))
	url, ca := simtest.TestServer(t, mux)
	cfg := e.sim.ClientConfig(url+"/oppo", ca.ClientTLS())
	cfg.Now = e.clock.Now
	cfg.Timeout = 5 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	e.client = c
	return e
}

func (e *env) authCalls() int {
	e.sim.mu.Lock()
	defer e.sim.mu.Unlock()
	return e.sim.authCalls
}

func (e *env) stats() simkit.Stats { return e.rec.Snapshot()[vendorName] }

// send runs Send with a test deadline and fails on a call error.
func (e *env) send(t *testing.T, n *vendors.Notification, tokens ...string) []vendors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.client.Send(ctx, n, targets(tokens...))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(res) != len(tokens) {
		t.Fatalf("Send returned %d results for %d targets", len(res), len(tokens))
	}
	return res
}

func targets(tokens ...string) []vendors.Target {
	out := make([]vendors.Target, len(tokens))
	for i, tok := range tokens {
		out[i] = vendors.Target{Token: tok}
	}
	return out
}

func chatNotification(id string) *vendors.Notification {
	return &vendors.Notification{
		MessageID: id,
		Title:     "Alice",
		Body:      "See you at 8?",
		Data:      map[string]string{"conversation": "c-42"},
		Channel:   "chat",
		Category:  "IM",
		TTL:       time.Hour,
	}
}

func regIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func wantVerdicts(t *testing.T, res []vendors.Result, want ...vendors.Verdict) {
	t.Helper()
	for i, r := range res {
		if r.Verdict != want[i] {
			t.Errorf("target %d: verdict %v (%s: %s), want %v", i, r.Verdict, r.Code, r.Reason, want[i])
		}
	}
}
