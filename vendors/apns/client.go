//lint:file-ignore SA1019 the APNs client is golang.org/x/net/http2.Transport on purpose: it is apns2's transport, and its DialTLSContext lets the write coalescer sit above TLS (net/http's HTTP/2 needs a *tls.Conn of its own).

package apns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/coalesce"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
)

// APNs environments, as vendors.Target.APNsEnv and Result.ResolvedEnv spell
// them.
const (
	EnvProduction  = "production"
	EnvDevelopment = "development"
	EnvAutomatic   = "automatic" // production first, development on BadDeviceToken
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("apns: client closed")

// Client sends notifications through APNs. It keeps one apns2.Client per
// environment over one shared HTTP/2 transport and, for token auth, one
// shared provider JWT. Safe for concurrent use.
type Client struct {
	cfg       Config
	prod, dev *apns2.Client
	signer    *signer             // nil for certificate auth
	transport *tlsroots.Transport // HTTP/2 (one per set of roots)
	pool      *vendors.Pool       // the stream workers, shared by every Send
	closed    atomic.Bool
}

var (
	_ vendors.Sender = (*Client)(nil)
	_ io.Closer      = (*Client)(nil)
)

// New validates cfg and builds a Client. It does not connect: the first Send
// dials each environment's host.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, pool: vendors.NewPool(cfg.MaxConcurrent)}
	var (
		cert tls.Certificate
		tok  *token.Token
	)
	if len(cfg.Certificate) > 0 {
		var err error
		if cert, err = parseCertificate(cfg.Certificate, cfg.CertPassword); err != nil {
			return nil, err
		}
	} else {
		key, err := parseAuthKey(cfg.AuthKey)
		if err != nil {
			return nil, err
		}
		c.signer = newSigner(key, cfg.KeyID, cfg.TeamID, cfg.Now)
		if _, err := c.signer.bearer(); err != nil {
			return nil, err
		}
		tok = c.signer.tok
	}
	// One HTTP/2 transport at a time, rebuilt when SetRootCAs changes the
	// roots; each gets the client certificate of certificate auth.
	c.transport = tlsroots.New(cfg.TLS, 2*cfg.Timeout, func(tlsConf *tls.Config) tlsroots.RoundTripper {
		if tlsConf == nil {
			tlsConf = &tls.Config{}
		}
		if tlsConf.MinVersion == 0 {
			tlsConf.MinVersion = tls.VersionTLS12
		}
		if len(cert.Certificate) > 0 {
			tlsConf.Certificates = []tls.Certificate{cert}
		}
		return &http2.Transport{
			TLSClientConfig: tlsConf,
			DialTLSContext:  dialTLS(cfg.Timeout),
			ReadIdleTimeout: 15 * time.Second, // ping an idle connection...
			PingTimeout:     5 * time.Second,  // ...and drop it if the ping goes unanswered
		}
	})
	// No http.Client Timeout: pushOnce bounds every request with its own
	// context deadline, and a second timer per request is pure cost.
	// Redirects are never followed: APNs answers directly, and a 307/308
	// would re-send the provider JWT (net/http keeps Authorization for the
	// same host name on another port and for subdomains) or present the
	// client certificate to the host in Location, and count that host's
	// 200 as delivered. pushOnce makes a 3xx redirect_refused
	// (vendors.RedirectResult: Misconfigured, the sender pauses).
	hc := httpclient.Client(tap{next: c.transport}, 0)
	env := func(host string) *apns2.Client {
		return &apns2.Client{Host: strings.TrimRight(host, "/"), Certificate: cert, Token: tok, HTTPClient: hc}
	}
	c.prod, c.dev = env(cfg.ProductionURL), env(cfg.DevelopmentURL)
	return c, nil
}

// dialTLS dials with a bounded, context-aware handshake.
func dialTLS(timeout time.Duration) func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
	return func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}, Config: cfg}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return coalesce.New(c), nil
	}
}

// Kind is vendors.APNs.
func (c *Client) Kind() vendors.Kind { return vendors.APNs }

// MaxBatch is the most targets one Send accepts (1000); each is its own
// HTTP/2 stream, at most Config.MaxConcurrent in flight per Client.
func (c *Client) MaxBatch() int { return MaxBatch }

