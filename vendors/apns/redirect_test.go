package apns

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/herald-push/herald/vendors/internal/redirecttest"
)

// TestRedirectIsNeverFollowed: a 3xx from APNs is Misconfigured with code
// redirect_refused, and the host in Location, trusted by the same CA and
// answering 200 as APNs does, never gets a request (so never the provider
// JWT).
func TestRedirectIsNeverFollowed(t *testing.T) {
	for _, status := range redirecttest.Statuses() {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			p := redirecttest.New(t, redirecttest.Options{
				Status: status,
				Elsewhere: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("apns-id", "elsewhere")
					w.WriteHeader(http.StatusOK)
				}),
			})
			cfg := NewSimulator(nil, SimOptions{}).ClientConfig(p.URL, p.ClientTLS())
			cfg.MaxConcurrent = 2
			c := newClient(t, cfg)
			res := send(t, c, note("m1"), append(prod("tok-a", "tok-b"), targetsIn(EnvAutomatic, "tok-c")...)...)
			redirecttest.AssertNotFollowed(t, p, res)
			if n := p.Redirected(); n != 3 {
				t.Errorf("APNs got %d requests, want 3 (one per token, no development fallback)", n)
			}
		})
	}
}
