package xiaomi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

func TestInterpret(t *testing.T) {
	// 2025-03-01 15:30 UTC = 23:30 in Beijing: MiPush's day ends in 30 min.
	now := time.Date(2025, 3, 1, 15, 30, 0, 0, time.UTC)
	in := interpreter{now: func() time.Time { return now }, redact: func(s string) string {
		return strings.ReplaceAll(s, "s3cret", "[redacted]")
	}}
	regIDs := []string{"r1", "r2", "r3"}
	errBody := func(code string) string {
		return `{"result":"error","code":` + code + `,"reason":"why","description":"说明"}`
	}
	type want struct {
		verdict    vendors.Verdict
		code       string
		retryAfter time.Duration
	}
	all := func(v vendors.Verdict, code string, ra time.Duration) []want {
		return []want{{v, code, ra}, {v, code, ra}, {v, code, ra}}
	}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   []want
	}{
		{"0 ok", 200, nil, `{"result":"ok","trace_id":"X","code":0,"data":{"id":"scm1"},"description":"成功","info":"Received push messages for 3 REGID"}`,
			all(vendors.Delivered, "0", 0)},
		{"0 ok with bad_regids", 200, nil, `{"result":"ok","code":0,"data":{"id":"scm1","bad_regids":"r1,r3"}}`,
			[]want{{vendors.TokenInvalid, "bad_regids", 0}, {vendors.Delivered, "0", 0}, {vendors.TokenInvalid, "bad_regids", 0}}},
		{"0 ok with bad_regids as array", 200, nil, `{"result":"ok","code":"0","data":{"id":1,"bad_regids":["r2"]}}`,
			[]want{{vendors.Delivered, "0", 0}, {vendors.TokenInvalid, "bad_regids", 0}, {vendors.Delivered, "0", 0}}},
		{"ok without code", 200, nil, `{"result":"ok","data":{"id":"scm1"}}`, all(vendors.Delivered, "0", 0)},
		{"10001 system error", 200, nil, errBody("10001"), all(vendors.Retry, "10001", 0)},
		{"10002 busy", 200, nil, errBody("10002"), all(vendors.Retry, "10002", 0)},
		{"10002 busy with Retry-After", 200, http.Header{"Retry-After": {"7"}}, errBody("10002"), all(vendors.Retry, "10002", 7*time.Second)},
		{"10003 remote error", 200, nil, errBody("10003"), all(vendors.Retry, "10003", 0)},
		{"10016 missing parameter", 200, nil, errBody("10016"), all(vendors.Rejected, "10016", 0)},
		{"10017 illegal parameter", 200, nil, errBody("10017"), all(vendors.Rejected, "10017", 0)},
		{"10027 too often", 200, nil, errBody("10027"), all(vendors.Retry, "10027", 0)},
		{"10034 daily quota", 200, nil, errBody("10034"), all(vendors.Retry, "10034", 30*time.Minute)},
		{"20301 no valid target", 200, nil, errBody("20301"), all(vendors.TokenInvalid, "20301", 0)},
		{"21301 auth failed", 200, nil, errBody("21301"), all(vendors.CredentialsBroken, "21301", 0)},
		{"21301 with HTTP 401", 401, nil, errBody("21301"), all(vendors.CredentialsBroken, "21301", 0)},
		{"22022 bad package", 200, nil, errBody("22022"), all(vendors.Rejected, "22022", 0)},
		{"27001 channel mismatch", 200, nil, errBody("27001"), all(vendors.Rejected, "27001", 0)},
		{"unknown code", 200, nil, errBody("99999"), all(vendors.Rejected, "99999", 0)},
		{"code as string", 200, nil, `{"result":"error","code":"21301"}`, all(vendors.CredentialsBroken, "21301", 0)},
		{"HTTP 500 html", 500, nil, `<html>oops</html>`, all(vendors.Retry, "HTTP 500", 0)},
		{"HTTP 502 empty", 502, nil, ``, all(vendors.Retry, "HTTP 502", 0)},
		{"HTTP 503 Retry-After", 503, http.Header{"Retry-After": {"120"}}, `busy`, all(vendors.Retry, "HTTP 503", 2*time.Minute)},
		{"HTTP 503 Retry-After date", 503, http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, ``, all(vendors.Retry, "HTTP 503", time.Minute)},
		{"HTTP 429", 429, nil, ``, all(vendors.Retry, "HTTP 429", 0)},
		{"HTTP 401", 401, nil, `unauthorized`, all(vendors.CredentialsBroken, "HTTP 401", 0)},
		{"HTTP 403", 403, nil, `{"message":"forbidden"}`, all(vendors.CredentialsBroken, "HTTP 403", 0)},
		{"HTTP 404", 404, nil, `not found`, all(vendors.Rejected, "HTTP 404", 0)},
		{"HTTP 400", 400, nil, ``, all(vendors.Rejected, "HTTP 400", 0)},
		{"HTTP 200 not JSON", 200, nil, `<html>portal</html>`, all(vendors.Retry, "malformed_response", 0)},
		{"HTTP 200 truncated JSON", 200, nil, `{"result":"ok","code":0,"da`, all(vendors.Retry, "malformed_response", 0)},
		{"HTTP 200 JSON without result", 200, nil, `{"foo":1}`, all(vendors.Retry, "malformed_response", 0)},
		{"HTTP 200 JSON array", 200, nil, `[1,2]`, all(vendors.Retry, "malformed_response", 0)},
		{"HTTP 200 odd data", 200, nil, `{"result":"ok","code":0,"data":"x"}`, all(vendors.Delivered, "0", 0)},
		{"HTTP 500 code 0", 500, nil, `{"result":"ok","code":0}`, all(vendors.Retry, "HTTP 500", 0)},
		{"HTTP 307 code 0", 307, http.Header{"Location": {"https://other.example/v3/message/regid"}}, `{"result":"ok","code":0}`,
			all(vendors.Misconfigured, vendors.CodeRedirectRefused, 0)},
		{"HTTP 302 html", 302, http.Header{"Location": {"/login"}}, `<a href="/login">Found</a>`, all(vendors.Misconfigured, vendors.CodeRedirectRefused, 0)},
		{"HTTP 308 code 21301", 308, nil, errBody("21301"), all(vendors.Misconfigured, vendors.CodeRedirectRefused, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			got := in.interpret(tc.status, h, []byte(tc.body), regIDs)
			if len(got) != len(regIDs) {
				t.Fatalf("%d results for %d targets", len(got), len(regIDs))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Verdict != w.verdict || g.Code != w.code || g.RetryAfter != w.retryAfter {
					t.Errorf("target %d: got %v %q after %v (%s), want %v %q after %v",
						i, g.Verdict, g.Code, g.RetryAfter, g.Reason, w.verdict, w.code, w.retryAfter)
				}
				if g.Verdict != vendors.Delivered && g.Reason == "" {
					t.Errorf("target %d: no reason", i)
				}
			}
		})
	}
}

func TestInterpretRedactsSecret(t *testing.T) {
	in := interpreter{now: time.Now, redact: func(s string) string { return strings.ReplaceAll(s, "s3cret", "[redacted]") }}
	for _, body := range []string{`{"result":"error","code":21301,"reason":"bad key=s3cret"}`, `key=s3cret`} {
		for _, r := range in.interpret(401, http.Header{}, []byte(body), []string{"r"}) {
			if strings.Contains(r.Reason, "s3cret") {
				t.Errorf("secret leaked into %q", r.Reason)
			}
		}
	}
}

func TestUntilChinaMidnight(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(2025, 3, 1, 16, 0, 0, 0, time.UTC), 24 * time.Hour},                   // 00:00 Beijing
		{time.Date(2025, 3, 1, 15, 59, 59, 0, time.UTC), time.Second},                    // 23:59:59 Beijing
		{time.Date(2025, 12, 31, 4, 0, 0, 0, time.UTC), 12 * time.Hour},                  // noon Beijing, year end
		{time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("X", -7*3600)), 1 * time.Hour}, // 23:00 Beijing
	} {
		if got := untilChinaMidnight(tc.now); got != tc.want {
			t.Errorf("untilChinaMidnight(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}
