package huawei

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/internal/redirecttest"
)

// Answers that read as success, from the token endpoint and the push API.
const (
	tokenOK = `{"access_token":"at-123","expires_in":3600,"token_type":"Bearer"}`
	sendOK  = `{"code":"80000000","msg":"Success","requestId":"1"}`
)

// isTokenPath reports whether path is the token endpoint's.
func isTokenPath(path string) bool { return strings.Contains(path, "/oauth2/") }

// okBody is what a successful Huawei answers to a request for path.
func okBody(path string) string {
	if isTokenPath(path) {
		return tokenOK
	}
	return sendOK
}

// answerOK answers r as a successful Huawei would.
func answerOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(okBody(r.URL.Path)))
}

// TestRedirectIsNeverFollowed: a 3xx from the token endpoint or the push
// API, even with a body that reads as success (an access token, code
// 80000000), is Misconfigured with code redirect_refused for every target,
// and the host in Location, trusted by the same CA and answering as
// Huawei does on success, never gets a request (so never the client
// secret or the bearer token).
func TestRedirectIsNeverFollowed(t *testing.T) {
	const secret = "s3cret"
	type endpoint struct {
		endpoint string // "token" or "send"
		status   int
	}
	var cases []endpoint
	for _, e := range []string{"token", "send"} {
		for _, status := range redirecttest.Statuses() {
			cases = append(cases, endpoint{e, status})
		}
	}
	for _, tc := range cases {
		t.Run(tc.endpoint+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			p := redirecttest.New(t, redirecttest.Options{
				Status:      tc.status,
				Redirects:   func(path string) bool { return isTokenPath(path) == (tc.endpoint == "token") },
				Body:        okBody,
				ContentType: "application/json",
				Vendor:      http.HandlerFunc(answerOK),
				Elsewhere:   http.HandlerFunc(answerOK),
			})
			c, err := New(Config{AppID: "app", AppSecret: secret, AuthURL: p.URL + "/oauth2/v3/token", PushURL: p.URL,
				TLS: p.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			redirecttest.AssertNotFollowed(t, p, send(t, c, note("m1"), "tok-a", "tok-b"), secret, "at-123")
		})
	}
}
