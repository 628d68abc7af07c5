// Package httpclient builds the HTTP client of every vendor client whose
// transport is net/http's (FCM's, Huawei's, OPPO's, vivo's, Xiaomi's): one
// pooled transport at a time, HTTP/2 over ALPN, trusting the configured
// roots and rebuilt when they change (tlsroots), under an http.Client that
// never follows a redirect (vendors.RefuseRedirect: a 307 or 308 would
// re-send the request, its credentials with it, to whatever host Location
// names).
//
// Timeouts: Options.Timeout bounds dialing and each TLS handshake; every
// vendor client also bounds each request with it through the request's
// context, so New's client has a backstop of twice that (Backstop), which
// never fires first and ends a request that slipped its context's
// deadline. Client wraps another transport (APNs's HTTP/2 transport, FCM's
// SDK guard) with the same redirect refusal.
package httpclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
)

// Defaults.
const (
	// DefaultMaxIdleConns is the idle connections kept over all hosts.
	DefaultMaxIdleConns = 100
	// DefaultMaxIdleConnsPerHost is the idle connections kept per host.
	DefaultMaxIdleConnsPerHost = 64
	// KeepAlive is the TCP keep-alive period of every connection.
	KeepAlive = 30 * time.Second
	// IdleConnTimeout is how long an idle connection is kept.
	IdleConnTimeout = 90 * time.Second
	// ExpectContinueTimeout bounds the wait for a 100 Continue.
	ExpectContinueTimeout = time.Second
)

// Options say how New builds a vendor client's HTTP client.
type Options struct {
	// TLS is the client TLS config; nil = the system roots. Each transport
	// gets a clone of it (with the current roots).
	TLS *tls.Config
	// Timeout bounds dialing and each TLS handshake, and is the bound the
	// vendor client puts on each request (required, > 0).
	Timeout time.Duration
	// MaxIdleConns is the idle connections kept over all hosts; 0 =
	// DefaultMaxIdleConns.
	MaxIdleConns int
	// MaxIdleConnsPerHost is the idle connections kept per host; 0 =
	// DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
	// Dial makes the transport's DialContext from its dialer (FCM's
	// coalesce.Dial); nil = the dialer's own DialContext.
	Dial func(*net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error)
	// HTTP2 configures HTTP/2 (FCM's pings); nil = net/http's defaults.
	HTTP2 *http.HTTP2Config
}

// Backstop is the Timeout of New's client for a request bound of timeout.
func Backstop(timeout time.Duration) time.Duration { return 2 * timeout }

// New returns the http.Client of o, refusing redirects, and the transport
// under it, for SetRootCAs and CloseIdleConnections.
func New(o Options) (*http.Client, *tlsroots.Transport) {
	tr := Transport(o)
	return Client(tr, Backstop(o.Timeout)), tr
}

// NewOr is New unless given, a client the vendor's Config supplies, is
// set: then it is a copy of given that refuses redirects
// (vendors.NoRedirects; given itself is left as it is) and no transport,
// as given's transport and timeouts are its owner's.
func NewOr(given *http.Client, o Options) (*http.Client, *tlsroots.Transport) {
	if given != nil {
		return vendors.NoRedirects(given), nil
	}
	return New(o)
}

// Transport is the transport of o: an *http.Transport per set of roots,
// rebuilt by SetRootCAs; a replaced one is given Backstop(o.Timeout) to
// finish what is in flight.
func Transport(o Options) *tlsroots.Transport {
	d := &net.Dialer{Timeout: o.Timeout, KeepAlive: KeepAlive}
	dial := d.DialContext
	if o.Dial != nil {
		dial = o.Dial(d)
	}
	return tlsroots.New(o.TLS, Backstop(o.Timeout), func(tc *tls.Config) tlsroots.RoundTripper {
		return o.transport(tc, dial)
	})
}

// transport is the *http.Transport of o over tc, dialing with dial.
func (o Options) transport(tc *tls.Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	idle, perHost := o.MaxIdleConns, o.MaxIdleConnsPerHost
	if idle == 0 {
		idle = DefaultMaxIdleConns
	}
	if perHost == 0 {
		perHost = DefaultMaxIdleConnsPerHost
	}
	var h2 *http.HTTP2Config
	if o.HTTP2 != nil {
		c := *o.HTTP2
		h2 = &c
	}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   o.Timeout,
		ForceAttemptHTTP2:     true, // HTTP/2 over ALPN even with a TLS config of our own
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       IdleConnTimeout,
		ExpectContinueTimeout: ExpectContinueTimeout,
		HTTP2:                 h2,
	}
}

// Client is an http.Client over rt that never follows a redirect: it
// hands back the 3xx itself (vendors.RefuseRedirect), for the vendor
// client to judge (vendors.RedirectResult). timeout is its Timeout; 0 =
// none, for a client whose every request carries its own deadline.
func Client(rt http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: vendors.RefuseRedirect}
}

// IsHTTPURL reports whether s parses as an http or https URL with a host:
// what every vendor's configured endpoint and receipt URL must be.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
