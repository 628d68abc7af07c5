package vivo

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
	"github.com/herald-push/herald/vendors/internal/tokencache"
)

// DefaultEndpoint is vivo's push API host.
const DefaultEndpoint = "https://api-push.vivo.com.cn"

// DefaultTimeout bounds each HTTP request when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// authTokenMaxAge is how long a fetched authToken is reused. vivo keeps
// tokens 24 h and asks callers to refresh every 1–2 h.
const authTokenMaxAge = time.Hour

// Config is everything the Client needs. Credentials are resolved values.
type Config struct {
	AppID     string // vivo appId, digits (required)
	AppKey    string // required
	AppSecret string // required; only ever used inside the auth sign
	// Endpoint is the API base URL; "" = DefaultEndpoint.
	Endpoint string
	// ReceiptURL, when set, is where vivo posts the arrival receipts of
	// notifications that carry a ReceiptRef (extra.callback). vivo has
	// receipts for /message/send only, so such a notification goes to each
	// device by itself; "" = none asked for. At most 128 characters.
	ReceiptURL string
	// TLS is the client TLS config; nil = system roots.
	TLS *tls.Config
	// Timeout bounds each HTTP request; 0 = DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for auth timestamps, token age and quota waits;
	// nil = time.Now.
	Now func() time.Time
	// HTTPClient, when set, supplies the transport, jar and timeout (TLS
	// is then ignored); nil = a client of its own with HTTP/2 over ALPN.
	// Either way redirects are never followed: New uses a copy of this
	// client with its own CheckRedirect and leaves the caller's unchanged.
	HTTPClient *http.Client
}

// Client sends notifications through vivo Push. Safe for concurrent use.
type Client struct {
	appID     string
	appKey    string
	appSecret string
	base      string
	callback  string // extra.callback of single pushes with a ReceiptRef
	timeout   time.Duration
	now       func() time.Time
	http      *http.Client
	own       *tlsroots.Transport // http's, when New built it; nil with Config.HTTPClient
	tokens    *tokencache.Cache[string]
	closed    atomic.Bool
}

var (
	_ vendors.Sender    = (*Client)(nil)
	_ vendors.PerTarget = (*Client)(nil)
	_ io.Closer         = (*Client)(nil)
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("vivo: client closed")

// New validates cfg and returns a Client. It makes no network call.
func New(cfg Config) (*Client, error) {
	var errs []error
	switch {
	case cfg.AppID == "":
		errs = append(errs, errors.New("AppID is required"))
	case !isDigits(cfg.AppID):
		errs = append(errs, errors.New("AppID must be vivo's numeric appId"))
	}
	if cfg.AppKey == "" {
		errs = append(errs, errors.New("AppKey is required"))
	}
	if cfg.AppSecret == "" {
		errs = append(errs, errors.New("AppSecret is required"))
	}
	if cfg.Timeout < 0 {
		//lint:ignore ST1005 it starts with the Config field's name
		errs = append(errs, errors.New("Timeout must not be negative"))
	}
	base := cfg.Endpoint
	if base == "" {
		base = DefaultEndpoint
	}
	base = strings.TrimRight(base, "/")
	if !httpclient.IsHTTPURL(base) {
		//lint:ignore ST1005 it starts with the Config field's name
		errs = append(errs, fmt.Errorf("Endpoint %q is not an http(s) URL", cfg.Endpoint))
	}
	if cfg.ReceiptURL != "" {
		if !httpclient.IsHTTPURL(cfg.ReceiptURL) {
			errs = append(errs, fmt.Errorf("ReceiptURL %q is not an http(s) URL", cfg.ReceiptURL))
		} else if n := utf8.RuneCountInString(cfg.ReceiptURL); n > maxCallback {
			errs = append(errs, fmt.Errorf("ReceiptURL is %d characters, vivo takes at most %d", n, maxCallback))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("vivo: config: %w", err)
	}
	c := &Client{
		appID:     cfg.AppID,
		appKey:    cfg.AppKey,
		appSecret: cfg.AppSecret,
		base:      base,
		callback:  cfg.ReceiptURL,
		timeout:   cfg.Timeout,
		now:       cfg.Now,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	// vivo answers directly; following a 307 or 308 would re-send the
	// authToken header (or the auth sign) to whatever host Location names
	// and count that host's answer as vivo's: either client refuses it
	// (httpResult makes the 3xx Misconfigured).
	c.http, c.own = httpclient.NewOr(cfg.HTTPClient, httpclient.Options{TLS: cfg.TLS, Timeout: c.timeout, MaxIdleConnsPerHost: 64})
	c.tokens = newTokens(c)
	return c, nil
}

// Kind is vendors.Vivo.
func (c *Client) Kind() vendors.Kind { return vendors.Vivo }

// MaxBatch is 1000, pushToList's limit.
func (c *Client) MaxBatch() int { return maxBatch }

// SetRootCAs replaces the roots the client trusts (nil = the system
// roots) for requests started from now on; Config.TLS's other settings
// stay. Requests in flight finish over their connections, which then
// close. With Config.HTTPClient it does nothing: that client decides.
func (c *Client) SetRootCAs(pool *x509.CertPool) {
	if c.own != nil {
		c.own.SetRootCAs(pool)
	}
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Close makes later Sends fail with ErrClosed, stops an auth call in
// flight (the Sends waiting for it fail) and closes the idle connections
// of the client's own transport (a Config.HTTPClient's are its owner's).
func (c *Client) Close() error {
	c.closed.Store(true)
	c.tokens.Close()
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
