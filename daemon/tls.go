package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/configs"
)

// apiTLS is the API listener's TLS configuration. The handshake reads the
// current one through GetConfigForClient, so a reload swaps certificate and
// client CA for every new connection while open ones keep theirs.
type apiTLS struct {
	cur      atomic.Pointer[tls.Config]
	readFile func(string) ([]byte, error)
}

// newAPITLS loads c's files; nil when TLS is off.
func newAPITLS(c configs.TLS, readFile func(string) ([]byte, error)) (*apiTLS, tlsInfo, error) {
	if !c.Enabled() {
		return nil, tlsInfo{}, nil
	}
	t := &apiTLS{readFile: readFile}
	cfg, info, err := t.read(c)
	if err != nil {
		return nil, info, err
	}
	t.cur.Store(cfg)
	return t, info, nil
}

// tlsInfo describes a loaded certificate for the log (no key material).
type tlsInfo struct {
	subject  string
	notAfter time.Time
	mutual   bool
}

// attrs are info's log attributes.
func (i tlsInfo) attrs() []any {
	return []any{"subject", i.subject, "not_after", i.notAfter.UTC().Format(time.RFC3339), "client_certificates", i.mutual}
}

// read reads c's files into the configuration new connections would get;
// storing it in cur is the caller's step, once everything else is good.
func (t *apiTLS) read(c configs.TLS) (*tls.Config, tlsInfo, error) {
	certPEM, err := t.readFile(c.CertFile)
	if err != nil {
		return nil, tlsInfo{}, &configs.FieldError{Key: "tls.cert_file", Msg: err.Error()}
	}
	keyPEM, err := t.readFile(c.KeyFile)
	if err != nil {
		return nil, tlsInfo{}, &configs.FieldError{Key: "tls.key_file", Msg: err.Error()}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, tlsInfo{}, &configs.FieldError{Key: "tls.cert_file", Msg: fmt.Sprintf("%s with tls.key_file %s: %v", c.CertFile, c.KeyFile, err)}
	}
	leaf := pair.Leaf
	if leaf == nil { // X509KeyPair fills Leaf since Go 1.23; parse if it did not
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, tlsInfo{}, &configs.FieldError{Key: "tls.cert_file", Msg: fmt.Sprintf("%s: %v", c.CertFile, err)}
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	info := tlsInfo{subject: leaf.Subject.String(), notAfter: leaf.NotAfter}
	if c.ClientCAFile != "" {
		caPEM, err := t.readFile(c.ClientCAFile)
		if err != nil {
			return nil, tlsInfo{}, &configs.FieldError{Key: "tls.client_ca_file", Msg: err.Error()}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, tlsInfo{}, &configs.FieldError{Key: "tls.client_ca_file", Msg: fmt.Sprintf("%s holds no PEM certificate", c.ClientCAFile)}
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		info.mutual = true
	}
	return cfg, info, nil
}

// listener wraps ln so that every connection is a TLS server connection
// with the configuration current at its handshake.
func (t *apiTLS) listener(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return t.cur.Load(), nil
		},
	})
}
