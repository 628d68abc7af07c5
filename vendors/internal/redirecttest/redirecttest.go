// Package redirecttest is the scaffolding of the vendor clients' redirect
// tests: a vendor server that answers with a 3xx whose Location names a
// second server (the Target), trusted by the same CA and answering as the
// vendor does on success, which records every request that reaches it; and
// the assertion that a client refused the redirect (vendors.RefuseRedirect)
// so the Target never got a request, its credentials with it.
//
// Each vendor package's redirect test keeps what is its own: how its client
// is built, which endpoints redirect, and what success looks like there.
package redirecttest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// Statuses are the redirects a vendor client is tested with: followed,
// 307 and 308 re-send the request, body and headers, to Location, and
// 301, 302 and 303 send a GET there.
func Statuses() []int {
	return []int{
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
	}
}

// movedHTML is the body of a redirect when Options.Body is nil.
const movedHTML = `<a href="elsewhere">moved</a>`

// Options say how the vendor server of a Pair answers.
type Options struct {
	// Status is the redirect's status code, a 3xx.
	Status int
	// Redirects reports whether a request for path is answered with the
	// redirect; nil redirects every request.
	Redirects func(path string) bool
	// Body is the body of the redirect answering a request for path; nil
	// sends a small HTML page. A body that reads as success (a token, a
	// message id) checks that the client judges the status, not the body.
	Body func(path string) string
	// ContentType, if set, is the Content-Type of the redirect.
	ContentType string
	// Vendor answers the requests that are not redirected; nil answers 404.
	Vendor http.Handler
	// Elsewhere answers every request that reached the Target, once it is
	// recorded, as the vendor would on success; nil answers 200 with no
	// body.
	Elsewhere http.Handler
}

// Pair is a vendor server that redirects to its Target. Both are served
// over TLS + HTTP/2 on loopback ports with certificates from CA until the
// test ends, and the test fails if the redirect was never sent.
type Pair struct {
	// URL is the vendor server's base URL (https://127.0.0.1:port).
	URL string
	// Status is the redirect's status code.
	Status int
	// CA certifies both servers.
	CA *simkit.CA
	// Target is the server the redirect's Location names.
	Target *Target

	mu         sync.Mutex
	redirected int // redirects sent
	control    int // Target requests made by FollowingClient's check
}

// New starts a Pair as opts say.
func New(t testing.TB, opts Options) *Pair {
	t.Helper()
	if !vendors.IsRedirect(opts.Status) {
		t.Fatalf("redirecttest: status %d is not a redirect", opts.Status)
	}
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p := &Pair{Status: opts.Status, CA: ca, Target: newTarget(t, ca, opts.Elsewhere)}
	vendor := opts.Vendor
	if vendor == nil {
		vendor = http.NotFoundHandler()
	}
	p.URL = simtest.ServeTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.Redirects != nil && !opts.Redirects(r.URL.Path) {
			vendor.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.redirected++
		p.mu.Unlock()
		w.Header().Set("Location", p.Target.URL+r.URL.Path)
		if opts.ContentType != "" {
			w.Header().Set("Content-Type", opts.ContentType)
		}
		w.WriteHeader(opts.Status)
		body := movedHTML
		if opts.Body != nil {
			body = opts.Body(r.URL.Path)
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(func() {
		if p.Redirected() == 0 {
			t.Errorf("the redirecting endpoint was never requested (HTTP %d): the test did not exercise its redirect", p.Status)
		}
	})
	return p
}

// ClientTLS is a client TLS config trusting both servers (and nothing
// else), for the client under test.
func (p *Pair) ClientTLS() *tls.Config { return p.CA.ClientTLS() }

// Redirected is how many redirects the vendor server has sent.
func (p *Pair) Redirected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.redirected
}

// FollowingClient returns an HTTP client trusting the Pair's CA that
// follows redirects, as net/http's does by default, for a test of a client
// given it (a Config.HTTPClient): it first checks that this client does
// leak, a POST of body to path with header set to value reaching the
// Target once with that header, so such a test can fail. That request is
// not held against the client under test by AssertNotFollowed.
func (p *Pair) FollowingClient(t testing.TB, path, body, header, value string) *http.Client {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: p.ClientTLS(), ForceAttemptHTTP2: true}}
	t.Cleanup(hc.CloseIdleConnections)
	before := p.Target.Calls()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, value)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	got := p.Target.Headers()[before:]
	if len(got) != 1 || got[0].Get(header) != value {
		t.Fatalf("control: a following client reached the other host %d times (%v); want once, with the header %s", len(got), got, header)
	}
	p.mu.Lock()
	p.control += len(got)
	p.mu.Unlock()
	return hc
}

// AssertNotFollowed checks that a client of p refused the redirect: every
// result is vendors.Misconfigured with code vendors.CodeRedirectRefused,
// its reason names the status and the Target's host and holds none of
// secrets (the client's credentials), and the Target got no request from
// the client (so none of its credentials either).
func AssertNotFollowed(t testing.TB, p *Pair, results []vendors.Result, secrets ...string) {
	t.Helper()
	if len(results) == 0 {
		t.Fatal("no results to check")
	}
	status := strconv.Itoa(p.Status)
	for i, r := range results {
		if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
			t.Errorf("target %d: %v %q (%s), want misconfigured %s", i, r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
		}
		if !strings.Contains(r.Reason, status) || !strings.Contains(r.Reason, p.Target.Host) {
			t.Errorf("target %d: reason %q does not name HTTP %s and host %s", i, r.Reason, status, p.Target.Host)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(r.Reason, s) {
				t.Errorf("target %d: reason %q holds the credential %q", i, r.Reason, s)
			}
		}
	}
	p.mu.Lock()
	control := p.control
	p.mu.Unlock()
	if got := p.Target.Requests()[control:]; len(got) != 0 {
		t.Fatalf("the redirect target got %d requests (%v): a redirect was followed", len(got), got)
	}
}

// Target is the server a redirect points at: it records every request
// that reaches it.
type Target struct {
	// URL is its base URL (https://127.0.0.1:port), Host its host:port.
	URL, Host string

	mu   sync.Mutex
	reqs []Request
}

// Request is what the Target recorded of a request.
type Request struct {
	Method, Path string
	Header       http.Header
}

func (r Request) String() string { return fmt.Sprintf("%s %s %v", r.Method, r.Path, r.Header) }

func newTarget(t testing.TB, ca *simkit.CA, answer http.Handler) *Target {
	t.Helper()
	tg := &Target{}
	tg.URL = simtest.ServeTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.reqs = append(tg.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()})
		tg.mu.Unlock()
		if answer != nil {
			answer.ServeHTTP(w, r)
		}
	}))
	tg.Host = strings.TrimPrefix(tg.URL, "https://")
	return tg
}

// Calls is how many requests reached the Target.
func (tg *Target) Calls() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.reqs)
}

// Requests are the requests that reached the Target, in order.
func (tg *Target) Requests() []Request {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]Request(nil), tg.reqs...)
}

// Headers are the headers of the requests that reached the Target, in
// order.
func (tg *Target) Headers() []http.Header {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	out := make([]http.Header, len(tg.reqs))
	for i, r := range tg.reqs {
		out[i] = r.Header
	}
	return out
}
