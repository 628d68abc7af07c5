package apns

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

// TestRedirectIsNeverFollowed: a 3xx from APNs is Misconfigured with code
// redirect_refused, and the host in Location, trusted by the same CA and
// answering 200 as APNs does, never gets a request (so never the provider
// JWT).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var mu sync.Mutex
			var leaked []http.Header
			other := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				leaked = append(leaked, r.Header.Clone())
				mu.Unlock()
				w.Header().Set("apns-id", "elsewhere")
				w.WriteHeader(http.StatusOK)
			}))
			host := strings.TrimPrefix(other, "https://")
			hits := 0
			url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				w.Header().Set("Location", other+r.URL.Path)
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`<a href="elsewhere">moved</a>`))
			}))
			cfg := NewSimulator(nil, SimOptions{}).ClientConfig(url, ca.ClientTLS())
			cfg.MaxConcurrent = 2
			c := newClient(t, cfg)
			res := send(t, c, note("m1"), append(prod("tok-a", "tok-b"), targetsIn(EnvAutomatic, "tok-c")...)...)
			for i, r := range res {
				wantResult(t, i, r, vendors.Misconfigured, vendors.CodeRedirectRefused)
				if !strings.Contains(r.Reason, strconv.Itoa(status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("result %d: reason %q does not name HTTP %d and host %s", i, r.Reason, status, host)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if hits != 3 {
				t.Errorf("APNs got %d requests, want 3 (one per token, no development fallback)", hits)
			}
			if len(leaked) != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v): a redirect was followed", len(leaked), leaked)
			}
		})
	}
}
