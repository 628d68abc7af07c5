package apns

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// fakeAPNs answers every push with a fixed status, headers and body.
func fakeAPNs(t *testing.T, status int, hdr map[string]string, body string) Config {
	t.Helper()
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	cfg := NewSimulator(nil, SimOptions{}).ClientConfig(url, ca.ClientTLS())
	cfg.MaxConcurrent = 1
	return cfg
}

func TestAnswersOnTheWire(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		hdr        map[string]string
		body       string
		verdict    vendors.Verdict
		code       string
		retryAfter time.Duration
	}{
		{"ok", 200, nil, "", vendors.Delivered, "", 0},
		{"ok-garbage", 200, nil, "<html>", vendors.Delivered, "", 0},
		{"gone-with-timestamp", 410, nil, `{"reason":"ExpiredToken","timestamp":1700000000000}`, vendors.TokenInvalid, "ExpiredToken", 0},
		{"gone-not-json", 410, nil, "oops", vendors.TokenInvalid, "HTTP410", 0},
		{"gone-bad-timestamp", 410, nil, `{"reason":"Unregistered","timestamp":"soon"}`, vendors.TokenInvalid, "HTTP410", 0},
		{"reason-not-string", 503, nil, `{"reason":5}`, vendors.Retry, "HTTP503", 0},
		{"too-many-retry-after", 429, map[string]string{"Retry-After": "7"}, `{"reason":"TooManyRequests"}`, vendors.Retry, "TooManyRequests", 7 * time.Second},
		{"shutdown", 503, nil, `{"reason":"Shutdown"}`, vendors.Retry, "Shutdown", 0},
		{"forbidden-empty", 403, nil, "", vendors.CredentialsBroken, "HTTP403", 0},
		{"bad-topic", 400, nil, `{"reason":"BadTopic"}`, vendors.Rejected, "BadTopic", 0},
		{"teapot", 418, nil, `{}`, vendors.Rejected, "HTTP418", 0},
		{"huge-body", 400, nil, `{"reason":"` + string(make([]byte, 2*maxAnswer)) + `"}`, vendors.Rejected, "HTTP400", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, fakeAPNs(t, tc.status, tc.hdr, tc.body))
			r := send(t, c, note("m1"), prod("tok-a")...)[0]
			wantResult(t, 0, r, tc.verdict, tc.code)
			if r.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", r.RetryAfter, tc.retryAfter)
			}
		})
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	stop := make(chan struct{})
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop) })
	cfg := NewSimulator(nil, SimOptions{}).ClientConfig(url, ca.ClientTLS())
	cfg.Timeout = 100 * time.Millisecond
	c := newClient(t, cfg)

	start := time.Now()
	res := send(t, c, note("m1"), prod("a", "b", "c")...)
	for i, r := range res {
		wantResult(t, i, r, vendors.Retry, "Timeout")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("3 timed-out tokens took %v", d)
	}

	cfg.Timeout = time.Minute
	c = newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := c.Send(ctx, note("m1"), prod("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		wantResult(t, i, r, vendors.Retry, "Canceled")
	}
}

func TestTransportError(t *testing.T) {
	cfg := NewSimulator(nil, SimOptions{}).ClientConfig("https://127.0.0.1:1", nil)
	r := send(t, newClient(t, cfg), note("m1"), prod("a")...)[0]
	wantResult(t, 0, r, vendors.Retry, "TransportError")

	// A server whose certificate the client does not trust.
	url, _ := simtest.TestServer(t, http.NotFoundHandler())
	cfg = NewSimulator(nil, SimOptions{}).ClientConfig(url, nil)
	r = send(t, newClient(t, cfg), note("m1"), prod("a")...)[0]
	wantResult(t, 0, r, vendors.Retry, "TransportError")
}
