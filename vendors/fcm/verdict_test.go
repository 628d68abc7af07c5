package fcm

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// cannedAnswer is what the stub FCM answers for one token.
type cannedAnswer struct {
	status int
	header map[string]string
	body   string
}

func fcmBody(code int, status, message string, details ...string) string {
	b := `{"error":{"code":` + itoa(code) + `,"message":` + quote(message) + `,"status":"` + status + `"`
	if len(details) > 0 {
		b += `,"details":[` + strings.Join(details, ",") + `]`
	}
	return b + "}}"
}

func fcmDetail(code string) string {
	return `{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"` + code + `"}`
}

func infoDetail(reason string) string {
	return `{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"` + reason + `","domain":"googleapis.com"}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestAnswerVerdicts runs the real client against a stub that answers each
// token with one FCM answer, covering every code in vendors.md (and the
// shapes real FCM sends beside them), and checks the verdict, the code, the
// wait, and how many requests each answer cost.
func TestAnswerVerdicts(t *testing.T) {
	retryDate := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	cases := []struct {
		token  string
		answer cannedAnswer
		want   vendors.Verdict
		code   string
		wait   time.Duration // RetryAfter; -1 = between 100 s and 121 s
		hits   int
	}{
		{"unregistered", cannedAnswer{404, nil, fcmBody(404, "NOT_FOUND", "Requested entity was not found.", fcmDetail("UNREGISTERED"))}, vendors.TokenInvalid, "UNREGISTERED", 0, 1},
		{"sender-mismatch", cannedAnswer{403, nil, fcmBody(403, "PERMISSION_DENIED", "SenderId mismatch", fcmDetail("SENDER_ID_MISMATCH"))}, vendors.TokenInvalid, "SENDER_ID_MISMATCH", 0, 1},
		{"invalid-token", cannedAnswer{400, nil, fcmBody(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", fcmDetail("INVALID_ARGUMENT"))}, vendors.TokenInvalid, "INVALID_ARGUMENT", 0, 1},
		{"invalid-token-field", cannedAnswer{400, nil, fcmBody(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", fcmDetail("INVALID_ARGUMENT"),
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}`)}, vendors.TokenInvalid, "INVALID_ARGUMENT", 0, 1},
		{"invalid-ttl", cannedAnswer{400, nil, fcmBody(400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'", fcmDetail("INVALID_ARGUMENT"))}, vendors.Rejected, "INVALID_ARGUMENT", 0, 1},
		{"invalid-json", cannedAnswer{400, nil, fcmBody(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"x\"")}, vendors.Rejected, "INVALID_ARGUMENT", 0, 1},
		{"third-party-auth", cannedAnswer{401, nil, fcmBody(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", fcmDetail("THIRD_PARTY_AUTH_ERROR"))}, vendors.CredentialsBroken, "THIRD_PARTY_AUTH_ERROR", 0, 1},
		{"apns-auth-legacy", cannedAnswer{401, nil, fcmBody(401, "UNAUTHENTICATED", "Auth error from APNS", fcmDetail("APNS_AUTH_ERROR"))}, vendors.CredentialsBroken, "APNS_AUTH_ERROR", 0, 1},
		{"quota-retry-after", cannedAnswer{429, map[string]string{"Retry-After": "7"}, fcmBody(429, "RESOURCE_EXHAUSTED", "Quota exceeded", fcmDetail("QUOTA_EXCEEDED"))}, vendors.Retry, "QUOTA_EXCEEDED", 7 * time.Second, 1},
		{"quota-no-header", cannedAnswer{429, nil, fcmBody(429, "RESOURCE_EXHAUSTED", "Quota exceeded", fcmDetail("QUOTA_EXCEEDED"))}, vendors.Retry, "QUOTA_EXCEEDED", time.Minute, 1},
		{"rate-limit-errorinfo", cannedAnswer{429, nil, fcmBody(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'", infoDetail("RATE_LIMIT_EXCEEDED"))}, vendors.Retry, "RESOURCE_EXHAUSTED", time.Minute, 1},
		{"unavailable", cannedAnswer{503, map[string]string{"Retry-After": "3"}, fcmBody(503, "UNAVAILABLE", "The service is currently unavailable.", fcmDetail("UNAVAILABLE"))}, vendors.Retry, "UNAVAILABLE", 3 * time.Second, 1},
		{"unavailable-date", cannedAnswer{503, map[string]string{"Retry-After": retryDate}, fcmBody(503, "UNAVAILABLE", "The service is currently unavailable.", fcmDetail("UNAVAILABLE"))}, vendors.Retry, "UNAVAILABLE", -1, 1},
		{"internal", cannedAnswer{500, nil, fcmBody(500, "INTERNAL", "Internal error encountered.", fcmDetail("INTERNAL"))}, vendors.Retry, "INTERNAL", 0, 1},
		{"bad-gateway-html", cannedAnswer{502, map[string]string{"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>"}, vendors.Retry, "HTTP_502", 0, 1},
		{"unavailable-html", cannedAnswer{503, map[string]string{"Content-Type": "text/html"}, "<html>down</html>"}, vendors.Retry, "HTTP_503", 0, 1},
		{"bearer-refused", cannedAnswer{401, nil, fcmBody(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", infoDetail("ACCESS_TOKEN_EXPIRED"))}, vendors.CredentialsBroken, "UNAUTHENTICATED", 0, 2},
		{"permission-denied", cannedAnswer{403, nil, fcmBody(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied", infoDetail("IAM_PERMISSION_DENIED"))}, vendors.CredentialsBroken, "PERMISSION_DENIED", 0, 1},
		{"not-found-bare", cannedAnswer{404, nil, fcmBody(404, "NOT_FOUND", "Requested entity was not found.")}, vendors.Rejected, "NOT_FOUND", 0, 1},
		{"teapot-text", cannedAnswer{418, map[string]string{"Content-Type": "text/plain"}, "no"}, vendors.Rejected, "HTTP_418", 0, 1},
		{"garbage-success", cannedAnswer{200, nil, "{not json"}, vendors.Delivered, "", 0, 1},
		{"redirect-307", cannedAnswer{307, map[string]string{"Location": "https://elsewhere.example/v1/x"}, "moved"}, vendors.Misconfigured, vendors.CodeRedirectRefused, 0, 1},
		{"redirect-302-named", cannedAnswer{302, map[string]string{"Location": "https://elsewhere.example/v1/x"}, `{"name":"projects/p/messages/1"}`}, vendors.Misconfigured, vendors.CodeRedirectRefused, 0, 1},
		{"not-modified", cannedAnswer{304, nil, ""}, vendors.Misconfigured, vendors.CodeRedirectRefused, 0, 1},
	}
	byToken := map[string]cannedAnswer{}
	for _, c := range cases {
		byToken[c.token] = c.answer
	}
	var mu sync.Mutex
	hits := map[string]int{}
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			sim.ServeHTTP(w, r) // the real auth flow
			return
		}
		var body struct {
			Message struct {
				Token string `json:"token"`
			} `json:"message"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		hits[body.Message.Token]++
		mu.Unlock()
		a, ok := byToken[body.Message.Token]
		if !ok {
			a = cannedAnswer{200, nil, `{"name":"projects/herald-sim/messages/1"}`}
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	c, err := New(sim.ClientConfig(url, ca.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tokens := make([]string, len(cases))
	for i, tc := range cases {
		tokens[i] = tc.token
	}
	start := time.Now()
	res := send(t, c, &vendors.Notification{MessageID: "v-1", Title: "t"}, tokens...)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: some answer was retried inside the SDK", d)
	}
	for i, tc := range cases {
		r := res[i]
		t.Run(tc.token, func(t *testing.T) {
			if r.Verdict != tc.want || r.Code != tc.code {
				t.Errorf("got %v %q (%s), want %v %q", r.Verdict, r.Code, r.Reason, tc.want, tc.code)
			}
			switch {
			case tc.wait == -1 && (r.RetryAfter < 100*time.Second || r.RetryAfter > 121*time.Second):
				t.Errorf("RetryAfter = %v, want about 2 min (HTTP-date)", r.RetryAfter)
			case tc.wait >= 0 && r.RetryAfter != tc.wait:
				t.Errorf("RetryAfter = %v, want %v", r.RetryAfter, tc.wait)
			}
			mu.Lock()
			n := hits[tc.token]
			mu.Unlock()
			if n != tc.hits {
				t.Errorf("%d requests, want %d", n, tc.hits)
			}
		})
	}
}

func TestParseAnswerMalformed(t *testing.T) {
	now := time.Now()
	for _, body := range []string{"", "null", "[]", `{"error":"string"}`, `{"error":{"details":"x"}}`, "\x00\xff"} {
		a := parseAnswer(500, http.Header{}, []byte(body), now)
		if r := verdict(a); r.Verdict != vendors.Retry || r.Code != "HTTP_500" {
			t.Errorf("body %q: %+v", body, r)
		}
	}
}
