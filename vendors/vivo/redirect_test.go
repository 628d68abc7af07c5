package vivo

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/internal/redirecttest"
)

// redirecting is a vivo that answers path with status and a Location on a
// second server, trusted by the same CA, that answers every request as a
// successful vivo would; every other path it answers as vivo does on
// success.
func redirecting(t *testing.T, path string, status int) *redirecttest.Pair {
	t.Helper()
	return redirecttest.New(t, redirecttest.Options{
		Status:    status,
		Redirects: func(p string) bool { return p == path },
		Vendor: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case pathAuth:
				_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"t"}`))
			case pathSaveList:
				_, _ = w.Write([]byte(`{"result":0,"desc":"ok","taskId":"42"}`))
			default:
				_, _ = w.Write([]byte(`{"result":0,"desc":"ok"}`))
			}
		}),
		Elsewhere: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"stolen","taskId":"1"}`))
		}),
	})
}

// TestRedirectIsNeverFollowed: a 3xx from any vivo endpoint, the auth
// endpoint included, is Misconfigured with code redirect_refused for every
// target, and the host it names never gets a request (so never the
// authToken header or the auth sign).
func TestRedirectIsNeverFollowed(t *testing.T) {
	type endpoint struct {
		path    string
		status  int
		targets int // 1 goes to /message/send, more to saveListPayload + pushToList
	}
	var cases []endpoint
	for _, status := range redirecttest.Statuses() {
		cases = append(cases,
			endpoint{pathAuth, status, 1}, endpoint{pathAuth, status, 2},
			endpoint{pathSend, status, 1}, endpoint{pathSaveList, status, 3}, endpoint{pathPushToList, status, 3})
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.path, "/message/")+"/"+strconv.Itoa(tc.status)+"/"+strconv.Itoa(tc.targets), func(t *testing.T) {
			p := redirecting(t, tc.path, tc.status)
			c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: p.URL, TLS: p.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			tokens := make([]string, tc.targets)
			for i := range tokens {
				tokens[i] = "tok-" + strconv.Itoa(i)
			}
			res := send(t, c, note("m1"), tokens...)
			for i, r := range res {
				if tc.path == pathAuth && !strings.HasPrefix(r.Reason, "auth: ") {
					t.Errorf("target %d: reason %q does not say the token fetch failed", i, r.Reason)
				}
			}
			redirecttest.AssertNotFollowed(t, p, res)
		})
	}
}

// TestRedirectRefusedWithCallersClient: a Config.HTTPClient that follows
// redirects is used through a copy that does not; the caller's client is
// not changed.
func TestRedirectRefusedWithCallersClient(t *testing.T) {
	p := redirecting(t, pathSend, http.StatusTemporaryRedirect)
	// The setup can see a leak: this client, following the redirect as
	// net/http does by default, reaches the other host with the header.
	mine := p.FollowingClient(t, pathSend, `{}`, "authToken", "secret-token")

	c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: p.URL, HTTPClient: mine, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
	redirecttest.AssertNotFollowed(t, p, send(t, c, note("m1"), "tok-a"))
}
