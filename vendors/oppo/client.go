package oppo

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
	"github.com/valyala/fastjson"
)

// Client sends notifications through OPPO Push. Safe for concurrent use.
type Client struct {
	appKey       string
	masterSecret string
	endpoint     string
	timeout      time.Duration
	now          func() time.Time
	http         *http.Client
	tr           *tlsroots.Transport // http's
	auth         *tokenSource
	parsers      fastjson.ParserPool // for answers
}

var _ vendors.Sender = (*Client)(nil)

// New validates cfg and returns a client with its own connection pool.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		appKey:       cfg.AppKey,
		masterSecret: cfg.MasterSecret,
		endpoint:     cfg.Endpoint,
		timeout:      cfg.Timeout,
		now:          cfg.Now,
	}
	c.http, c.tr = newHTTPClient(cfg)
	c.auth = &tokenSource{c: c}
	return c, nil
}

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close.
func (c *Client) SetRootCAs(pool *x509.CertPool) { c.tr.SetRootCAs(pool) }

// Kind is vendors.OPPO.
func (c *Client) Kind() vendors.Kind { return vendors.OPPO }

// MaxBatch is OPPO's unicast_batch limit, 1000 messages.
func (c *Client) MaxBatch() int { return maxBatch }

// Send pushes n to every target through unicast_batch, 1000 targets per
// request (more are sent as consecutive requests). A passthrough
// notification without any text is Rejected without a request: OPPO has
// notification messages only. The error is set only when ctx ended before
// any target got a verdict; targets not reached after that are Retry.
func (c *Client) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	// More than MaxBatch targets are sent as consecutive batches.
	if err := vendors.CheckSend(ctx, n, targets, 0); err != nil {
		return nil, fmt.Errorf("oppo: send: %w", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	if n.Passthrough && n.Title == "" && n.Body == "" {
		return vendors.Fill(len(targets), vendors.Result{Verdict: vendors.Rejected, Code: "passthrough_unsupported",
			Reason: "OPPO has notification messages only, and this passthrough message has no title or body to show"}), nil
	}
	out := make([]vendors.Result, 0, len(targets))
	for start := 0; start < len(targets); start += maxBatch {
		chunk := targets[start:min(start+maxBatch, len(targets))]
		res, err := c.sendBatch(ctx, n, chunk)
		if err != nil {
			if start == 0 {
				return nil, err
			}
			rest := vendors.Fill(len(targets)-start, vendors.Result{Verdict: vendors.Retry, Code: "canceled", Reason: "oppo: " + err.Error()})
			return append(out, rest...), nil
		}
		out = append(out, res...)
	}
	return out, nil
}

// sendBatch sends one unicast_batch request for at most maxBatch targets.
// An auth_token refused with code 11 is dropped and the request is sent
// once more with a fresh one.
func (c *Client) sendBatch(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	regIDs := make([]string, len(targets))
	for i, t := range targets {
		regIDs[i] = t.Token
	}
	// Encoded once: a refreshed auth token is only ever asked for when the
	// first answer was 11, which is rare.
	messages, err := encodeFormMessages(n, regIDs)
	if err != nil {
		return vendors.Fill(len(targets), vendors.Result{Verdict: vendors.Rejected, Code: "encode", Reason: err.Error()}), nil
	}
	for attempt := 0; ; attempt++ {
		tok, fail, err := c.auth.get(ctx)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			return vendors.Fill(len(targets), *fail), nil
		}
		a, fail, err := c.post(ctx, pathBatch, tokenField(tok), messages)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			return vendors.Fill(len(targets), *fail), nil
		}
		code := int(*a.Code)
		if code == codeInvalidAuthToken && attempt == 0 {
			c.auth.invalidate(tok)
			continue
		}
		if code != codeSuccess {
			r := codeResult(code, a.Message, c.now())
			if r.Verdict == vendors.Retry && r.RetryAfter == 0 {
				r.RetryAfter = a.retryAfter
			}
			if code == codeInvalidAuthToken {
				r.Reason += " (again, right after a refresh)"
			}
			return vendors.Fill(len(targets), r), nil
		}
		return batchResults(a, regIDs, c.now()), nil
	}
}
