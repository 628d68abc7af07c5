package fcm

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

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

// TestRedirectIsNeverFollowed: a 3xx from the token endpoint or from
// messages:send is Misconfigured with code redirect_refused, and the host in
// Location, trusted by the same CA and answering as FCM does on success,
// never gets a request (so never the signed assertion or the bearer).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	token := func(p string) bool { return p == "/token" }
	messages := func(p string) bool { return strings.HasSuffix(p, ":send") }
	const html = `<a href="elsewhere">moved</a>`
	// The Firebase SDK counts 300-303 as success: a body that parses as a
	// message name must not make one delivered.
	const named = `{"name":"projects/herald-sim/messages/redirected"}`
	cases := []struct {
		name     string
		redirect func(path string) bool
		status   int
		body     string
	}{
		{"token/307", token, http.StatusTemporaryRedirect, html},
		{"token/308", token, http.StatusPermanentRedirect, html},
		{"token/302", token, http.StatusFound, `{"access_token":"x","token_type":"Bearer","expires_in":3600}`},
		{"send/307", messages, http.StatusTemporaryRedirect, html},
		{"send/308", messages, http.StatusPermanentRedirect, named},
		{"send/301", messages, http.StatusMovedPermanently, named},
		{"send/302", messages, http.StatusFound, html},
		{"send/302-named", messages, http.StatusFound, named},
		{"send/303", messages, http.StatusSeeOther, named},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var leaked []string // method, path and Authorization of what reached the other host
			other := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				leaked = append(leaked, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/token" {
					_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer","expires_in":3600}`))
					return
				}
				_, _ = w.Write([]byte(`{"name":"projects/herald-sim/messages/elsewhere"}`))
			}))
			host := strings.TrimPrefix(other, "https://")
			sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
			hits := 0
			url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tc.redirect(r.URL.Path) {
					sim.ServeHTTP(w, r)
					return
				}
				mu.Lock()
				hits++
				mu.Unlock()
				w.Header().Set("Location", other+r.URL.Path)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			c, err := New(sim.ClientConfig(url, ca.ClientTLS()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			for i, r := range send(t, c, chatNotification("m-1"), "tok-a", "tok-b") {
				if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
					t.Errorf("result %d: %v %q (%s), want misconfigured %s", i, r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
				}
				if !strings.Contains(r.Reason, strconv.Itoa(tc.status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("result %d: reason %q does not name HTTP %d and host %s", i, r.Reason, tc.status, host)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if hits == 0 {
				t.Error("the redirecting endpoint was never requested")
			}
			if len(leaked) != 0 {
				t.Fatalf("the redirect target got %d requests (%v): a redirect was followed", len(leaked), leaked)
			}
		})
	}
}
