package huawei

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var now0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

func ans(code, msg string) string {
	return `{"code":"` + code + `","msg":` + quote(msg) + `,"requestId":"1741953600000100001"}`
}

func quote(s string) string {
	b, _ := marshal(s)
	return string(b)
}

// TestClassify covers every result code in vendors.md, and answers without one.
func TestClassify(t *testing.T) {
	tokens := []string{"a", "b", "c"}
	partial := `{"success":1,"failure":2,"illegal_tokens":["b","c"]}`
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       []vendors.Verdict
		code       string
		authRetry  bool
		wantAfter  time.Duration
	}{
		{"success", 200, "", ans("80000000", "Success"), []vendors.Verdict{D, D, D}, "80000000", false, 0},
		{"partial", 200, "", ans("80100000", partial), []vendors.Verdict{D, I, I}, "80100000", false, 0},
		{"partial unreadable msg", 200, "", ans("80100000", "not json"), []vendors.Verdict{R, R, R}, "80100000", false, 0},
		{"bad parameter", 400, "", ans("80100001", "bad"), []vendors.Verdict{X, X, X}, "80100001", false, 0},
		{"bad structure", 400, "", ans("80100003", "Incorrect message structure"), []vendors.Verdict{X, X, X}, "80100003", false, 0},
		{"ttl in the past", 400, "", ans("80100004", "expired"), []vendors.Verdict{X, X, X}, "80100004", false, 0},
		{"oauth error", 401, "", ans("80200001", "Oauth authentication error"), []vendors.Verdict{C, C, C}, "80200001", true, 0},
		{"token expired", 401, "", ans("80200003", "Oauth Token expired."), []vendors.Verdict{C, C, C}, "80200003", true, 0},
		{"app may not push", 403, "", ans("80300002", "no permission"), []vendors.Verdict{C, C, C}, "80300002", false, 0},
		{"all tokens invalid", 400, "", ans("80300007", "All the tokens are invalid"), []vendors.Verdict{I, I, I}, "80300007", false, 0},
		{"all tokens invalid on 200", 200, "", ans("80300007", "All the tokens are invalid"), []vendors.Verdict{I, I, I}, "80300007", false, 0},
		{"all tokens invalid on 404", 404, "", ans("80300007", "All the tokens are invalid"), []vendors.Verdict{I, I, I}, "80300007", false, 0},
		{"body too large", 400, "", ans("80300008", "too large"), []vendors.Verdict{X, X, X}, "80300008", false, 0},
		{"too many tokens", 400, "", ans("80300010", "too many"), []vendors.Verdict{X, X, X}, "80300010", false, 0},
		{"no high priority permission", 403, "", ans("80300011", "no permission"), []vendors.Verdict{X, X, X}, "80300011", false, 0},
		{"oauth service failed", 500, "", ans("80600003", "Request OAuth service failed"), []vendors.Verdict{C, C, C}, "80600003", false, 0},
		{"internal error", 500, "3", ans("81000001", "System inner error"), []vendors.Verdict{R, R, R}, "81000001", false, 3 * time.Second},
		{"numeric code", 200, "", `{"code":80000000,"msg":"Success"}`, []vendors.Verdict{D, D, D}, "80000000", false, 0},
		{"unknown code", 200, "", ans("80100016", "sensitive content"), []vendors.Verdict{X, X, X}, "80100016", false, 0},
		{"unknown code on 503", 503, "", ans("89999999", "busy"), []vendors.Verdict{R, R, R}, "89999999", false, 0},
		{"flow control", 503, "", "Service Unavailable", []vendors.Verdict{R, R, R}, "HTTP 503", false, 0},
		{"flow control retry-after", 503, "120", "", []vendors.Verdict{R, R, R}, "HTTP 503", false, 2 * time.Minute},
		{"retry-after date", 503, now0.Add(90 * time.Second).Format(http.TimeFormat), "", []vendors.Verdict{R, R, R}, "HTTP 503", false, 90 * time.Second},
		{"too many requests", 429, "7", "{}", []vendors.Verdict{R, R, R}, "HTTP 429", false, 7 * time.Second},
		{"bad gateway html", 502, "", "<html>bad gateway</html>", []vendors.Verdict{R, R, R}, "HTTP 502", false, 0},
		{"401 without code", 401, "", "", []vendors.Verdict{C, C, C}, "HTTP 401", false, 0},
		{"200 garbage", 200, "", "{not json", []vendors.Verdict{R, R, R}, "malformed_answer", false, 0},
		{"200 empty", 200, "", "", []vendors.Verdict{R, R, R}, "malformed_answer", false, 0},
		{"404 without code", 404, "", "not found", []vendors.Verdict{X, X, X}, "HTTP 404", false, 0},
		{"code of wrong type", 200, "", `{"code":{"x":1}}`, []vendors.Verdict{R, R, R}, "malformed_answer", false, 0},
		// A redirect is not followed: its body is not the push API's answer.
		{"302 with a success body", 302, "", ans("80000000", "Success"), []vendors.Verdict{M, M, M}, vendors.CodeRedirectRefused, false, 0},
		{"307 with an auth error body", 307, "", ans("80200003", "Oauth Token expired."), []vendors.Verdict{M, M, M}, vendors.CodeRedirectRefused, false, 0},
		{"304 empty", 304, "", "", []vendors.Verdict{M, M, M}, vendors.CodeRedirectRefused, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			o := classify(tt.status, h, []byte(tt.body), now0)
			if o.authRetry != tt.authRetry {
				t.Errorf("authRetry %v, want %v", o.authRetry, tt.authRetry)
			}
			res := o.results(tokens)
			wantVerdicts(t, res, tt.want...)
			for i, r := range res {
				if r.Verdict == D && tt.code != "80100000" && tt.code != "80000000" {
					continue
				}
				if r.Code != tt.code {
					t.Errorf("result %d code %q, want %q", i, r.Code, tt.code)
				}
				if r.Verdict == R && r.RetryAfter != tt.wantAfter {
					t.Errorf("result %d RetryAfter %v, want %v", i, r.RetryAfter, tt.wantAfter)
				}
				if r.Verdict != D && r.Reason == "" {
					t.Errorf("result %d has no reason", i)
				}
			}
		})
	}
}

