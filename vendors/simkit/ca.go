package simkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// DefaultCAValidity is how long NewCA's CA is valid.
const DefaultCAValidity = 365 * 24 * time.Hour

// LoadCA's errors wrap one of these, saying which input is at fault.
var (
	ErrCACert = errors.New("simkit: CA certificate")
	ErrCAKey  = errors.New("simkit: CA key")
)

// CA is a certificate authority for the simulators' TLS: the real vendor
// clients verify certificates, so tests and simulator mode trust this CA
// explicitly instead of skipping verification. It may sign only leaf
// certificates (path length 0).
type CA struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte // PKCS #8
}

// CAConfig says how NewCAWith makes a CA.
type CAConfig struct {
	Now      time.Time     // start of validity (an hour earlier, for skew); zero = time.Now()
	Validity time.Duration // from Now; 0 = DefaultCAValidity
	// KeyPEM is the CA's private key (PEM: PKCS #8, SEC 1 "EC PRIVATE KEY"
	// or PKCS #1 "RSA PRIVATE KEY"); nil = a new P-256 key.
	KeyPEM []byte
}

// NewCA creates a CA with a new key, valid for a year from now.
func NewCA() (*CA, error) { return NewCAWith(CAConfig{}) }

// NewCAWith creates a self-signed CA certificate as cfg says.
func NewCAWith(cfg CAConfig) (*CA, error) {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	if cfg.Validity <= 0 {
		cfg.Validity = DefaultCAValidity
	}
	var key crypto.Signer
	var err error
	if cfg.KeyPEM == nil {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = parseKey(cfg.KeyPEM)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCAKey, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "herald simulator CA"},
		NotBefore:             cfg.Now.Add(-time.Hour),
		NotAfter:              cfg.Now.Add(cfg.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("simkit: ca cert: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return newCA(cert, key)
}

// LoadCA is the CA whose certificate and private key are certPEM and
// keyPEM (as CertPEM and KeyPEM return them). The certificate must be a
// CA's, valid at now, and the key its own. Errors wrap ErrCACert or
// ErrCAKey, after the input at fault.
func LoadCA(certPEM, keyPEM []byte, now time.Time) (*CA, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrCACert)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCACert, err)
	}
	switch {
	case !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("%w: not a CA certificate", ErrCACert)
	case now.After(cert.NotAfter):
		return nil, fmt.Errorf("%w: expired on %s", ErrCACert, cert.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(cert.NotBefore):
		return nil, fmt.Errorf("%w: not valid before %s", ErrCACert, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCAKey, err)
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("%w: does not match the certificate", ErrCAKey)
	}
	return newCA(cert, key)
}

func newCA(cert *x509.Certificate, key crypto.Signer) (*CA, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCAKey, err)
	}
	return &CA{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// parseKey reads a PEM private key that can sign.
func parseKey(keyPEM []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", b.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return s, nil
}

// randomSerial is a random 128-bit certificate serial number.
func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// CertPEM is the CA certificate in PEM, for a client's trust store.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// KeyPEM is the CA's private key, PKCS #8 in a PEM "PRIVATE KEY" block:
// keep it private (mode 0600).
func (c *CA) KeyPEM() []byte { return append([]byte(nil), c.keyPEM...) }

// NotAfter is when the CA certificate stops being valid.
func (c *CA) NotAfter() time.Time { return c.cert.NotAfter }

// Pool is a cert pool holding just this CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// WriteFile writes the CA certificate PEM to path.
func (c *CA) WriteFile(path string) error {
	if err := os.WriteFile(path, c.certPEM, 0o644); err != nil {
		return fmt.Errorf("simkit: write ca: %w", err)
	}
	return nil
}
