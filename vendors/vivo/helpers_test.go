package vivo

import (
	"net/http"
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

func newClock() *fakeClock {
	return testutil.NewClock(time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC))
}

// env is a simulator on a TLS + HTTP/2 loopback server and a client for it.
type env struct {
	sim    *Simulator
	rec    *simkit.Recorder
	clock  *fakeClock
	client *Client
	cfg    Config
	h2     atomic.Int64 // requests that arrived over HTTP/2
	total  atomic.Int64
}

func newEnv(t *testing.T, opts SimOptions) *env {
	t.Helper()
	e := &env{rec: simkit.NewRecorder(nil), clock: newClock()}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.sim = NewSimulator(e.rec, opts)
	mux := http.NewServeMux()
	// Mount under a prefix, as the daemon's simulator mode does.
	mux.Handle("/vivo/", http.StripPrefix("/vivo", e.sim))
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.total.Add(1)
		if r.ProtoMajor == 2 {
			e.h2.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	e.cfg = e.sim.ClientConfig(url+"/vivo", ca.ClientTLS())
	e.cfg.Timeout = 5 * time.Second
	e.client = e.newClient(t, e.cfg)
	return e
}

func (e *env) newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
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
	for i, tk := range tokens {
		out[i] = vendors.Target{Token: tk}
	}
	return out
}

func note(id string) *vendors.Notification {
	return &vendors.Notification{
		MessageID: id,
		Title:     "Alice",
		Body:      "hello there",
		Data:      map[string]string{"payload": "p1"},
	}
}

func verdicts(rs []vendors.Result) []vendors.Verdict {
	out := make([]vendors.Verdict, len(rs))
	for i, r := range rs {
		out[i] = r.Verdict
	}
	return out
}
