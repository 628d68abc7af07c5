package daemon

import (
	"strings"
	"testing"
)

func TestMetricsAndProbes(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	wantStatus(t, s.do(t, "PUT", "/v1/users/m1/devices/d1", `{"vendor":"oppo","token":"op-1"}`), 200)
	wantStatus(t, s.do(t, "GET", "/v1/nope", ""), 404)
	wantStatus(t, s.do(t, "GET", "/readyz", ""), 200)
	wantStatus(t, s.do(t, "GET", "/healthz", ""), 200)
	r := s.do(t, "GET", "/metrics", "")
	wantStatus(t, r, 200)
	body := string(r.body)
	for _, want := range []string{
		`herald_http_requests_total{code="200",route="PUT /v1/users/{user_id}/devices/{device_id}"} 1`,
		`herald_http_requests_total{code="404",route="unmatched"} 1`,
		`herald_http_request_duration_seconds_bucket{code="200",route="PUT /v1/users/{user_id}/devices/{device_id}"`,
		`herald_user_actors_active 0`, // a bind writes through: no user actor
		`herald_store_write_duration_seconds_count{op="bind_device"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
