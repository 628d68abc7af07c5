package vivo

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

// elsewhere is a second server, trusted by the same CA as vivo's, that
// answers every request as a successful vivo would and records what
// reached it: the host a redirect points at.
type elsewhere struct {
	url string

	mu      sync.Mutex
	headers []http.Header // of every request that reached it
}

func newElsewhere(t *testing.T, ca *simkit.CA) *elsewhere {
	t.Helper()
	e := &elsewhere{}
	e.url = serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.headers = append(e.headers, r.Header.Clone())
		e.mu.Unlock()
		_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"stolen","taskId":"1"}`))
	}))
	return e
}

func (e *elsewhere) calls() []http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]http.Header(nil), e.headers...)
}

// redirecting is a vivo that answers path with status and a Location on
// other, and every other path as vivo does on success; the
// test fails if path was never requested.
func redirecting(t *testing.T, ca *simkit.CA, path string, status int, other *elsewhere) string {
	t.Helper()
	var mu sync.Mutex
	n := 0
	url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			mu.Lock()
			n++
			mu.Unlock()
			w.Header().Set("Location", other.url+r.URL.Path)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`<a href="elsewhere">moved</a>`))
			return
		}
		switch r.URL.Path {
		case pathAuth:
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"t"}`))
		case pathSaveList:
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","taskId":"42"}`))
		default:
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok"}`))
		}
	}))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if n == 0 {
			t.Errorf("%s was never requested: the test did not exercise its redirect", path)
		}
	})
	return url
}

// TestRedirectIsNeverFollowed: a 3xx from any vivo endpoint, the auth
// endpoint included, is Misconfigured with code redirect_refused for every
// target, and the host it names never gets a request (so never the
// authToken header or the auth sign).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path    string
		status  int
		targets int
	}{
		{pathAuth, http.StatusTemporaryRedirect, 1},
		{pathAuth, http.StatusPermanentRedirect, 2},
		{pathSend, http.StatusTemporaryRedirect, 1},
		{pathSend, http.StatusPermanentRedirect, 1},
		{pathSend, http.StatusMovedPermanently, 1},
		{pathSend, http.StatusFound, 1},
		{pathSend, http.StatusSeeOther, 1},
		{pathSaveList, http.StatusTemporaryRedirect, 3},
		{pathPushToList, http.StatusTemporaryRedirect, 3},
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.path, "/message/")+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			other := newElsewhere(t, ca)
			url := redirecting(t, ca, tc.path, tc.status, other)
			c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: url, TLS: ca.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdleConnections)
			tokens := make([]string, tc.targets)
			for i := range tokens {
				tokens[i] = "tok-" + strconv.Itoa(i)
			}
			for i, r := range send(t, c, note("m1"), tokens...) {
				if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
					t.Errorf("target %d: %v %q (%s), want misconfigured %s", i, r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
				}
				host := strings.TrimPrefix(other.url, "https://")
				if !strings.Contains(r.Reason, strconv.Itoa(tc.status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("target %d: reason %q does not name HTTP %d and host %s", i, r.Reason, tc.status, host)
				}
				if tc.path == pathAuth && !strings.HasPrefix(r.Reason, "auth: ") {
					t.Errorf("target %d: reason %q does not say the token fetch failed", i, r.Reason)
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
	url := redirecting(t, ca, pathSend, http.StatusTemporaryRedirect, other)
	mine := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS(), ForceAttemptHTTP2: true}}
	t.Cleanup(mine.CloseIdleConnections)

	// The setup can see a leak: this client, following the redirect as
	// net/http does by default, reaches the other host with the header.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+pathSend, strings.NewReader(`{}`))
	req.Header.Set("authToken", "secret-token")
	resp, err := mine.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	got := other.calls()
	if len(got) != 1 || got[0].Get("authToken") != "secret-token" {
		t.Fatalf("control: a following client reached the other host %d times (%v); want once, with the header", len(got), got)
	}

	c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: url, HTTPClient: mine, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
	r := send(t, c, note("m1"), "tok-a")[0]
	if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
		t.Errorf("result %v %q (%s), want misconfigured %s", r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
	}
	if got := other.calls(); len(got) != 1 {
		t.Fatalf("the redirect target got %d more requests: the client followed the redirect", len(got)-1)
	}
}
