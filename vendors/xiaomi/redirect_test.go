package xiaomi

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// serveTLS serves h over TLS + HTTP/2 on a loopback port with a
// certificate from ca, until t ends.
func serveTLS(t *testing.T, ca *simkit.CA, h http.Handler) string {
	t.Helper()
	cfg, err := ca.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: cfg}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// elsewhere is a second server, trusted by the same CA as MiPush's, that
// answers every request as a successful MiPush would and records the
// headers of what reached it: the host a redirect points at.
type elsewhere struct {
	url string

	mu      sync.Mutex
	headers []http.Header
}

func newElsewhere(t *testing.T, ca *simkit.CA) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.url = serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.headers = append(e.headers, r.Header.Clone())
		e.mu.Unlock()
		_, _ = w.Write([]byte(`{"result":"ok","code":0,"data":{"id":"scm-elsewhere"}}`))
	}))
	return e
}

func (e *elsewhere) calls() []http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]http.Header(nil), e.headers...)
}

// redirecting is a MiPush that answers every request with status and a
// Location on other; the test fails if it was never requested.
func redirecting(t *testing.T, ca *simkit.CA, status int, other *elsewhere) string {
	t.Helper()
	var mu sync.Mutex
	n := 0
	url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Location", other.url+r.URL.Path)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`<a href="elsewhere">moved</a>`))
	}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if n == 0 {
			t.Error("the redirecting server was never requested")
		}
	})
	return url
}

// TestRedirectIsNeverFollowed: a 3xx is Misconfigured with code
// redirect_refused for every target, and the host it names never gets a
// request (so never the Authorization header with the AppSecret).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			other := newElsewhere(t, ca)
			url := redirecting(t, ca, status, other)
			c, err := New(Config{AppSecret: "s3cret", PackageName: "p", Endpoint: url, TLS: ca.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			res, err := c.Send(context.Background(), msg("m"), targets("a", "b", "c"))
			if err != nil {
				t.Fatal(err)
			}
			refused := verdict{vendors.Misconfigured, vendors.CodeRedirectRefused}
			checkResults(t, res, refused, refused, refused)
			host := strings.TrimPrefix(other.url, "https://")
			for i, r := range res {
				if !strings.Contains(r.Reason, strconv.Itoa(status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("target %d: reason %q does not name HTTP %d and host %s", i, r.Reason, status, host)
				}
				if strings.Contains(r.Reason, "s3cret") {
					t.Errorf("target %d: reason %q holds the AppSecret", i, r.Reason)
				}
			}
			if got := other.calls(); len(got) != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v): a redirect was followed", len(got), got)
			}
		})
	}
}

// TestRedirectRefusedWithCallersClient: a Config.HTTPClient that follows
// redirects is used through a copy that does not; the caller's client is
// not changed.
func TestRedirectRefusedWithCallersClient(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	other := newElsewhere(t, ca)
	url := redirecting(t, ca, http.StatusTemporaryRedirect, other)
	mine := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS(), ForceAttemptHTTP2: true}}
	t.Cleanup(mine.CloseIdleConnections)

	// The setup can see a leak: this client, following the redirect as
	// net/http does by default, reaches the other host (same host name,
	// another port) with the Authorization header.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+SendPath, strings.NewReader("x=1"))
	req.Header.Set("Authorization", "key=s3cret")
	resp, err := mine.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	got := other.calls()
	if len(got) != 1 || got[0].Get("Authorization") != "key=s3cret" {
		t.Fatalf("control: a following client reached the other host %d times (%v); want once, with the header", len(got), got)
	}

	c, err := New(Config{AppSecret: "s3cret", PackageName: "p", Endpoint: url, HTTPClient: mine, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
	res, err := c.Send(context.Background(), msg("m"), targets("a"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Misconfigured, vendors.CodeRedirectRefused})
	if got := other.calls(); len(got) != 1 {
		t.Fatalf("the redirect target got %d more requests: the client followed the redirect", len(got)-1)
	}
}
