package tlsroots

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/simkit"
)

func newCA(t *testing.T, cfg simkit.CAConfig) *simkit.CA {
	t.Helper()
	ca, err := simkit.NewCAWith(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// leaf is a server certificate ca signs for localhost, 127.0.0.1 and ::1,
// valid from an hour ago for a day, as change makes it.
func leaf(t *testing.T, ca *simkit.CA, change func(*x509.Certificate)) tls.Certificate {
	t.Helper()
	caBlock, _ := pem.Decode(ca.CertPEM())
	keyBlock, _ := pem.Decode(ca.KeyPEM())
	if caBlock == nil || keyBlock == nil {
		t.Fatal("CA PEM")
	}
	caCert, err := x509.ParseCertificate(caBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "vendor"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if change != nil {
		change(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve serves h (nil = answer "ok") over TLS, HTTP/2 offered, with cert;
// connState, when set, sees the connections.
func serve(t *testing.T, cert tls.Certificate, h http.Handler, connState func(net.Conn, http.ConnState)) *httptest.Server {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ConnState = connState
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// transport is a Transport whose every connection goes to addr, whatever
// host the URL names, as a vendor client's does (HTTP/2 when offered).
func transport(base *tls.Config, addr string) *Transport {
	return New(base, time.Minute, func(tc *tls.Config) RoundTripper {
		d := &net.Dialer{Timeout: 5 * time.Second}
		return &http.Transport{
			TLSClientConfig:   tc,
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}
	})
}

func get(rt http.RoundTripper, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

// TestVerifiesAfterSetRootCAs: through a transport built by SetRootCAs the
// server's certificate is verified as crypto/tls verifies it by default: a
// certificate for another host name or IP address, an expired one, one of
// an unknown CA and one not for server authentication are all refused,
// and the right one is accepted.
func TestVerifiesAfterSetRootCAs(t *testing.T) {
	now := time.Now()
	good, unknown := newCA(t, simkit.CAConfig{}), newCA(t, simkit.CAConfig{})
	expiredCA := newCA(t, simkit.CAConfig{Now: now.Add(-48 * time.Hour), Validity: 24 * time.Hour})
	pool := x509.NewCertPool()
	for _, ca := range []*simkit.CA{good, expiredCA} {
		pool.AppendCertsFromPEM(ca.CertPEM())
	}
	expired := func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour) }
	clientOnly := func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }
	isHostname := func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }
	isUnknown := func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }
	invalid := func(r x509.InvalidReason) func(error) bool {
		return func(err error) bool { var e x509.CertificateInvalidError; return errors.As(err, &e) && e.Reason == r }
	}
	cases := []struct {
		name   string
		ca     *simkit.CA
		change func(*x509.Certificate)
		host   string           // the URL's host; the connection goes to the server regardless
		want   func(error) bool // nil = accepted
	}{
		{"right name", good, nil, "localhost", nil},
		{"right address", good, nil, "127.0.0.1", nil},
		{"wrong name", good, nil, "push.example.com", isHostname},
		{"wrong address", good, nil, "127.0.0.2", isHostname},
		{"expired", good, expired, "localhost", invalid(x509.Expired)},
		{"expired CA", expiredCA, nil, "localhost", invalid(x509.Expired)},
		{"unknown CA", unknown, nil, "localhost", isUnknown},
		{"client certificate", good, clientOnly, "localhost", invalid(x509.IncompatibleUsage)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, leaf(t, tc.ca, tc.change), nil, nil)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			// The first transport trusts nothing the server has: only the
			// one SetRootCAs builds can accept it.
			tr := transport(&tls.Config{RootCAs: x509.NewCertPool()}, srv.Listener.Addr().String())
			defer tr.CloseIdleConnections()
			url := "https://" + net.JoinHostPort(tc.host, port) + "/"
			if err := get(tr, url); err == nil {
				t.Fatal("accepted before SetRootCAs")
			}
			tr.SetRootCAs(pool)
			err := get(tr, url)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != nil && !tc.want(err):
				t.Fatalf("err = %v, want the default verification's refusal", err)
			}
		})
	}
}

// TestSetRootCAsRotates: a server certified by CA-2 is refused while the
// transport trusts CA-1, accepted once SetRootCAs trusts CA-2, and refused
// again (a new connection, not the one CA-2 verified) after going back to
// CA-1. The configured TLS settings other than RootCAs stay, and the
// configured config itself is not changed.
func TestSetRootCAsRotates(t *testing.T) {
	ca1, ca2 := newCA(t, simkit.CAConfig{}), newCA(t, simkit.CAConfig{})
	srv := serve(t, leaf(t, ca2, nil), nil, nil)
	base := &tls.Config{RootCAs: ca1.Pool(), MinVersion: tls.VersionTLS13}
	var mu sync.Mutex
	var built []*tls.Config
	tr := New(base, time.Minute, func(tc *tls.Config) RoundTripper {
		mu.Lock()
		built = append(built, tc)
		mu.Unlock()
		return &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
	})
	defer tr.CloseIdleConnections()
	var unknown x509.UnknownAuthorityError
	if err := get(tr, srv.URL); !errors.As(err, &unknown) {
		t.Fatalf("trusting CA-1: err = %v, want unknown authority", err)
	}
	tr.SetRootCAs(ca2.Pool())
	if err := get(tr, srv.URL); err != nil {
		t.Fatalf("trusting CA-2: %v", err)
	}
	tr.SetRootCAs(ca1.Pool())
	if err := get(tr, srv.URL); !errors.As(err, &unknown) {
		t.Fatalf("back to CA-1: err = %v, want unknown authority", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(built) != 3 {
		t.Fatalf("%d transports built, want 3", len(built))
	}
	for i, c := range built[1:] {
		if c == base || c.MinVersion != tls.VersionTLS13 {
			t.Errorf("transport %d: config %p (base %p), MinVersion %x: want a clone keeping MinVersion", i+1, c, base, c.MinVersion)
		}
	}
	if !built[1].RootCAs.Equal(ca2.Pool()) || !base.RootCAs.Equal(ca1.Pool()) {
		t.Error("RootCAs: want CA-2 in the new config, CA-1 still in the configured one")
	}
}

// TestInFlightFinishesThenCloses: a request in flight when the roots change
// finishes over its connection; new requests open a new one; the old
// connection is closed once drain has passed.
func TestInFlightFinishesThenCloses(t *testing.T) {
	ca := newCA(t, simkit.CAConfig{})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	var open, closed atomic.Int64
	srv := serve(t, leaf(t, ca, nil), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}), func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			closed.Add(1)
		}
	})
	const drain = 200 * time.Millisecond
	tr := New(&tls.Config{RootCAs: ca.Pool()}, drain, func(tc *tls.Config) RoundTripper {
		return &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
	})
	defer tr.CloseIdleConnections()

	slow := make(chan error, 1)
	go func() { slow <- get(tr, srv.URL+"/slow") }()
	<-entered
	tr.SetRootCAs(ca.Pool())
	if err := get(tr, srv.URL+"/"); err != nil {
		t.Fatalf("request after SetRootCAs: %v", err)
	}
	if n := open.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (the in-flight one, a new one)", n)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return closed.Load() >= 1 },
		"the old transport's connection closed after drain")
	if n := closed.Load(); n != 1 {
		t.Fatalf("%d connections closed, want only the old one", n)
	}
}