// TestTokenResult covers the token endpoint's answers.
func TestTokenResult(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		verdict vendors.Verdict // Delivered = got a token
		code    string
		ttl     time.Duration
	}{
		{"ok", 200, `{"access_token":"DgEAA+/x=","expires_in":3600,"token_type":"Bearer"}`, D, "", time.Hour},
		{"ok without expires_in", 200, `{"access_token":"t"}`, D, "", time.Hour},
		{"bad secret", 400, `{"sub_error":12304,"error_description":"invalid client_secret","error":1101}`, C, "1101", 0},
		{"missing client id", 400, `{"sub_error":20001,"error_description":"client_id is empty","error":1102}`, C, "1102", 0},
		{"unknown client", 400, `{"sub_error":12303,"error_description":"client_id does not exist","error":1203}`, C, "1203", 0},
		{"string error", 400, `{"error":"invalid_client","error_description":"bad"}`, C, "invalid_client", 0},
		{"401 empty", 401, ``, C, "HTTP 401", 0},
		{"internal error", 500, `{"error":500,"error_description":"system internal error"}`, R, "500", 0},
		{"flow control", 503, ``, R, "HTTP 503", 0},
		{"200 garbage", 200, `<html>`, R, "malformed_token_answer", 0},
		{"200 no token", 200, `{"expires_in":3600}`, R, "malformed_token_answer", 0},
		{"302 with a token", 302, `{"access_token":"t","expires_in":3600}`, M, vendors.CodeRedirectRefused, 0},
		{"307 bad secret", 307, `{"error":1101}`, M, vendors.CodeRedirectRefused, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, ttl, r := tokenResult(tt.status, http.Header{}, []byte(tt.body), now0)
			if tt.verdict == D {
				if r != nil || tok == "" || ttl != tt.ttl {
					t.Fatalf("tok %q ttl %v result %+v", tok, ttl, r)
				}
				return
			}
			if r == nil {
				t.Fatalf("got token %q, want %v", tok, tt.verdict)
			}
			if r.Verdict != tt.verdict || r.Code != tt.code {
				t.Errorf("result %+v, want %v %s", r, tt.verdict, tt.code)
			}
			if tt.name == "bad secret" && !strings.Contains(r.Reason, "12304") {
				t.Errorf("reason %q lacks the sub_error", r.Reason)
			}
		})
	}
}
