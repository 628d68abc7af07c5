package daemon

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
)

// Failures are visible the same way everywhere: a push that OPPO fails
// for good and one to a vivo token vivo declares invalid show in
// /v1/stats (dead, failed, invalid_tokens, failed_by_code), in the
// metrics with the same numbers, in the one dead-letter listing with the
// attempts made, and in a log line each that names the row but not the
// token; a test push is counted in test_pushes and its invalid token is
// unbound like any other push's.
func TestFailuresAreVisible(t *testing.T) {
	var logs testutil.SyncBuffer
	s := startDaemon(t, func(c *configs.Config) {
		c.Vendors.OPPO.Retry.MaxAttempts = 1
	}, Env{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	wantStatus(t, s.do(t, "PUT", "/v1/users/olga/devices/reno", `{"vendor":"oppo","token":"unavailable-olga"}`), 200)
	wantStatus(t, s.do(t, "PUT", "/v1/users/olga/devices/x70", `{"vendor":"vivo","token":"unregistered-olga"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m-fail","from":"x","to":{"type":"peer","id":"olga"},"push":{"title":"t","content":"c"}}`), 202)

	var stats struct {
		Vendors map[string]api.VendorStats `json:"vendors"`
	}
	testutil.WaitFor(t, 20*time.Second, func() bool {
		s.do(t, "GET", "/v1/stats", "").json(t, &stats)
		return stats.Vendors["oppo"].Dead == 1 && stats.Vendors["vivo"].InvalidTokens == 1
	}, "the OPPO dead letter and the vivo invalid token counted")
	s.waitIdle(t, 20*time.Second)
	s.do(t, "GET", "/v1/stats", "").json(t, &stats)
	oppo, vivo := stats.Vendors["oppo"], stats.Vendors["vivo"]
	if oppo.Failed != 1 || oppo.FailedByCode["-1"] != 1 || len(oppo.FailedByCode) != 1 {
		t.Errorf("oppo: failed %d by code %v; want 1 under -1", oppo.Failed, oppo.FailedByCode)
	}
	if vivo.Failed != 1 || vivo.Dead != 0 || len(vivo.FailedByCode) != 1 {
		t.Errorf("vivo: failed %d dead %d by code %v; want 1, 0 and one code", vivo.Failed, vivo.Dead, vivo.FailedByCode)
	}

	var dead struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	s.do(t, "GET", "/v1/admin/dead-letters", "").json(t, &dead)
	if len(dead.DeadLetters) != 1 || dead.DeadLetters[0].Vendor != "oppo" || dead.DeadLetters[0].Attempts != 1 {
		t.Fatalf("dead letters: %+v, want the OPPO row with 1 attempt", dead.DeadLetters)
	}
	if r := s.do(t, "GET", "/v1/users/olga/devices", ""); strings.Contains(string(r.body), "x70") {
		t.Fatalf("the invalid vivo token is still bound: %s", r.body)
	}

	// A test push to an invalid token: counted and unbound.
	wantStatus(t, s.do(t, "PUT", "/v1/users/olga/devices/x80", `{"vendor":"vivo","token":"unregistered-x80"}`), 200)
	var tp api.PushTestResponse
	s.do(t, "POST", "/v1/push/test", `{"push_id":"vivo:unregistered-x80","title":"t","content":"c"}`).json(t, &tp)
	if len(tp.Results) != 1 || !tp.Results[0].Unbound {
		t.Fatalf("test push: %+v, want the token unbound", tp.Results)
	}
	s.do(t, "POST", "/v1/push/test", `{"push_id":"vivo:vv-ok","title":"t","content":"c"}`)
	s.do(t, "GET", "/v1/stats", "").json(t, &stats)
	if got := stats.Vendors["vivo"].TestPushes; got != (api.TestPushStats{Sent: 1, InvalidTokens: 1}) {
		t.Errorf("vivo test pushes %+v, want 1 sent and 1 invalid token", got)
	}
	if stats.Vendors["vivo"].Failed != 1 {
		t.Errorf("a test push counted in vivo's failed: %d", stats.Vendors["vivo"].Failed)
	}

	metrics := string(s.do(t, "GET", "/metrics", "").body)
	for _, line := range []string{
		`herald_vendor_dead_total{vendor="oppo"} 1`,
		`herald_vendor_failed_total{vendor="oppo"} 1`,
		`herald_vendor_failed_by_code_total{code="-1",vendor="oppo"} 1`,
		`herald_vendor_failed_total{vendor="vivo"} 1`,
		`herald_vendor_invalid_total{vendor="vivo"} 1`,
		`herald_vendor_test_pushes_total{result="invalid_token",vendor="vivo"} 1`,
		`herald_vendor_test_pushes_total{result="sent",vendor="vivo"} 1`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %s", line)
		}
	}

	out := logs.String()
	for _, want := range []string{"dead letter", "vendor=oppo", "message_id=m-fail", "unbound a device", "vendor=vivo", "device_id=x70"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if strings.Contains(out, "unavailable-olga") || strings.Contains(out, "unregistered-olga") {
		t.Error("a token reached the log")
	}
}
