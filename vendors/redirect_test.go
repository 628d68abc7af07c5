package vendors

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsRedirect(t *testing.T) {
	for status, want := range map[int]bool{199: false, 200: false, 299: false, 300: true, 304: true, 307: true, 399: true, 400: false, 500: false} {
		if got := IsRedirect(status); got != want {
			t.Errorf("IsRedirect(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestRedirectResult: every 3xx is Misconfigured with code
// redirect_refused; the reason names the status and at most Location's
// host, and says the credentials would go there only when a Location
// names a host.
func TestRedirectResult(t *testing.T) {
	long := strings.Repeat("a", 400) + ".example"
	for _, tc := range []struct {
		name     string
		status   int
		location string
		want     []string // parts the Reason must hold
		carry    bool     // the Reason says the credentials would go there
	}{
		{"host and port", 307, "https://other.example:8443/message/send?x=1", []string{`host "other.example:8443"`, "Temporary Redirect"}, true},
		{"userinfo and query", 308, "https://user:pw@evil.example/p?token=t0k#frag", []string{`host "evil.example"`}, true},
		{"scheme-relative", 302, "//evil.example/p", []string{`host "evil.example"`}, true},
		{"same host", 301, "/elsewhere?x=1", []string{"same host"}, false},
		{"unreadable", 303, "%zz", []string{"unreadable"}, false},
		{"no Location", 302, "", []string{"without a Location"}, false},
		{"not modified", 304, "", []string{"Not Modified", "no request herald makes"}, false},
		{"not modified with Location", 304, "https://evil.example/", []string{"Not Modified"}, false},
		{"unknown 3xx", 399, "", []string{"HTTP 399 without a Location"}, false},
		{"long host", 301, "https://" + long + "/", []string{`host "aaaa`, "…"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := RedirectResult("vendorx", tc.status, tc.location)
			if r.Verdict != Misconfigured || r.Code != CodeRedirectRefused || r.RetryAfter != 0 {
				t.Fatalf("%+v, want Misconfigured %s", r, CodeRedirectRefused)
			}
			if r.Verdict.String() != "misconfigured" {
				t.Errorf("verdict string %q", r.Verdict)
			}
			if !strings.HasPrefix(r.Reason, "vendorx answered HTTP "+strconv.Itoa(tc.status)) {
				t.Errorf("reason %q does not start with what answered and the status", r.Reason)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Reason, w) {
					t.Errorf("reason %q lacks %q", r.Reason, w)
				}
			}
			if got := strings.Contains(r.Reason, "carry the credentials"); got != tc.carry {
				t.Errorf("reason %q: says the credentials would go there = %v, want %v", r.Reason, got, tc.carry)
			}
			for _, secret := range []string{"user", "pw", "token", "t0k", "x=1", "frag", "/message/send", "/p"} {
				if strings.Contains(r.Reason, secret) {
					t.Errorf("reason %q holds %q: more of Location than its host", r.Reason, secret)
				}
			}
			if len(r.Reason) > 512 {
				t.Errorf("reason of %d bytes: the host is not clipped", len(r.Reason))
			}
		})
	}
}

// TestNoRedirects: the copy stops at the first redirect and hands back the
// 3xx, the second host gets nothing, and the caller's client still follows
// redirects as before.
func TestNoRedirects(t *testing.T) {
	var reached atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	t.Cleanup(other.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/there", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(first.Close)

	mine := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	t.Cleanup(mine.CloseIdleConnections)
	cp := NoRedirects(mine)
	if cp == mine || mine.CheckRedirect != nil {
		t.Fatal("NoRedirects changed the caller's client instead of copying it")
	}
	if cp.Transport != mine.Transport || cp.Timeout != mine.Timeout {
		t.Error("the copy does not share the caller's transport and timeout")
	}
	resp, err := cp.Post(first.URL, "text/plain", strings.NewReader("secret body"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != other.URL+"/there" {
		t.Fatalf("got %d Location %q, want the 307 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}

	// The caller's own client is left following redirects (the control:
	// the setup can see one being followed).
	resp, err = mine.Post(first.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if n := reached.Load(); n != 1 {
		t.Fatalf("the caller's client reached the redirect target %d times, want once", n)
	}
}

// TestRefuseRedirect is the CheckRedirect contract net/http documents
// for handing back the last response.
func TestRefuseRedirect(t *testing.T) {
	if err := RefuseRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Fatalf("RefuseRedirect = %v, want http.ErrUseLastResponse", err)
	}
}

// TestEveryClientHasARedirectTest: every vendor package whose Client is a
// Sender proves, in its redirect_test.go, that the client refuses every
// redirect status (redirecttest.Statuses) from every endpoint it calls,
// its token endpoint included, and that the host in Location gets nothing
// (redirecttest.AssertNotFollowed): a new vendor cannot skip it.
func TestEveryClientHasARedirectTest(t *testing.T) {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	clients := 0
	for _, d := range dirs {
		if !d.IsDir() || !isSenderPackage(t, d.Name()) {
			continue
		}
		clients++
		b, err := os.ReadFile(filepath.Join(d.Name(), "redirect_test.go"))
		if err != nil {
			t.Errorf("%s: the client has no redirect test: %v", d.Name(), err)
			continue
		}
		for _, use := range []string{"redirecttest.Statuses()", "redirecttest.AssertNotFollowed("} {
			if !strings.Contains(string(b), use) {
				t.Errorf("%s/redirect_test.go does not use %s", d.Name(), use)
			}
		}
	}
	if clients < 6 {
		t.Fatalf("found %d vendor clients, want at least the six (APNs, FCM, Huawei, Xiaomi, OPPO, vivo)", clients)
	}
}

// isSenderPackage reports whether dir's code asserts its Client is a
// vendors.Sender.
func isSenderPackage(t *testing.T, dir string) bool {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); strings.Contains(s, "vendors.Sender") && strings.Contains(s, "= (*Client)(nil)") {
			return true
		}
	}
	return false
}
