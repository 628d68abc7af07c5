package oppo

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/redirecttest"
)

// Answers that read as success (code 0), from /server/v1/auth and from
// unicast_batch for targets tok-a and tok-b.
const (
	authOK  = `{"code":0,"message":"Success","data":{"auth_token":"at-123","create_time":1}}`
	batchOK = `{"code":0,"message":"Success","data":[{"messageId":"m-a","registrationId":"tok-a"},{"messageId":"m-b","registrationId":"tok-b"}]}`
)

// okBody is what a successful OPPO answers to a request for path.
func okBody(path string) string {
	if path == pathAuth {
		return authOK
	}
	return batchOK
}

// answerOK answers r as a successful OPPO would.
func answerOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write([]byte(okBody(r.URL.Path)))
}

// TestRedirectIsNeverFollowed: a 3xx from /server/v1/auth or from
// unicast_batch, even with a body holding code 0 (which OPPO's table reads
// as success), is Misconfigured with code redirect_refused for every
// target, and the host in Location, trusted by the same CA and answering
// as OPPO does on success, never gets a request (so never the sign or the
// auth_token in the form), through Send and SendEach alike.
func TestRedirectIsNeverFollowed(t *testing.T) {
	const secret = "m4ster-secret"
	type endpoint struct {
		path   string
		status int
		each   bool // through SendEach instead of Send
	}
	var cases []endpoint
	for _, path := range []string{pathAuth, pathBatch} {
		for _, status := range redirecttest.Statuses() {
			cases = append(cases, endpoint{path, status, false}, endpoint{path, status, true})
		}
	}
	for _, tc := range cases {
		name := tc.path[strings.LastIndexByte(tc.path, '/')+1:] + "/" + strconv.Itoa(tc.status)
		if tc.each {
			name += "/each"
		}
		t.Run(name, func(t *testing.T) {
			p := redirecttest.New(t, redirecttest.Options{
				Status:      tc.status,
				Redirects:   func(path string) bool { return path == tc.path },
				Body:        okBody,
				ContentType: "application/json;charset=UTF-8",
				Vendor:      http.HandlerFunc(answerOK),
				Elsewhere:   http.HandlerFunc(answerOK),
			})
			c, err := New(Config{AppKey: "k", MasterSecret: secret, Endpoint: p.URL, TLS: p.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var res []vendors.Result
			if tc.each {
				res, err = c.SendEach(ctx, []*vendors.Notification{chatNotification("m-1"), chatNotification("m-2")}, targets("tok-a", "tok-b"))
			} else {
				res, err = c.Send(ctx, chatNotification("m-1"), targets("tok-a", "tok-b"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 {
				t.Fatalf("%d results for 2 targets", len(res))
			}
			for i, r := range res {
				if tc.path == pathAuth && !strings.HasPrefix(r.Reason, "auth: ") {
					t.Errorf("target %d: reason %q does not say the auth call failed", i, r.Reason)
				}
			}
			redirecttest.AssertNotFollowed(t, p, res, secret, "at-123")
		})
	}
}
