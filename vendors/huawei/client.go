package huawei

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
	"github.com/herald-push/herald/vendors/internal/tokencache"
)

// maxAnswer bounds how much of any answer body is read.
const maxAnswer = 1 << 20

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("huawei: sender closed")

// Client sends through Huawei Push Kit. Safe for concurrent use.
type Client struct {
	hc      *http.Client
	tr      *tlsroots.Transport
	sendURL string
	// receiptID is android.receipt_id for pushes asking a receipt.
	receiptID string
	timeout   time.Duration
	now       func() time.Time
	tokens    *tokencache.Cache[string]
	closed    atomic.Bool
}

var (
	_ vendors.Sender = (*Client)(nil)
	_ io.Closer      = (*Client)(nil)
)

// New validates cfg and returns a Client; the error names every missing or
// bad field. It does no network I/O: the first Send fetches the token.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// The push API and the token endpoint answer directly; following a
	// redirect would re-send the bearer token or the client secret to the
	// host in Location. The client refuses it, and classify and
	// tokenResult make a 3xx redirect_refused (Misconfigured).
	hc, tr := httpclient.New(httpclient.Options{TLS: cfg.TLS, Timeout: cfg.Timeout, MaxIdleConnsPerHost: 64})
	return &Client{
		hc:        hc,
		tr:        tr,
		sendURL:   cfg.PushURL + "/v1/" + url.PathEscape(cfg.AppID) + "/messages:send",
		receiptID: cfg.ReceiptID,
		timeout:   cfg.Timeout,
		now:       cfg.Now,
		tokens:    newTokens(hc, cfg),
	}, nil
}

// Kind is vendors.Huawei.
func (c *Client) Kind() vendors.Kind { return vendors.Huawei }

// MaxBatch is 1000 tokens per request.
func (c *Client) MaxBatch() int { return MaxBatch }

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close.
func (c *Client) SetRootCAs(pool *x509.CertPool) { c.tr.SetRootCAs(pool) }

// Close makes later Sends fail with ErrClosed, stops a token fetch in
// flight and releases idle connections.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.tokens.Close()
	c.tr.CloseIdleConnections()
	return nil
}

// Send pushes n to every target in one request and returns one Result per
// target, in order. An expired or refused access token is refreshed and the
// request resent once. The error is only for a cancelled ctx, a closed
// client or a call that breaks the contract (nil n, too many targets).
func (c *Client) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSend(ctx, n, targets, MaxBatch); err != nil {
		return nil, fmt.Errorf("huawei: send: %w", err)
	}
	if len(targets) == 0 {
		return []vendors.Result{}, nil
	}
	tokens := make([]string, len(targets))
	for i, t := range targets {
		tokens[i] = t.Token
	}
	body, err := encodeSend(n, tokens, c.receiptID)
	if err != nil {
		return nil, err
	}
	var o outcome
	for attempt := 0; attempt < 2; attempt++ {
		tok, err := c.tokens.Get(ctx)
		if fail, ok := vendors.ResultOf(err); ok {
			return vendors.Fill(len(targets), fail), nil
		}
		if err != nil {
			return nil, fmt.Errorf("huawei: access token: %w", err)
		}
		o = c.post(ctx, tok, body)
		if err := ctx.Err(); err != nil && o.noAnswer {
			return nil, fmt.Errorf("huawei: send: %w", err)
		}
		if !o.authRetry {
			break
		}
		c.tokens.Invalidate(tok)
	}
	if o.authRetry {
		o.reason = "access token refused again after a refresh: " + o.reason
	}
	return o.results(tokens), nil
}

// post sends one messages:send request and classifies the answer.
func (c *Client) post(ctx context.Context, accessToken string, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.sendURL, bytes.NewReader(body))
	if err != nil {
		return outcome{verdict: vendors.Rejected, code: "bad_push_url", reason: "huawei: push request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportOutcome("huawei: push request", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return transportOutcome("huawei: push answer", err)
	}
	return classify(resp.StatusCode, resp.Header, answer, c.now())
}
