package xiaomi

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
)

// maxAnswer bounds how much of an answer body is read.
const maxAnswer = 1 << 20

// Client sends notifications through MiPush. Safe for concurrent use.
type Client struct {
	url    string // Endpoint + SendPath
	each   string // Endpoint + MultiPath
	auth   string // "key=<AppSecret>"
	enc    encoder
	in     interpreter
	http   *http.Client
	own    *tlsroots.Transport // the transport New built; nil when Config.HTTPClient was given
	secret string
	// timeout bounds each request.
	timeout time.Duration
	closed  atomic.Bool
}

var (
	_ vendors.Sender     = (*Client)(nil)
	_ vendors.EachSender = (*Client)(nil)
	_ io.Closer          = (*Client)(nil)
)

// ErrClosed is returned by Send and SendEach after Close.
var ErrClosed = errors.New("xiaomi: client closed")

// New returns a Client for cfg after checking it; the error names every
// missing or malformed field.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		url:     cfg.Endpoint + SendPath,
		each:    cfg.Endpoint + MultiPath,
		auth:    "key=" + cfg.AppSecret,
		enc:     encoder{pkg: cfg.PackageName, channel: cfg.ChannelID, callback: cfg.ReceiptURL},
		secret:  cfg.AppSecret,
		timeout: cfg.Timeout,
	}
	c.in = interpreter{now: cfg.Now, redact: c.redact}
	c.http, c.own = httpclient.NewOr(cfg.HTTPClient, httpclient.Options{TLS: cfg.TLS, Timeout: cfg.Timeout, MaxIdleConnsPerHost: 100})
	// Either client, its own or a copy of Config.HTTPClient, refuses
	// MiPush's redirects: a 307 or 308 would
	// re-send "Authorization: key=<AppSecret>" to whatever host Location
	// names (net/http keeps it for the same host name on another port and
	// for subdomains) and count that host's answer as MiPush's. interpret
	// makes a 3xx redirect_refused.
	return c, nil
}

// Kind is vendors.Xiaomi.
func (c *Client) Kind() vendors.Kind { return vendors.Xiaomi }

// MaxBatch is the most registration ids one Send may carry.
func (c *Client) MaxBatch() int { return MaxBatch }

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close. With Config.HTTPClient it does nothing: that client decides.
func (c *Client) SetRootCAs(pool *x509.CertPool) {
	if c.own != nil {
		c.own.SetRootCAs(pool)
	}
}

// Close makes later Sends fail with ErrClosed and releases idle
// connections of the client's own transport (a Config.HTTPClient's are its
// owner's).
func (c *Client) Close() error {
	c.closed.Store(true)
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}

// Send posts n to every target in one /v3/message/regid request and
// returns one Result per target, in order. Targets whose token cannot be a
// registration id (empty, or holding a comma or whitespace) are
// TokenInvalid without being sent. The error is only for a nil
// notification, more than MaxBatch targets, a cancelled ctx or a closed
// client.
func (c *Client) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSend(ctx, n, targets, MaxBatch); err != nil {
		return nil, fmt.Errorf("xiaomi: send: %w", err)
	}
	results := make([]vendors.Result, len(targets))
	regIDs := make([]string, 0, len(targets))
	slots := make([]int, 0, len(targets))
	for i, t := range targets {
		if !plausibleRegID(t.Token) {
			results[i] = invalidRegID
			continue
		}
		regIDs = append(regIDs, t.Token)
		slots = append(slots, i)
	}
	if len(regIDs) == 0 {
		return results, nil
	}
	got, err := c.post(ctx, c.url, c.enc.appendForm(make([]byte, 0, 512+len(regIDs)*64), n, regIDs), regIDs)
	if err != nil {
		return nil, err
	}
	for j, i := range slots {
		results[i] = got[j]
	}
	return results, nil
}

// post sends one form body to url and interprets the answer for regIDs
// (the targets of the request, in order).
func (c *Client) post(ctx context.Context, url string, body []byte, regIDs []string) ([]vendors.Result, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("xiaomi: send: build request: %w", err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportFailure(ctx, rctx, err, len(regIDs))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return c.transportFailure(ctx, rctx, err, len(regIDs))
	}
	return c.in.interpret(resp.StatusCode, resp.Header, answer, regIDs), nil
}

// transportFailure turns a failed exchange into Retry results, or into an
// error when the caller's own ctx ended.
func (c *Client) transportFailure(ctx, rctx context.Context, err error, n int) ([]vendors.Result, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("xiaomi: send: %w", ctx.Err())
	}
	r := vendors.Result{Verdict: vendors.Retry, Code: "transport", Reason: c.redact(err.Error())}
	if rctx.Err() != nil {
		r.Code, r.Reason = "timeout", fmt.Sprintf("no answer within %v", c.timeout)
	}
	return vendors.Fill(n, r), nil
}

// redact removes the AppSecret from text that leaves the client.
func (c *Client) redact(s string) string {
	if c.secret == "" || !strings.Contains(s, c.secret) {
		return s
	}
	return strings.ReplaceAll(s, c.secret, "[redacted]")
}

// invalidRegID answers a target whose token cannot be a registration id.
var invalidRegID = vendors.Result{Verdict: vendors.TokenInvalid, Code: "invalid_regid",
	Reason: "empty registration id, or one holding a comma or whitespace"}

// plausibleRegID reports whether tok can be sent as one registration id.
func plausibleRegID(tok string) bool {
	return tok != "" && !strings.ContainsFunc(tok, func(r rune) bool {
		return r == ',' || r <= ' ' || r == 0x7f
	})
}
