package vivo

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// stubClient is a client for a server answering every request with h,
// over TLS + HTTP/2.
func stubClient(t *testing.T, timeout time.Duration, h http.HandlerFunc) *Client {
	t.Helper()
	url, ca := simtest.TestServer(t, h)
	c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: url, TLS: ca.ClientTLS(), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func authOr(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathAuth {
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"t"}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}
}

func TestMalformedAnswers(t *testing.T) {
	for _, body := range []string{`not json`, `{}`, `{"result":"x"}`, `[1]`} {
		c := stubClient(t, time.Second, authOr(body))
		rs := send(t, c, note("m1"), "tok-a")
		if rs[0].Verdict != vendors.Retry || rs[0].Code != "malformed_response" {
			t.Errorf("%s: %+v", body, rs[0])
		}
	}
	// A batch whose saveListPayload has no taskId.
	c := stubClient(t, time.Second, authOr(`{"result":0,"desc":"ok"}`))
	for _, r := range send(t, c, note("m1"), "a", "b") {
		if r.Verdict != vendors.Retry || r.Code != "malformed_response" {
			t.Errorf("no taskId: %+v", r)
		}
	}
	// Auth answer without a token.
	c = stubClient(t, time.Second, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"result":0}`)) })
	if rs := send(t, c, note("m1"), "a"); rs[0].Verdict != vendors.Retry || !strings.HasPrefix(rs[0].Reason, "auth") {
		t.Errorf("auth without token: %+v", rs[0])
	}
}

func TestTimeoutIsRetry(t *testing.T) {
	c := stubClient(t, 100*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathAuth {
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"t"}`))
			return
		}
		<-r.Context().Done()
	})
	start := time.Now()
	rs := send(t, c, note("m1"), "tok-a")
	if rs[0].Verdict != vendors.Retry || rs[0].Code != "timeout" {
		t.Errorf("timeout: %+v", rs[0])
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHTTPStatusAnswers(t *testing.T) {
	c := stubClient(t, time.Second, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathAuth {
			_, _ = w.Write([]byte(`{"result":0,"desc":"ok","authToken":"t"}`))
			return
		}
		w.Header().Set("Retry-After", "7")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	rs := send(t, c, note("m1"), "a", "b")
	for _, r := range rs {
		if r.Verdict != vendors.Retry || r.Code != "http_429" || r.RetryAfter != 7*time.Second {
			t.Errorf("429: %+v", r)
		}
	}
}
