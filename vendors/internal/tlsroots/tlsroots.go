// Package tlsroots lets a vendor client change the roots it trusts while
// it runs (a reload reading ca_file again): the client's HTTP transport is
// a Transport, which sends each request through the transport built for
// the roots current when the request starts, and builds a new one when
// they change.
//
// A new transport, rather than one transport whose tls.Config verifies in
// a VerifyConnection callback against a swapped pool, because the callback
// sees only ConnectionState.ServerName, the SNI name, which is empty when
// the host is an IP address: it could not check the certificate against
// the address dialed. Each built transport keeps crypto/tls's own
// verification (chain, validity, server-auth usage, the host name or IP
// address), and the change applies to every request started after it,
// also on an HTTP/2 connection that is never idle.
package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// RoundTripper is what a Transport builds: *http.Transport and
// *http2.Transport are ones.
type RoundTripper interface {
	http.RoundTripper
	CloseIdleConnections()
}

// Transport is an http.RoundTripper over the transport built for the
// current roots. Safe for concurrent use.
type Transport struct {
	base  *tls.Config                    // the client's configured TLS; nil = defaults
	build func(*tls.Config) RoundTripper // a transport over a config
	drain time.Duration                  // how long a request may run

	cur atomic.Pointer[built]

	mu      sync.Mutex
	retired map[*built]struct{} // replaced, requests still finishing
}

type built struct{ rt RoundTripper }

// New returns a Transport whose first transport is build(base.Clone()) (a
// nil base stays nil). build may change the config it gets (each call gets
// a clone of its own) but must leave certificate verification on. drain
// bounds how long one request through the client may run: once it has
// passed after a change, the old transport has nothing in flight, and its
// connections are closed.
func New(base *tls.Config, drain time.Duration, build func(*tls.Config) RoundTripper) *Transport {
	t := &Transport{base: base, build: build, drain: drain, retired: map[*built]struct{}{}}
	t.cur.Store(&built{rt: build(base.Clone())})
	return t
}

// RoundTrip sends r through the current transport.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.cur.Load().rt.RoundTrip(r)
}

// SetRootCAs makes requests started from now on go through a new
// transport: base's config with RootCAs set to pool (nil = the system
// roots). Requests in flight finish over their connections; the old
// transport's idle connections are closed now, the others once drain has
// passed.
func (t *Transport) SetRootCAs(pool *x509.CertPool) {
	conf := t.base.Clone()
	if conf == nil {
		conf = &tls.Config{}
	}
	conf.RootCAs = pool
	next := &built{rt: t.build(conf)}
	t.mu.Lock()
	old := t.cur.Swap(next)
	t.retired[old] = struct{}{}
	t.mu.Unlock()
	old.rt.CloseIdleConnections()
	time.AfterFunc(t.drain, func() { t.retire(old) })
}

// retire closes what is left of a replaced transport.
func (t *Transport) retire(b *built) {
	t.mu.Lock()
	_, ok := t.retired[b]
	delete(t.retired, b)
	t.mu.Unlock()
	if ok {
		b.rt.CloseIdleConnections()
	}
}

// CloseIdleConnections closes the idle connections of the current
// transport and of replaced ones.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur.Load().rt.CloseIdleConnections()
	for b := range t.retired {
		b.rt.CloseIdleConnections()
	}
}
