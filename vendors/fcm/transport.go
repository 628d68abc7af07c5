package fcm

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/herald-push/herald/vendors/internal/coalesce"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
)

// maxErrorBody caps how much of an error answer is kept.
const maxErrorBody = 64 << 10

// newBaseTransport is the HTTP/2-capable transport under both the token
// fetches and the messaging requests, trusting cfg.TLS (built again when
// SetRootCAs changes the roots), its connections gathering concurrent
// requests' frames into one write (coalesce).
func newBaseTransport(cfg Config) *tlsroots.Transport {
	return httpclient.Transport(httpclient.Options{
		TLS:                 cfg.TLS,
		Timeout:             cfg.Timeout,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: cfg.MaxConcurrent,
		Dial:                coalesce.Dial,
		HTTP2: &http.HTTP2Config{
			// Detect a dead connection instead of waiting on it.
			SendPingTimeout: 15 * time.Second,
			PingTimeout:     10 * time.Second,
		},
	})
}

// attempt is one messages:send request as the guard saw it. Its fields are
// written by RoundTrip, which runs on the goroutine that called the SDK, and
// read after the SDK returned on that same goroutine.
type attempt struct {
	cancel  context.CancelFunc
	status  int           // HTTP status of the last response, 0 = none
	header  http.Header   // its headers
	body    []byte        // a 503's body (buffered before the guard stopped the SDK)
	err     error         // the transport (or token) error that stopped the SDK
	stopped bool          // the guard cancelled the request context
	bearer  *oauth2.Token // the access token sent (set by bearer)
}

type attemptKey struct{}

// withAttempt returns ctx carrying a fresh attempt and cancel.
func withAttempt(ctx context.Context, cancel context.CancelFunc) (context.Context, *attempt) {
	a := &attempt{cancel: cancel}
	return context.WithValue(ctx, attemptKey{}, a), a
}

// guard is the RoundTripper under the SDK. Where the SDK would retry on its
// own (any transport error, HTTP 503) it records the outcome and cancels
// the request's context, which ends the SDK's retry loop before its first
// backoff; Send then classifies the recorded outcome.
type guard struct {
	next http.RoundTripper
}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	resp, err := g.next.RoundTrip(req)
	if a == nil {
		return resp, err
	}
	if err != nil {
		a.err, a.stopped = err, true
		a.cancel()
		return nil, err
	}
	a.status, a.header = resp.StatusCode, resp.Header
	if resp.StatusCode == http.StatusServiceUnavailable {
		body, rerr := readAll(resp.Body)
		_ = resp.Body.Close()
		if rerr != nil {
			a.err = rerr
		}
		a.body, a.stopped = body, true
		a.cancel()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// readAll reads at most maxErrorBody bytes of r.
func readAll(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, maxErrorBody))
}
