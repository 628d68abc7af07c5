package fcm

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// fakeClock is a settable clock starting at the wall clock's now (the
// service-account assertion carries wall-clock iat/exp).
type fakeClock = testutil.Clock

func newFakeClock() *fakeClock { return testutil.NewClock(time.Now()) }

// env is a simulator on a TLS + HTTP/2 loopback server, with a record of
// what reached it.
type env struct {
	sim   *Simulator
	rec   *simkit.Recorder
	url   string
	ca    *simkit.CA
	clock *fakeClock

	mu         sync.Mutex
	tokenHits  int
	sendProtos []int    // ProtoMajor of each messages:send request
	sendAuth   []string // its Authorization header
}

// newEnv serves a simulator; opts.Now defaults to a fake clock.
func newEnv(t testing.TB, opts SimOptions) *env {
	t.Helper()
	e := &env{rec: simkit.NewRecorder(nil), clock: newFakeClock()}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.sim = NewSimulator(e.rec, opts)
	e.url, e.ca = simtest.TestServer(t, e.wrap(e.sim))
	return e
}

// wrap records what reached h.
func (e *env) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		if r.URL.Path == "/token" {
			e.tokenHits++
		} else if strings.HasSuffix(r.URL.Path, ":send") {
			e.sendProtos = append(e.sendProtos, r.ProtoMajor)
			e.sendAuth = append(e.sendAuth, r.Header.Get("Authorization"))
		}
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (e *env) tokens() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tokenHits
}

// client builds a Client for the simulator; edit adjusts the config.
func (e *env) client(t testing.TB, edit func(*Config)) *Client {
	t.Helper()
	cfg := e.sim.ClientConfig(e.url, e.ca.ClientTLS())
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (e *env) stats() simkit.Stats { return e.rec.Snapshot()[e.sim.name] }

// targets turns tokens into Targets.
func targets(tokens ...string) []vendors.Target {
	out := make([]vendors.Target, len(tokens))
	for i, tk := range tokens {
		out[i] = vendors.Target{Token: tk}
	}
	return out
}

// send runs Send with a test deadline and fails on a whole-call error.
func send(t testing.TB, c *Client, n *vendors.Notification, tokens ...string) []vendors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Send(ctx, n, targets(tokens...))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(res) != len(tokens) {
		t.Fatalf("Send: %d results for %d targets", len(res), len(tokens))
	}
	return res
}

// deadURL is an https URL on a loopback port nothing listens on.
func deadURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "https://" + addr
}

func chatNotification(id string) *vendors.Notification {
	badge := 3
	return &vendors.Notification{
		MessageID:  id,
		Title:      "Alice",
		Body:       "see you at 8?",
		Data:       map[string]string{"payload": `{"conv":"c1"}`, "sender": "alice"},
		Priority:   vendors.PriorityHigh,
		TTL:        time.Hour,
		CollapseID: "conv-c1",
		Badge:      &badge,
		Sound:      "ding",
		Channel:    "chat",
	}
}
