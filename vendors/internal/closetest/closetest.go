// Package closetest is the scaffolding of the vendor clients' Close tests:
// a vendor whose token endpoint never answers (each request waits until
// its client gives up), and the check that Close ends a token fetch in
// flight instead of leaving it to run out its timeout, and that every
// later Send fails with the client's ErrClosed.
//
// Each vendor package's test keeps what is its own: which path is its
// token endpoint and how its client is built.
package closetest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// wait bounds every wait of a check.
const wait = 10 * time.Second

// hang is a vendor on a TLS + HTTP/2 loopback server until the test ends:
// its token endpoint holds every request until the client gives up.
type hang struct {
	// URL is its base URL (https://127.0.0.1:port).
	URL string
	// TLS trusts it, for the client under test.
	TLS *tls.Config

	entered chan struct{} // a token request arrived
	mu      sync.Mutex
	open    int // token requests not yet given up by their client
	total   int // requests, token or not
}

// newHang serves a hang whose token endpoint is every path token reports;
// it answers the rest 404.
func newHang(t testing.TB, token func(path string) bool) *hang {
	t.Helper()
	h := &hang{entered: make(chan struct{}, 1)}
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.total++
		h.mu.Unlock()
		if !token(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		h.mu.Lock()
		h.open++
		h.mu.Unlock()
		select {
		case h.entered <- struct{}{}:
		default:
		}
		<-r.Context().Done()
		h.mu.Lock()
		h.open--
		h.mu.Unlock()
	}))
	h.URL, h.TLS = url, ca.ClientTLS()
	return h
}

// held is how many token requests are still held, and how many requests
// arrived in all.
func (h *hang) held() (open, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open, h.total
}

// Client is a vendor client under test.
type Client interface {
	vendors.Sender
	io.Closer
}

// Check builds a client with build for a vendor whose token endpoint is
// every path token reports (its base URL and a TLS config trusting it),
// with a token-fetch timeout far longer than the test waits, and checks
// that one Send starts a token fetch that hangs, that Close ends it (the
// Send returns, the vendor sees the request given up), and that a Send
// after Close fails with closed without a request.
func Check(t *testing.T, token func(path string) bool, closed error, build func(url string, tlsConf *tls.Config) (Client, error)) {
	t.Helper()
	h := newHang(t, token)
	c, err := build(h.URL, h.TLS)
	if err != nil {
		t.Fatal(err)
	}
	n := &vendors.Notification{MessageID: "m-1", Title: "Alice", Body: "see you at 8?"}
	send := func(ctx context.Context) error {
		_, err := c.Send(ctx, n, []vendors.Target{{Token: "tok-a"}})
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // only Close may end it
		defer cancel()
		_ = send(ctx)
	}()
	select {
	case <-h.entered:
	case <-time.After(wait):
		t.Fatal("the client never asked the token endpoint")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("a Send waiting for the token fetch did not return after Close")
	}
	for deadline := time.Now().Add(wait); ; time.Sleep(5 * time.Millisecond) {
		if open, _ := h.held(); open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the token fetch went on after Close")
		}
	}
	_, before := h.held()
	if err := send(context.Background()); !errors.Is(err, closed) {
		t.Fatalf("Send after Close: %v, want %v", err, closed)
	}
	if _, after := h.held(); after != before {
		t.Fatalf("Send after Close made %d requests", after-before)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
