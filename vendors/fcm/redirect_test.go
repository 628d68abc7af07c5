package fcm

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors/internal/redirecttest"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestRedirectIsNeverFollowed: a 3xx from the token endpoint or from
// messages:send is Misconfigured with code redirect_refused, and the host in
// Location, trusted by the same CA and answering as FCM does on success,
// never gets a request (so never the signed assertion or the bearer).
func TestRedirectIsNeverFollowed(t *testing.T) {
	token := func(p string) bool { return p == "/token" }
	messages := func(p string) bool { return strings.HasSuffix(p, ":send") }
	const html = `<a href="elsewhere">moved</a>`
	// The Firebase SDK counts 300-303 as success: a body that parses as a
	// message name must not make one delivered.
	const named = `{"name":"projects/herald-sim/messages/redirected"}`
	type endpoint struct {
		name     string
		redirect func(path string) bool
		status   int
		body     string
	}
	var cases []endpoint
	for _, status := range redirecttest.Statuses() {
		s := strconv.Itoa(status)
		cases = append(cases,
			endpoint{"token/" + s, token, status, html},
			endpoint{"token/" + s + "-token", token, status, `{"access_token":"x","token_type":"Bearer","expires_in":3600}`},
			endpoint{"send/" + s, messages, status, html},
			endpoint{"send/" + s + "-named", messages, status, named})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
			p := redirecttest.New(t, redirecttest.Options{
				Status:    tc.status,
				Redirects: tc.redirect,
				Body:      func(string) string { return tc.body },
				Vendor:    sim,
				Elsewhere: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					if r.URL.Path == "/token" {
						_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer","expires_in":3600}`))
						return
					}
					_, _ = w.Write([]byte(`{"name":"projects/herald-sim/messages/elsewhere"}`))
				}),
			})
			c, err := New(sim.ClientConfig(p.URL, p.ClientTLS()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			redirecttest.AssertNotFollowed(t, p, send(t, c, chatNotification("m-1"), "tok-a", "tok-b"))
		})
	}
}