// RequestPerTarget is true: every target is its own HTTP/2 request.
func (c *Client) RequestPerTarget() bool { return true }

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close.
func (c *Client) SetRootCAs(pool *x509.CertPool) { c.transport.SetRootCAs(pool) }

// Close drops idle connections and stops the stream workers; Send fails
// with ErrClosed afterwards.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.pool.Close()
	c.transport.CloseIdleConnections()
	return nil
}

// Send pushes n to every target, one request per token, and returns one
// Result per target in order. The error is only for calls that produced no
// verdicts: a closed client, a nil notification, too many targets, or a
// context already done. A context cancelled midway leaves Retry results with
// Code "Canceled" for the tokens it interrupted.
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
		return nil, fmt.Errorf("apns: send: %w", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	w, err := encode(n, c.cfg.Topic, c.cfg.Now())
	if err != nil {
		var rej *rejection
		if !errors.As(err, &rej) {
			return nil, fmt.Errorf("apns: send: %w", err)
		}
		return vendors.Fill(len(targets), vendors.Result{Verdict: vendors.Rejected, Code: rej.Code, Reason: rej.Reason + " (not sent)", NotSent: true}), nil
	}
	results := make([]vendors.Result, len(targets))
	if len(targets) == 1 {
		results[0] = c.sendOne(ctx, &w, targets[0])
		ended()
		return results, nil
	}
	// Each target is a job for the client's stream workers: long-lived
	// goroutines, so the stacks HTTP/2 grows are kept between requests.
	var wg sync.WaitGroup
	wg.Add(len(targets))
	for i := range targets {
		c.pool.Go(func() {
			defer wg.Done()
			results[i] = c.sendOne(ctx, &w, targets[i])
			ended()
		})
	}
	wg.Wait()
	return results, nil
}

// sendOne delivers w to one target, resolving its environment.
func (c *Client) sendOne(ctx context.Context, w *wireRequest, t vendors.Target) vendors.Result {
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	if r, ok := checkToken(t.Token); !ok {
		return r
	}
	payload := w.payloadFor(t.Badge)
	if len(payload) > w.Limit {
		return vendors.Result{Verdict: vendors.Rejected, Code: "PayloadTooLarge",
			Reason: "payload is " + strconv.Itoa(len(payload)) + " bytes with the badge; APNs allows " + strconv.Itoa(w.Limit) + " (not sent)", NotSent: true}
	}
	switch t.APNsEnv {
	case EnvProduction:
		return resolved(c.push(ctx, c.prod, w, payload, t.Token), EnvProduction)
	case EnvDevelopment:
		return resolved(c.push(ctx, c.dev, w, payload, t.Token), EnvDevelopment)
	case EnvAutomatic, "":
		r := c.push(ctx, c.prod, w, payload, t.Token)
		if r.Verdict != vendors.TokenInvalid || r.Code != "BadDeviceToken" {
			return resolved(r, EnvProduction)
		}
		return resolved(c.push(ctx, c.dev, w, payload, t.Token), EnvDevelopment)
	}
	return vendors.Result{Verdict: vendors.Rejected, Code: "BadEnvironment",
		Reason: fmt.Sprintf("APNs environment %q is not production, development or automatic (not sent)", t.APNsEnv), NotSent: true}
}

// resolved stamps the environment that accepted the push.
func resolved(r vendors.Result, env string) vendors.Result {
	if r.Verdict == vendors.Delivered {
		r.ResolvedEnv = env
	}
	return r
}

// checkToken refuses tokens that cannot be an APNs device token (hex, at
// most 100 bytes) before they reach a URL: empty, over-long, or with
// characters outside the URL-safe unreserved set.
func checkToken(tok string) (vendors.Result, bool) {
	if tok == "" {
		return vendors.Result{Verdict: vendors.Rejected, Code: "MissingDeviceToken", Reason: "empty device token (not sent)", NotSent: true}, false
	}
	bad := len(tok) > 400
	for i := 0; i < len(tok) && !bad; i++ {
		ch := tok[i]
		bad = !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-' || ch == '_' || ch == '.' || ch == '~')
	}
	if bad {
		return vendors.Result{Verdict: vendors.TokenInvalid, Code: "BadDeviceToken", Reason: "not an APNs device token (not sent)", NotSent: true}, false
	}
	return vendors.Result{}, true
}
