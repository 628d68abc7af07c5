package huawei

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Answers that read as success, from the token endpoint and the push API.
const (
	tokenOK = `{"access_token":"at-123","expires_in":3600,"token_type":"Bearer"}`
	sendOK  = `{"code":"80000000","msg":"Success","requestId":"1"}`
)

// answerOK answers r as a successful Huawei would.
func answerOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.URL.Path, "/oauth2/") {
		_, _ = w.Write([]byte(tokenOK))
		return
	}
	_, _ = w.Write([]byte(sendOK))
}

// TestRedirectIsNeverFollowed: a 3xx from the token endpoint or the push
// API, even with a body that reads as success (an access token, code
// 80000000), is Misconfigured with code redirect_refused for every target,
// and the host in Location, trusted by the same CA and answering as
// Huawei does on success, never gets a request (so never the client
// secret or the bearer token).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret"
	for _, tc := range []struct {
		endpoint string // "token" or "send"
		status   int
	}{
		{"token", http.StatusTemporaryRedirect},
		{"token", http.StatusFound},
		{"send", http.StatusTemporaryRedirect},
		{"send", http.StatusPermanentRedirect},
		{"send", http.StatusMovedPermanently},
		{"send", http.StatusFound},
		{"send", http.StatusSeeOther},
	} {
		t.Run(tc.endpoint+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			var mu sync.Mutex
			var leaked []http.Header
			other := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				leaked = append(leaked, r.Header.Clone())
				mu.Unlock()
				answerOK(w, r)
			}))
			var redirected atomic.Int64
			url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				isToken := strings.Contains(r.URL.Path, "/oauth2/")
				if isToken != (tc.endpoint == "token") {
					answerOK(w, r)
					return
				}
				redirected.Add(1)
				w.Header().Set("Location", other+r.URL.Path)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				if isToken {
					_, _ = w.Write([]byte(tokenOK))
				} else {
					_, _ = w.Write([]byte(sendOK))
				}
			}))
			c, err := New(Config{AppID: "app", AppSecret: secret, AuthURL: url + "/oauth2/v3/token", PushURL: url,
				TLS: ca.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			host := strings.TrimPrefix(other, "https://")
			for i, r := range send(t, c, note("m1"), "tok-a", "tok-b") {
				if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
					t.Errorf("target %d: %v %q (%s), want misconfigured %s", i, r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
				}
				if !strings.Contains(r.Reason, strconv.Itoa(tc.status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("target %d: reason %q does not name HTTP %d and host %s", i, r.Reason, tc.status, host)
				}
				if strings.Contains(r.Reason, secret) || strings.Contains(r.Reason, "at-123") {
					t.Errorf("target %d: reason %q holds a credential", i, r.Reason)
				}
			}
			if redirected.Load() == 0 {
				t.Error("the redirecting endpoint was never requested")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v): a redirect was followed", len(leaked), leaked)
			}
		})
	}
}
