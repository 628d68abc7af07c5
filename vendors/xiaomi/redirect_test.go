package xiaomi

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/redirecttest"
)

// redirecting is a MiPush that answers every request with status and a
// Location on a second server, trusted by the same CA, that answers every
// request as a successful MiPush would.
func redirecting(t *testing.T, status int) *redirecttest.Pair {
	t.Helper()
	return redirecttest.New(t, redirecttest.Options{
		Status: status,
		Elsewhere: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"result":"ok","code":0,"data":{"id":"scm-elsewhere"}}`))
		}),
	})
}

// TestRedirectIsNeverFollowed: a 3xx, from /v3/message/regid (Send) or
// /v2/multi_messages/regids (SendEach), is Misconfigured with code
// redirect_refused for every target, and the host it names never gets a
// request (so never the Authorization header with the AppSecret).
func TestRedirectIsNeverFollowed(t *testing.T) {
	for _, status := range redirecttest.Statuses() {
		for _, each := range []bool{false, true} {
			name := strconv.Itoa(status)
			if each {
				name += "/each"
			}
			t.Run(name, func(t *testing.T) { redirectRefused(t, status, each) })
		}
	}
}

func redirectRefused(t *testing.T, status int, each bool) {
	p := redirecting(t, status)
	c, err := New(Config{AppSecret: "s3cret", PackageName: "p", ChannelID: "chat", Endpoint: p.URL, TLS: p.ClientTLS(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	tgs := targets("a", "b", "c")
	var res []vendors.Result
	if each {
		res, err = c.SendEach(context.Background(), []*vendors.Notification{msg("m1"), msg("m2"), msg("m3")}, tgs)
	} else {
		res, err = c.Send(context.Background(), msg("m"), tgs)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results for 3 targets: %+v", len(res), res)
	}
	redirecttest.AssertNotFollowed(t, p, res, "s3cret")
}

// TestRedirectRefusedWithCallersClient: a Config.HTTPClient that follows
// redirects is used through a copy that does not; the caller's client is
// not changed.
func TestRedirectRefusedWithCallersClient(t *testing.T) {
	p := redirecting(t, http.StatusTemporaryRedirect)
	// The setup can see a leak: this client, following the redirect as
	// net/http does by default, reaches the other host (same host name,
	// another port) with the Authorization header.
	mine := p.FollowingClient(t, SendPath, "x=1", "Authorization", "key=s3cret")

	c, err := New(Config{AppSecret: "s3cret", PackageName: "p", Endpoint: p.URL, HTTPClient: mine, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if mine.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
	res, err := c.Send(context.Background(), msg("m"), targets("a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results for 1 target: %+v", len(res), res)
	}
	redirecttest.AssertNotFollowed(t, p, res, "s3cret")
}
