// Package closetest is the scaffolding of the vendor clients' Close tests:
// a vendor whose token endpoint never answers (each request waits until
// its client gives up), and the check that Close ends a token fetch in
// flight instead of leaving it to run out its timeout, and that every
// later Send fails with the client's ErrClosed.
package closetest

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// wait bounds every wait of a check.
const wait = 10 * time.Second

// Hang is a vendor on a TLS + HTTP/2 loopback server until the test ends:
// its token endpoint holds every request until the client gives up.
type Hang struct {
	// URL is its base URL (https://127.0.0.1:port).
	URL string
	// TLS trusts it, for the client under test.
	TLS *tls.Config

	entered chan struct{} // a token request arrived
	mu      sync.Mutex
	open    int // token requests not yet given up by their client
	total   int // requests, token or not
}

// NewHang serves a Hang whose token endpoint is every path token reports;
// other answers the rest (nil: 404).
func NewHang(t testing.TB, token func(path string) bool, other http.Handler) *Hang {
	t.Helper()
	if other == nil {
		other = http.NotFoundHandler()
	}
	h := &Hang{entered: make(chan struct{}, 1)}
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.total++
		h.mu.Unlock()
		if !token(r.URL.Path) {
			other.ServeHTTP(w, r)
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
func (h *Hang) held() (open, total int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open, h.total
}

// CloseEndsFetch checks a client of h, whose token fetch is bounded by a
// timeout far longer than the test waits: send (one Send) starts a token
// fetch that hangs; closeFn (the client's Close) ends it, so send returns
// and the vendor sees the request given up; afterwards send fails with
// closed without a request. send returns Send's results and error.
func CloseEndsFetch(t *testing.T, h *Hang, send func(context.Context) ([]vendors.Result, error), closeFn func() error, closed error) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour) // only Close may end it
		defer cancel()
		_, _ = send(ctx)
	}()
	select {
	case <-h.entered:
	case <-time.After(wait):
		t.Fatal("the client never asked the token endpoint")
	}
	if err := closeFn(); err != nil {
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
	if _, err := send(context.Background()); !errors.Is(err, closed) {
		t.Fatalf("Send after Close: %v, want %v", err, closed)
	}
	if _, after := h.held(); after != before {
		t.Fatalf("Send after Close made %d requests", after-before)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
