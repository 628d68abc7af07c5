package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/simkit"
)

// testCA issues the TLS tests' certificates: the simulators' CA.
type testCA struct{ *simkit.CA }

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca}
}

// issue returns a PEM certificate and key for 127.0.0.1 (server) or a
// client certificate.
func (ca *testCA) issue(t *testing.T, name string, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	c, k, err := ca.IssuePEM(name, usage)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// httpsGet does GET path on a new connection trusting ca (and presenting
// client, when set) and returns the status.
func httpsGet(addr, path string, ca *testCA, client *tls.Certificate) (int, error) {
	cfg := &tls.Config{RootCAs: ca.Pool()}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	r, err := hc.Get("https://" + addr + path)
	if err != nil {
		return 0, err
	}
	r.Body.Close()
	return r.StatusCode, nil
}

// The API speaks TLS only when a certificate is configured, and a reload
// reads the files again: a renewed certificate (here from another CA)
// serves new connections without a restart.
func TestAPIServesTLSAndReloadsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca1, ca2 := newTestCA(t), newTestCA(t)
	c, k := ca1.issue(t, "herald", false)
	testutil.WriteFile(t, certFile, string(c))
	testutil.WriteFile(t, keyFile, string(k))
	var cfg configs.Config
	s := startDaemon(t, func(c *configs.Config) {
		c.TLS = configs.TLS{CertFile: certFile, KeyFile: keyFile}
		cfg = *c
	}, Env{LoadConfig: func() (configs.Config, error) { return cfg, nil }})
	addr := s.d.Addr()
	if st, err := httpsGet(addr, "/healthz", ca1, nil); err != nil || st != 200 {
		t.Fatalf("https /healthz = %d, %v; want 200", st, err)
	}
	if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on a TLS listener")
		}
	}

	// A file that cannot be used refuses the reload; the running
	// certificate keeps serving.
	testutil.WriteFile(t, keyFile, "not a key")
	if _, err := s.d.Reload(); err == nil || !strings.Contains(err.Error(), "tls.key_file") {
		t.Fatalf("reload with a broken key: %v; want an error naming tls.key_file", err)
	}
	if st, err := httpsGet(addr, "/healthz", ca1, nil); err != nil || st != 200 {
		t.Fatalf("after a refused reload: %d, %v; want the old certificate still serving", st, err)
	}

	c, k = ca2.issue(t, "herald renewed", false)
	testutil.WriteFile(t, certFile, string(c))
	testutil.WriteFile(t, keyFile, string(k))
	res, err := s.d.Reload()
	applied := res.Applied
	if err != nil || !strings.Contains(strings.Join(applied, ","), "tls") {
		t.Fatalf("reload = %v, %v; want tls applied", applied, err)
	}
	if st, err := httpsGet(addr, "/healthz", ca2, nil); err != nil || st != 200 {
		t.Fatalf("after reload, trusting the new CA: %d, %v; want 200", st, err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := httpsGet(addr, "/healthz", ca1, nil); !errors.As(err, &unknown) {
		t.Fatalf("after reload, trusting only the old CA: %v; want an unknown-authority error", err)
	}
}

// With client_ca_file only clients holding a certificate from that CA
// complete the handshake.
func TestAPIRequiresAClientCertificateWithClientCA(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "clients.pem")
	server, clients, other := newTestCA(t), newTestCA(t), newTestCA(t)
	c, k := server.issue(t, "herald", false)
	testutil.WriteFile(t, certFile, string(c))
	testutil.WriteFile(t, keyFile, string(k))
	testutil.WriteFile(t, caFile, string(clients.CertPEM()))
	s := startDaemon(t, func(c *configs.Config) {
		c.TLS = configs.TLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}
	}, Env{})
	addr := s.d.Addr()
	pair := func(ca *testCA) *tls.Certificate {
		c, k := ca.issue(t, "chat-backend", true)
		p, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return &p
	}
	if st, err := httpsGet(addr, "/healthz", server, pair(clients)); err != nil || st != 200 {
		t.Fatalf("with a client certificate: %d, %v; want 200", st, err)
	}
	if st, err := httpsGet(addr, "/healthz", server, nil); err == nil {
		t.Fatalf("without a client certificate: %d; want the handshake refused", st)
	}
	if st, err := httpsGet(addr, "/healthz", server, pair(other)); err == nil {
		t.Fatalf("with a certificate from another CA: %d; want the handshake refused", st)
	}
}

// Plain HTTP on a non-loopback address is refused unless allow_plaintext
// says a TLS-terminating proxy is in front; a TLS file that cannot be read
// stops the start with the key that names it.
func TestNonLoopbackPlainHTTPIsRefused(t *testing.T) {
	base := configs.Default()
	base.Listen = "0.0.0.0:0"
	base.DataDir = t.TempDir()
	base.Auth.Keys = []configs.Key{{Name: "k", Key: "0123456789abcdef0123456789abcdef", Scopes: []string{"ingest"}}}
	if _, err := New(base, Env{Logger: discardLogger()}); err == nil || !strings.Contains(err.Error(), "tls: plain HTTP is refused") {
		t.Fatalf("New on 0.0.0.0 without TLS: %v; want the plaintext refusal", err)
	}
	ok := base
	ok.TLS.AllowPlaintext = true
	if _, err := New(ok, Env{Logger: discardLogger()}); err != nil {
		t.Fatalf("New with allow_plaintext: %v", err)
	}
	missing := base
	missing.TLS = configs.TLS{CertFile: filepath.Join(t.TempDir(), "none.pem"), KeyFile: "k.pem"}
	if _, err := New(missing, Env{Logger: discardLogger()}); err == nil || !strings.Contains(err.Error(), "tls.cert_file") {
		t.Fatalf("New with a missing certificate: %v; want an error naming tls.cert_file", err)
	}
}
