package vivo

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

func TestCodeResult(t *testing.T) {
	// 10:00 UTC = 18:00 China Standard Time: 6 h to vivo's next day.
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	day := 6 * time.Hour
	for _, tc := range []struct {
		code  int
		want  vendors.Verdict
		after time.Duration
	}{
		{codeAuthFailed, vendors.CredentialsBroken, 0}, // after the one refresh
		{codeParamInvalid, vendors.Rejected, 0},
		{codeDailyTotal, vendors.Retry, day},
		{codeTooFast, vendors.Retry, time.Second},
		{codeAppMismatch, vendors.CredentialsBroken, 0},
		{codeCategoryInvalid, vendors.Rejected, 0},
		{codeCategoryMismatch, vendors.Rejected, 0},
		{codeAuthAppIDEmpty, vendors.CredentialsBroken, 0},
		{codeAuthAppKeyEmpty, vendors.CredentialsBroken, 0},
		{codeAuthTimestampEmpty, vendors.CredentialsBroken, 0},
		{codeAuthSignEmpty, vendors.CredentialsBroken, 0},
		{codeAuthAppIDInvalid, vendors.CredentialsBroken, 0},
		{codeAuthAppKeyInvalid, vendors.CredentialsBroken, 0},
		{codeAuthTimestampBad, vendors.CredentialsBroken, 0},
		{codeAuthSignInvalid, vendors.CredentialsBroken, 0},
		{codeListPayloadLimit, vendors.Retry, day},
		{codeTaskIDInvalid, vendors.Rejected, 0},
		{codeBroadcastLimit, vendors.Retry, day},
		{codeRegIDInvalid, vendors.TokenInvalid, 0},
		{10055, vendors.Rejected, 0}, // any other parameter error
		{19999, vendors.Rejected, 0},
	} {
		r := codeResult(tc.code, "", now)
		if r.Verdict != tc.want || r.RetryAfter != tc.after || r.Code == "" || r.Reason == "" {
			t.Errorf("code %d: %+v, want %v after %v", tc.code, r, tc.want, tc.after)
		}
	}
	for code, want := range map[int]vendors.Verdict{
		codeAuthSignInvalid: vendors.CredentialsBroken,
		codeAuthAppIDEmpty:  vendors.CredentialsBroken,
		codeTooFast:         vendors.Retry,
		19999:               vendors.CredentialsBroken,
	} {
		if r := authCodeResult(code, "x"); r.Verdict != want {
			t.Errorf("auth code %d: %+v", code, r)
		}
	}
}

func TestStatusResult(t *testing.T) {
	for status, want := range map[int]vendors.Verdict{
		statusUnknown:     vendors.TokenInvalid,
		statusUnsubscribe: vendors.TokenInvalid,
		statusInactive:    vendors.TokenInvalid,
		statusNotTester:   vendors.Rejected,
		9:                 vendors.Rejected,
	} {
		if r := statusResult(status, ""); r.Verdict != want || r.Reason == "" {
			t.Errorf("status %d: %+v", status, r)
		}
	}
}

func TestHTTPResult(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status int
		header string
		want   vendors.Verdict
		after  time.Duration
	}{
		{500, "", vendors.Retry, 0},
		{502, "", vendors.Retry, 0},
		{503, "120", vendors.Retry, 2 * time.Minute},
		{503, now.Add(time.Minute).Format(http.TimeFormat), vendors.Retry, time.Minute},
		{429, "bogus", vendors.Retry, 0},
		{408, "", vendors.Retry, 0},
		{401, "", vendors.CredentialsBroken, 0},
		{403, "", vendors.CredentialsBroken, 0},
		{400, "", vendors.Rejected, 0},
		{404, "", vendors.Rejected, 0},
		{307, "", vendors.Misconfigured, 0}, // a refused redirect (vendors.RedirectResult)
	} {
		r := httpResult(tc.status, http.Header{"Retry-After": {tc.header}}, []byte("Internet server error!"), now)
		if r.Verdict != tc.want || r.RetryAfter != tc.after {
			t.Errorf("HTTP %d %q: %+v", tc.status, tc.header, r)
		}
	}
}

func TestUntilNextVivoDay(t *testing.T) {
	for in, want := range map[time.Time]time.Duration{
		time.Date(2025, 3, 4, 16, 0, 0, 0, time.UTC):                    24 * time.Hour, // 00:00 CST
		time.Date(2025, 3, 4, 15, 59, 0, 0, time.UTC):                   time.Minute,
		time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC):                  17 * time.Hour,
		time.Date(2025, 3, 4, 6, 0, 0, 0, time.FixedZone("X", -5*3600)): 5 * time.Hour,
	} {
		if got := untilNextVivoDay(in); got != want {
			t.Errorf("untilNextVivoDay(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAnswerForms(t *testing.T) {
	a, err := parseAnswer([]byte(`{"result":"0","desc":"ok","taskId":12345,"invalidUsers":[{"userid":"u","status":"2"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.Result != 0 || a.TaskID != "12345" || !reflect.DeepEqual(a.InvalidUsers, []invalidUser{{UserID: "u", Status: 2}}) {
		t.Errorf("answer = %+v", a)
	}
	for _, bad := range []string{``, `{}`, `{"result":null}`, `{"result":1.5}`, `{"result":0,"invalidUsers":{}}`} {
		if _, err := parseAnswer([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestListResults(t *testing.T) {
	a := answer{InvalidUsers: []invalidUser{{UserID: "b", Status: 2}, {UserID: "d", Status: 4}}}
	got := verdicts(listResults([]string{"a", "b", "c", "d"}, a))
	want := []vendors.Verdict{vendors.Delivered, vendors.TokenInvalid, vendors.Delivered, vendors.Rejected}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("verdicts = %v", got)
	}
}
