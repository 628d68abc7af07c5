package oppo

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
	"github.com/herald-push/herald/vendors/internal/tokencache"
	"github.com/herald-push/herald/vendors/internal/wire"
	"github.com/valyala/fastjson"
)

// Client sends notifications through OPPO Push. Safe for concurrent use.
type Client struct {
	appKey       string
	masterSecret string
	endpoint     string
	callback     string // call_back_url of notifications with a ReceiptRef
	timeout      time.Duration
	now          func() time.Time
	http         *http.Client
	tr           *tlsroots.Transport // http's
	tokens       *tokencache.Cache[string]
	parsers      fastjson.ParserPool // for answers
	closed       atomic.Bool
}

var (
	_ vendors.Sender     = (*Client)(nil)
	_ vendors.EachSender = (*Client)(nil)
	_ io.Closer          = (*Client)(nil)
)

// ErrClosed is returned by Send and SendEach after Close.
var ErrClosed = errors.New("oppo: client closed")

// passthroughUnsupported answers a passthrough notification without text.
var passthroughUnsupported = vendors.Result{Verdict: vendors.Rejected, Code: "passthrough_unsupported",
	Reason: "OPPO has notification messages only, and this passthrough message has no title or body to show", NotSent: true}

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
		callback:     cfg.ReceiptURL,
		timeout:      cfg.Timeout,
		now:          cfg.Now,
	}
	c.http, c.tr = newHTTPClient(cfg)
	c.tokens = newTokens(c)
	return c, nil
}

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close.
func (c *Client) SetRootCAs(pool *x509.CertPool) { c.tr.SetRootCAs(pool) }

// Close makes later Sends fail with ErrClosed, stops an auth call in
// flight (the Sends waiting for it fail) and releases idle connections.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.tokens.Close()
	c.tr.CloseIdleConnections()
	return nil
}

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
	if c.closed.Load() {
		return nil, ErrClosed
	}
	// More than MaxBatch targets are sent as consecutive batches.
	if err := vendors.CheckSend(ctx, n, targets, 0); err != nil {
		return nil, fmt.Errorf("oppo: send: %w", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	if n.Passthrough && n.Title == "" && n.Body == "" {
		return vendors.Fill(len(targets), passthroughUnsupported), nil
	}
	return vendors.SendParts(make([]vendors.Result, len(targets)), len(targets), nil, "oppo: ", func(start int) (int, []vendors.Result, error) {
		end := min(start+maxBatch, len(targets))
		res, err := c.sendBatch(ctx, n, targets[start:end])
		return end, res, err
	})
}

// SendEach pushes ns[i] to targets[i] for every i through unicast_batch,
// whose messages may each differ: the rows of many single messages (peer
// messages) share a request instead of taking one each. Up to 1000 targets
// per request, more as consecutive requests. Consecutive targets with the
// same notification share its encoding. A target whose notification
// cannot be sent (a passthrough without text, or one that does not
// encode) is Rejected alone; the others go. Errors are Send's.
func (c *Client) SendEach(ctx context.Context, ns []*vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSendEach(ctx, ns, targets, 0); err != nil {
		return nil, fmt.Errorf("oppo: send each: %w", err)
	}
	out := make([]vendors.Result, len(targets))
	// Each distinct notification's tail is encoded once. A target whose
	// notification cannot go is answered here and left out of the request.
	tails := make([][]byte, len(targets))
	regIDs := make([]string, 0, len(targets))
	send := make([]int, 0, len(targets)) // indexes of the targets that go
	for i, n := range ns {
		switch {
		case i > 0 && n == ns[i-1]:
			tails[i], out[i] = tails[i-1], out[i-1]
		case n.Passthrough && n.Title == "" && n.Body == "":
			out[i] = passthroughUnsupported
		default:
			t, err := notificationTail(nil, n, c.callback, wire.AppendQueryEscaped[[]byte])
			if err != nil {
				out[i] = vendors.Result{Verdict: vendors.Rejected, Code: "encode", Reason: err.Error(), NotSent: true}
			}
			tails[i] = t
		}
		if tails[i] != nil {
			send = append(send, i)
			regIDs = append(regIDs, targets[i].Token)
		}
	}
	return vendors.SendParts(out, len(send), send, "oppo: ", func(start int) (int, []vendors.Result, error) {
		end := min(start+maxBatch, len(send))
		idx, regs := send[start:end], regIDs[start:end]
		messages := appendEach(nil, regs, func(j int) (string, []byte) {
			i := idx[j]
			return ns[i].MessageID, tails[i]
		}, wire.AppendQueryEscaped[[]byte])
		res, err := c.postBatch(ctx, messages, regs)
		return end, res, err
	})
}

// sendBatch sends one unicast_batch request for at most maxBatch targets.
func (c *Client) sendBatch(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	regIDs := make([]string, len(targets))
	for i, t := range targets {
		regIDs[i] = t.Token
	}
	// Encoded once: a refreshed auth token is only ever asked for when the
	// first answer was 11, which is rare.
	messages, err := encodeFormMessages(n, regIDs, c.callback)
	if err != nil {
		return vendors.Fill(len(targets), vendors.Result{Verdict: vendors.Rejected, Code: "encode", Reason: err.Error(), NotSent: true}), nil
	}
	return c.postBatch(ctx, messages, regIDs)
}

// postBatch posts one unicast_batch body for regIDs and reads its answer. An
// auth_token refused with code 11 is dropped and the request is sent once
// more with a fresh one.
func (c *Client) postBatch(ctx context.Context, messages []byte, regIDs []string) ([]vendors.Result, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Get(ctx)
		if fail, ok := vendors.ResultOf(err); ok {
			return vendors.Fill(len(regIDs), fail), nil
		}
		if err != nil {
			return nil, err
		}
		a, fail, err := c.post(ctx, pathBatch, tokenField(tok), messages)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			return vendors.Fill(len(regIDs), *fail), nil
		}
		code := *a.Code
		if code == codeInvalidAuthToken && attempt == 0 {
			c.tokens.Invalidate(tok)
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
			return vendors.Fill(len(regIDs), r), nil
		}
		return batchResults(a, regIDs, c.now()), nil
	}
}
