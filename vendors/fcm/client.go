package fcm

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
	"github.com/herald-push/herald/vendors/internal/tokencache"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("fcm: client closed")

// Client sends through FCM HTTP v1 with the Firebase Admin SDK. Safe for
// concurrent use.
type Client struct {
	kind      vendors.Kind
	mc        *messaging.Client
	tokens    *tokencache.Cache[*oauth2.Token]
	transport *tlsroots.Transport // under the token fetches and the messaging requests
	timeout   time.Duration
	now       func() time.Time
	pool      *vendors.Pool // the request workers, shared by every Send
	closed    atomic.Bool
}

var (
	_ vendors.Sender = (*Client)(nil)
	_ io.Closer      = (*Client)(nil)
)

// New validates cfg and builds the client. It does no network I/O: the
// first access token is fetched by the first Send.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	base := newBaseTransport(cfg)
	// Neither client follows a redirect (the SDK uses hc as given): a
	// 307/308 would re-send the signed assertion from the token endpoint,
	// or get the bearer token added on messages:send, to the host in
	// Location, and count its answer as FCM's. A 3xx is redirect_refused
	// instead (verdict, tokenResult: vendors.RedirectResult).
	tokens := newTokens(cfg.CredentialsJSON, httpclient.Client(base, cfg.Timeout), cfg.Now, cfg.Timeout)
	hc := httpclient.Client(guard{next: bearer{tokens: tokens, next: base}}, 0)

	ctx := context.Background()
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID},
		option.WithHTTPClient(hc), option.WithEndpoint(cfg.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("fcm: firebase app: %w", err)
	}
	mc, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client: %w", err)
	}
	return &Client{
		kind:      cfg.Kind,
		mc:        mc,
		tokens:    tokens,
		transport: base,
		timeout:   cfg.Timeout,
		now:       cfg.Now,
		pool:      vendors.NewPool(cfg.MaxConcurrent),
	}, nil
}

// Kind is vendors.FCM or vendors.Web, as configured.
func (c *Client) Kind() vendors.Kind { return c.kind }

// MaxBatch is the most targets one Send takes.
func (c *Client) MaxBatch() int { return MaxBatch }

// RequestPerTarget is true: FCM HTTP v1 takes one token per request.
func (c *Client) RequestPerTarget() bool { return true }

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests and token fetches started from now on; Config.TLS's
// other settings stay. Requests in flight finish over their connections,
// which then close.
func (c *Client) SetRootCAs(pool *x509.CertPool) { c.transport.SetRootCAs(pool) }

// Close makes later Sends fail with ErrClosed, stops the request workers
// and a token fetch in flight, and drops idle connections.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.tokens.Close() // first: workers blocked on a token fetch end with it, so the pool's Close does not wait them out
	c.pool.Close()
	c.transport.CloseIdleConnections()
	return nil
}

// Send posts n once per target, at most MaxConcurrent requests in flight
// per Client, and returns one Result per target in order. Targets not yet
// sent when ctx ends get Retry/CANCELLED.
func (c *Client) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	return c.SendProgress(ctx, n, targets, nil)
}

// SendProgress is Send, calling ended (when not nil) as each target's
// request ends (vendors.Progress).
func (c *Client) SendProgress(ctx context.Context, n *vendors.Notification, targets []vendors.Target, ended func()) ([]vendors.Result, error) {
	if ended == nil {
		ended = func() {}
	}
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSend(ctx, n, targets, MaxBatch); err != nil {
		return nil, fmt.Errorf("fcm: send: %w", err)
	}
	tmpl := buildMessage(c.kind, n)
	silent := c.kind == vendors.Web || dataOnly(n)
	results := make([]vendors.Result, len(targets))
	if len(targets) == 1 {
		results[0] = c.sendOne(ctx, forTarget(tmpl, targets[0], silent), targets[0].Token)
		ended()
		return results, nil
	}
	// Each target is a job for the client's request workers: long-lived
	// goroutines, so the stacks net/http grows are kept between requests.
	var wg sync.WaitGroup
	wg.Add(len(targets))
	for i := range targets {
		c.pool.Go(func() {
			defer wg.Done()
			defer ended()
			if err := ctx.Err(); err != nil {
				results[i] = vendors.Result{Verdict: vendors.Retry, Code: "CANCELLED", Reason: "fcm: " + err.Error()}
				return
			}
			results[i] = c.sendOne(ctx, forTarget(tmpl, targets[i], silent), targets[i].Token)
		})
	}
	wg.Wait()
	return results, nil
}

// sendOne sends one message; a refused access token is dropped and the
// message resent once with a fresh one.
func (c *Client) sendOne(ctx context.Context, tmpl *messaging.Message, token string) vendors.Result {
	if token == "" {
		return vendors.Result{Verdict: vendors.TokenInvalid, Code: "INVALID_ARGUMENT", Reason: "fcm: empty registration token"}
	}
	msg := *tmpl
	msg.Token = token
	r, a, sent := c.post(ctx, &msg)
	if refusedBearer(a) && ctx.Err() == nil {
		c.tokens.Invalidate(sent)
		r, _, _ = c.post(ctx, &msg)
	}
	return r
}

// post runs one messages:send under its own deadline and classifies it.
// The answer and the access token sent (nil: none) are returned for the
// caller's auth-refresh decision.
func (c *Client) post(ctx context.Context, msg *messaging.Message) (vendors.Result, answer, *oauth2.Token) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	rctx, at := withAttempt(rctx, cancel)
	name, err := c.mc.Send(rctx, msg)
	r, a := c.judge(ctx, at, name, err)
	return r, a, at.bearer
}

// judge classifies one messages:send from what the SDK returned (the
// message's name, err) and what the guard saw of it (at).
func (c *Client) judge(ctx context.Context, at *attempt, name string, err error) (vendors.Result, answer) {
	now := c.now()
	switch {
	case at.stopped && at.err != nil:
		return transportResult(ctx, at.err, now), answer{}
	case at.stopped:
		a := parseAnswer(at.status, at.header, at.body, now)
		return verdict(a), a
	case vendors.IsRedirect(at.status):
		// Before err == nil: the SDK counts 300-303 as success, and a
		// redirect's body that parses as a message name would read as
		// delivered.
		return vendors.RedirectResult("fcm: messages:send", at.status, at.header.Get("Location")), answer{}
	case err == nil:
		return vendors.Result{Verdict: vendors.Delivered, Reason: name}, answer{}
	}
	if a, ok := answerOf(err, now); ok {
		return verdict(a), a
	}
	if at.status >= 200 && at.status < 300 {
		// FCM accepted it; only its answer did not parse.
		return vendors.Result{Verdict: vendors.Delivered, Reason: "fcm: accepted, unreadable answer: " + err.Error()}, answer{}
	}
	if at.status == 0 {
		// Refused by the SDK before any request (its message validation).
		if ctx.Err() != nil {
			return transportResult(ctx, ctx.Err(), now), answer{}
		}
		return vendors.Result{Verdict: vendors.Rejected, Code: "INVALID_MESSAGE", Reason: "fcm: " + err.Error(), NotSent: true}, answer{}
	}
	return transportResult(ctx, err, now), answer{}
}
