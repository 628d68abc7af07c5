package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// selfSignedPEM returns a client certificate and its PKCS#8 key in one PEM,
// the way APNs .pem certificates are usually shipped.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "Apple Push Services: " + DefaultSimTopic},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
}

// startCertSim runs the simulator behind TLS that requests (but does not
// require) a client certificate, which simtest.TestServer does not offer: it
// records the authorization header of every request.
func startCertSim(t *testing.T) (*Simulator, *simkit.Recorder, string, *tls.Config, *bearerLog) {
	t.Helper()
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := ca.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	serverTLS.ClientAuth = tls.RequestClientCert
	rec := simkit.NewRecorder(nil)
	sim := NewSimulator(rec, SimOptions{})
	var auth bearerLog
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: auth.wrap(sim), TLSConfig: serverTLS}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return sim, rec, "https://" + ln.Addr().String(), ca.ClientTLS(), &auth
}

func TestCertificateAuth(t *testing.T) {
	p12, err := os.ReadFile("testdata/apns2-fixture-encrypted.p12")
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]struct {
		cert     []byte
		password string
	}{
		"pem": {selfSignedPEM(t), ""},
		// An RSA certificate from github.com/sideshow/apns2's test fixtures
		// (MIT), password "password".
		"p12": {p12, "password"},
	}
	for name, cr := range creds {
		t.Run(name, func(t *testing.T) {
			sim, rec, base, clientTLS, auth := startCertSim(t)
			c := newClient(t, Config{
				Topic:          DefaultSimTopic,
				Certificate:    cr.cert,
				CertPassword:   cr.password,
				ProductionURL:  base + "/production",
				DevelopmentURL: base + "/development",
				TLS:            clientTLS,
			})
			res := send(t, c, note("m1"), append(prod("tok-a", "unregistered-1"), vendors.Target{Token: "dev-b", APNsEnv: EnvAutomatic})...)
			wantResult(t, 0, res[0], vendors.Delivered, "")
			wantResult(t, 1, res[1], vendors.TokenInvalid, "Unregistered")
			wantResult(t, 2, res[2], vendors.Delivered, "")
			if res[2].ResolvedEnv != EnvDevelopment {
				t.Errorf("ResolvedEnv = %q", res[2].ResolvedEnv)
			}
			auth.mu.Lock()
			for _, h := range auth.all {
				if h != "" {
					t.Errorf("certificate client sent authorization %q", h)
				}
			}
			auth.mu.Unlock()
			if n := len(sim.Received()); n != 2 {
				t.Errorf("accepted %d", n)
			}
			wantStats(t, rec, simkit.Stats{Requests: 4, Notifications: 2, Unique: 2, Rejected: 2})
		})
	}
}

func TestCertificateServerStillWantsJWTWithoutCertificate(t *testing.T) {
	sim, _, base, clientTLS, _ := startCertSim(t)
	cfg := sim.ClientConfig(base, clientTLS)
	cfg.AuthKey, cfg.KeyID, cfg.TeamID = nil, "", ""
	cfg.Certificate = []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	if _, err := New(cfg); err == nil {
		t.Error("New accepted a PEM without key")
	}
	// A token client on the same server authenticates with its JWT.
	c := newClient(t, sim.ClientConfig(base, clientTLS))
	wantResult(t, 0, send(t, c, note("m1"), prod("tok-a")...)[0], vendors.Delivered, "")
}
