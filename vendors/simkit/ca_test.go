package simkit_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

func mustCA(t *testing.T, cfg simkit.CAConfig) *simkit.CA {
	t.Helper()
	ca, err := simkit.NewCAWith(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// leaf is the server certificate ca.ServerTLS issues.
func leaf(t *testing.T, ca *simkit.CA) *x509.Certificate {
	t.Helper()
	conf, err := ca.ServerTLS("sim.test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(conf.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoadCARoundTrip: a CA loaded from another's CertPEM and KeyPEM issues
// server certificates that a client trusting only the original verifies.
func TestLoadCARoundTrip(t *testing.T) {
	now := time.Now()
	orig := mustCA(t, simkit.CAConfig{Now: now, Validity: 10 * 24 * time.Hour})
	loaded, err := simkit.LoadCA(orig.CertPEM(), orig.KeyPEM(), now)
	if err != nil {
		t.Fatal(err)
	}
	if string(loaded.CertPEM()) != string(orig.CertPEM()) || string(loaded.KeyPEM()) != string(orig.KeyPEM()) {
		t.Fatal("loaded CA differs from the original")
	}
	if !loaded.NotAfter().Equal(orig.NotAfter()) {
		t.Fatalf("NotAfter %v, want %v", loaded.NotAfter(), orig.NotAfter())
	}
	l := leaf(t, loaded)
	for _, name := range []string{"sim.test", "localhost", "127.0.0.1"} {
		if _, err := l.Verify(x509.VerifyOptions{Roots: orig.Pool(), DNSName: name}); err != nil {
			t.Errorf("leaf for %s: %v", name, err)
		}
	}
	if l.NotAfter.After(orig.NotAfter()) {
		t.Errorf("leaf valid until %v, past its CA's %v", l.NotAfter, orig.NotAfter())
	}
	if _, err := l.Verify(x509.VerifyOptions{Roots: mustCA(t, simkit.CAConfig{}).Pool(), DNSName: "localhost"}); err == nil {
		t.Error("another CA's pool verifies the leaf: the check cannot fail")
	}

	// The other PEM key encodings load too.
	key, err := x509.ParsePKCS8PrivateKey(pemBytes(t, orig.KeyPEM()))
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := simkit.LoadCA(orig.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), now); err != nil {
		t.Errorf("EC PRIVATE KEY: %v", err)
	}

	// NewCAWith on an existing key makes a new certificate for that key.
	again := mustCA(t, simkit.CAConfig{Now: now, KeyPEM: orig.KeyPEM()})
	if string(again.KeyPEM()) != string(orig.KeyPEM()) || string(again.CertPEM()) == string(orig.CertPEM()) {
		t.Fatal("NewCAWith(KeyPEM) did not make a new certificate for the given key")
	}
	if _, err := simkit.LoadCA(again.CertPEM(), orig.KeyPEM(), now); err != nil {
		t.Fatalf("new certificate does not pair with the key: %v", err)
	}
}

func pemBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	return blk.Bytes
}

// TestLoadCARefuses: every unusable input is an error wrapping the
// sentinel of the input at fault.
func TestLoadCARefuses(t *testing.T) {
	now := time.Now()
	ca := mustCA(t, simkit.CAConfig{Now: now})
	other := mustCA(t, simkit.CAConfig{Now: now})
	future := mustCA(t, simkit.CAConfig{Now: now.Add(48 * time.Hour)})
	notCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf(t, ca).Raw})
	cases := []struct {
		name      string
		cert, key []byte
		at        time.Time
		fault     error
		says      string
	}{
		{"garbage cert", []byte("garbage"), ca.KeyPEM(), now, simkit.ErrCACert, "no PEM CERTIFICATE"},
		{"key as cert", ca.KeyPEM(), ca.KeyPEM(), now, simkit.ErrCACert, "no PEM CERTIFICATE"},
		{"bad DER", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), ca.KeyPEM(), now, simkit.ErrCACert, "x509"},
		{"not a CA", notCA, ca.KeyPEM(), now, simkit.ErrCACert, "not a CA"},
		{"expired", ca.CertPEM(), ca.KeyPEM(), now.Add(simkit.DefaultCAValidity + time.Hour), simkit.ErrCACert, "expired"},
		{"not yet valid", future.CertPEM(), future.KeyPEM(), now, simkit.ErrCACert, "not valid before"},
		{"garbage key", ca.CertPEM(), []byte("garbage"), now, simkit.ErrCAKey, "no PEM block"},
		{"cert as key", ca.CertPEM(), ca.CertPEM(), now, simkit.ErrCAKey, "not a private key"},
		{"another CA's key", ca.CertPEM(), other.KeyPEM(), now, simkit.ErrCAKey, "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := simkit.LoadCA(tc.cert, tc.key, tc.at)
			if err == nil {
				t.Fatalf("loaded %v", got)
			}
			if !errors.Is(err, tc.fault) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.fault, tc.says)
			}
		})
	}
}
