package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
)

func TestMetricsAndProbes(t *testing.T) {
	s := startDaemon(t, nil, Env{Version: "9.9.9-test"})
	wantStatus(t, s.do(t, "PUT", "/v1/users/m1/devices/d1", `{"vendor":"oppo","token":"op-1"}`), 200)
	wantStatus(t, s.do(t, "GET", "/v1/nope", ""), 404)
	wantStatus(t, s.do(t, "GET", "/readyz", ""), 200)
	wantStatus(t, s.do(t, "GET", "/healthz", ""), 200)
	r := s.do(t, "GET", "/metrics", "")
	wantStatus(t, r, 200)
	body := string(r.body)
	for _, want := range []string{
		`herald_http_requests_total{code="200",method="PUT",route="/v1/users/{user_id}/devices/{device_id}"} 1`,
		`herald_http_requests_total{code="404",method="other",route="unmatched"} 1`,
		`herald_http_request_duration_seconds_bucket{code="200",method="PUT",route="/v1/users/{user_id}/devices/{device_id}"`,
		`herald_user_actors_active 0`, // a bind writes through: no user actor
		`herald_store_write_duration_seconds_count{op="bind_device"} 1`,
		`go_goroutines`,
		`herald_fanout_yield_share 1`, // no fan-out holds anything back
		`herald_store_block_cache_bytes `,
		`herald_store_memtable_bytes `,
		`herald_store_wal_fsync_duration_seconds_bucket{le="0.0001"} `,
		`herald_build_info{goversion="go`, `version="9.9.9-test"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The synced bind waited for a WAL fsync: Pebble's histogram, in
	// seconds. Pebble records the fsync's latency after it releases the
	// writes waiting on it, so the scrape right after the 2xx may not have
	// it yet: scrape until it does.
	testutil.CheckFor(t, 10*time.Second, func() error {
		var fsyncs, sum float64
		for _, line := range strings.Split(string(s.do(t, "GET", "/metrics", "").body), "\n") {
			if v, ok := strings.CutPrefix(line, "herald_store_wal_fsync_duration_seconds_count "); ok {
				fsyncs, _ = strconv.ParseFloat(v, 64)
			}
			if v, ok := strings.CutPrefix(line, "herald_store_wal_fsync_duration_seconds_sum "); ok {
				sum, _ = strconv.ParseFloat(v, 64)
			}
		}
		if fsyncs < 1 || sum <= 0 || sum/fsyncs > 10 {
			return fmt.Errorf("WAL fsyncs: count %v, sum %v s; want at least one, in seconds", fsyncs, sum)
		}
		return nil
	})
}
