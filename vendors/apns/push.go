package apns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sideshow/apns2"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// maxAnswer bounds how much of an APNs answer body is read (real ones are a
// few dozen bytes).
const maxAnswer = 64 << 10

// push sends w to token on one environment. With token auth, an
// ExpiredProviderToken answer re-signs the JWT and resends once: the one
// retry a Sender makes on its own.
func (c *Client) push(ctx context.Context, env *apns2.Client, w *wireRequest, payload []byte, token string) vendors.Result {
	if c.signer == nil {
		return c.pushOnce(ctx, env, w, payload, token)
	}
	bearer, err := c.signer.bearer()
	if err != nil {
		return vendors.Result{Verdict: vendors.CredentialsBroken, Code: "InvalidProviderToken", Reason: err.Error()}
	}
	r := c.pushOnce(ctx, env, w, payload, token)
	if r.Code != "ExpiredProviderToken" {
		return r
	}
	if _, err := c.signer.refresh(bearer); err != nil {
		return r
	}
	return c.pushOnce(ctx, env, w, payload, token)
}

// pushOnce makes one HTTP/2 request, bounded by Config.Timeout.
func (c *Client) pushOnce(ctx context.Context, env *apns2.Client, w *wireRequest, payload []byte, token string) vendors.Result {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	seen := &answerMeta{}
	rctx = context.WithValue(rctx, answerKey{}, seen)
	resp, err := env.PushWithContext(rctx, &apns2.Notification{
		DeviceToken: token,
		Topic:       w.Topic,
		CollapseID:  w.CollapseID,
		Priority:    w.Priority,
		Expiration:  w.Expiration,
		Payload:     payload,
		PushType:    w.PushType,
	})
	if vendors.IsRedirect(seen.status) {
		// Not followed (see New), whatever apns2 made of the body.
		return vendors.RedirectResult("APNs", seen.status, seen.location)
	}
	if err != nil {
		if seen.status != 0 {
			// APNs answered, but apns2 could not parse the body: judge by
			// the status alone.
			r := resultFor(seen.status, "", retryafter.Parse(seen.retryAfter, c.cfg.Now()))
			r.Reason = fmt.Sprintf("unparsable APNs answer to HTTP %d: %v", seen.status, err)
			return r
		}
		return transportFailure(ctx, rctx, err)
	}
	return resultFor(resp.StatusCode, resp.Reason, retryafter.Parse(seen.retryAfter, c.cfg.Now()))
}

// transportFailure turns a request that got no answer into Retry.
func transportFailure(parent, req context.Context, err error) vendors.Result {
	switch {
	case parent.Err() != nil:
		return canceled(parent.Err())
	case errors.Is(req.Err(), context.DeadlineExceeded), isTimeout(err):
		return vendors.Result{Verdict: vendors.Retry, Code: "Timeout", Reason: "no APNs answer in time: " + errText(err)}
	}
	return vendors.Result{Verdict: vendors.Retry, Code: "TransportError", Reason: errText(err)}
}

// errText is err without the request URL a *url.Error carries: APNs puts
// the device token in the path, and a Result's reason reaches logs and
// listings.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + ue.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// canceled is the Result for a token whose Send context ended first.
func canceled(err error) vendors.Result {
	return vendors.Result{Verdict: vendors.Retry, Code: "Canceled", Reason: "send cancelled: " + err.Error()}
}

// answerMeta is what tap saw of an answer that apns2 does not expose: the
// status (kept even when apns2 fails to parse the body), Retry-After and,
// for a redirect, Location.
type answerMeta struct {
	status     int
	retryAfter string
	location   string
}

type answerKey struct{}

// tap is the http.RoundTripper under apns2: it records answerMeta for the
// request's context and bounds the answer body. RoundTrip runs on the
// caller's goroutine, so answerMeta needs no lock.
type tap struct{ next http.RoundTripper }

func (t tap) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if m, ok := r.Context().Value(answerKey{}).(*answerMeta); ok {
		m.status, m.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if vendors.IsRedirect(resp.StatusCode) {
			m.location = resp.Header.Get("Location")
		}
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxAnswer), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}
