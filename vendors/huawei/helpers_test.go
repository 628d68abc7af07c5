package huawei

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// fakeClock is a settable clock for the simulator.
type fakeClock = testutil.Clock

func newFakeClock() *fakeClock {
	return testutil.NewClock(time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC))
}

// env is a simulator mounted under /huawei on a TLS + HTTP/2 test server.
type env struct {
	sim        *Simulator
	rec        *simkit.Recorder
	clock      *fakeClock
	base       string // https://127.0.0.1:port/huawei
	ca         *simkit.CA
	tokenHits  atomic.Int64
	sendHits   atomic.Int64
	nonH2Sends atomic.Int64
}

func newEnv(t testing.TB, opts SimOptions) *env {
	t.Helper()
	e := &env{clock: newFakeClock(), rec: simkit.NewRecorder(nil)}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.sim = NewSimulator(e.rec, opts)
	mux := http.NewServeMux()
	mux.Handle("/huawei/", http.StripPrefix("/huawei", e.sim))
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/oauth2/"):
			e.tokenHits.Add(1)
		case strings.HasSuffix(r.URL.Path, "messages:send"):
			e.sendHits.Add(1)
			if r.ProtoMajor != 2 {
				e.nonH2Sends.Add(1)
			}
		}
		mux.ServeHTTP(w, r)
	})
	url, ca := simtest.TestServer(t, count)
	e.base, e.ca = url+"/huawei", ca
	return e
}

// client builds the real client for this simulator; mutate may change cfg.
func (e *env) client(t *testing.T, mutate func(*Config)) *Client {
	t.Helper()
	cfg := e.sim.ClientConfig(e.base, e.ca.ClientTLS())
	cfg.Timeout = 5 * time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (e *env) stats() simkit.Stats { return e.rec.Snapshot()[vendorName] }

func targets(tokens ...string) []vendors.Target {
	out := make([]vendors.Target, len(tokens))
	for i, t := range tokens {
		out[i] = vendors.Target{Token: t}
	}
	return out
}

func note(id string) *vendors.Notification {
	return &vendors.Notification{
		MessageID: id,
		Title:     "Alice",
		Body:      "hi there",
		Data:      map[string]string{"conv": "c1"},
		Priority:  vendors.PriorityHigh,
		Channel:   "im",
		Category:  "IM",
	}
}

func send(t *testing.T, c *Client, n *vendors.Notification, tokens ...string) []vendors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Send(ctx, n, targets(tokens...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(tokens) {
		t.Fatalf("got %d results for %d tokens", len(res), len(tokens))
	}
	return res
}

func wantVerdicts(t *testing.T, res []vendors.Result, want ...vendors.Verdict) {
	t.Helper()
	for i, r := range res {
		if r.Verdict != want[i] {
			t.Errorf("result %d: %v %s (%s), want %v", i, r.Verdict, r.Code, r.Reason, want[i])
		}
	}
}
