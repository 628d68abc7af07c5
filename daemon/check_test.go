package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/simkit"
)

// testP12 is an APNs-style client certificate as a .p12 file sealed with
// password, in the legacy encryption Keychain exports and apns2 reads.
func testP12(t *testing.T, password string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Apple Push Services: com.example.chat"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p12, err := pkcs12.Legacy.Encode(key, cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	return p12
}

// TestCheckConfigReadsAndParsesEverySecret: each secret herald reads at
// start is read and parsed by CheckConfig the way serve does, and a bad
// one is one problem naming its key, without the secret in it.
func TestCheckConfigReadsAndParsesEverySecret(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		testutil.WriteFile(t, p, content)
		return p
	}
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	caPEM := file("ca.pem", string(ca.CertPEM()))
	p12 := file("apns.p12", string(testP12(t, "s3cret-pass")))
	wrongPass := file("wrong.pass", "not-the-password")
	rightPass := file("right.pass", "s3cret-pass")
	env := map[string]string{"WHSEC_BAD": "whsec_!!!not-base64", "WHSEC_OK": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "API_KEY": "s3cret-api-key"}
	base := func() configs.Config {
		c := configs.Default()
		c.Vendors.APNs.Account = map[string]string{"topic": "com.example.chat", "certificate_file": p12, "certificate_password_file": rightPass}
		c.Vendors.APNs.CAFile = caPEM
		return c
	}
	tests := []struct {
		name   string
		mutate func(*configs.Config)
		key    string // "" = no problem
		want   string
	}{
		{"good", func(*configs.Config) {}, "", ""},
		{"p12 wrong password", func(c *configs.Config) { c.Vendors.APNs.Account["certificate_password_file"] = wrongPass },
			"vendors.apns.account.certificate_file", "password"},
		{"p12 not p12", func(c *configs.Config) {
			c.Vendors.APNs.Account["certificate_file"] = file("bad.p12", "\x30\x82\x01 junk")
		},
			"vendors.apns.account.certificate_file", "pkcs12"},
		{"p8 not a key", func(c *configs.Config) {
			c.Vendors.APNs.Account = map[string]string{"topic": "t", "key_id": "ABC123DEFG", "team_id": "DEF123GHIJ", "auth_key_file": file("bad.p8", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}
		}, "vendors.apns.account.auth_key_file", "not a .p8 auth key"},
		{"secret file missing", func(c *configs.Config) {
			c.Vendors.APNs.Account["certificate_file"] = filepath.Join(dir, "missing.p12")
		},
			"vendors.apns.account.certificate_file", "no such file"},
		{"ca_file missing", func(c *configs.Config) { c.Vendors.APNs.CAFile = filepath.Join(dir, "missing.pem") },
			"vendors.apns.ca_file", "no such file"},
		{"fcm not JSON", func(c *configs.Config) {
			c.Vendors.FCM.Account = map[string]string{"project_id": "p", "credentials_file": file("fcm.json", "s3cret {")}
		}, "vendors.fcm.account.credentials_file", "not JSON"},
		{"web service account without client_email", func(c *configs.Config) {
			c.Vendors.Web.Account = map[string]string{"project_id": "p", "credentials_env": "WEB_JSON"}
			env["WEB_JSON"] = `{"type":"service_account","private_key":"x","token_uri":"https://oauth2.googleapis.com/token"}`
		}, "vendors.web.account.credentials_env", "client_email"},
		{"api key file empty", func(c *configs.Config) {
			c.Auth.Keys = []configs.Key{{Name: "chat", KeyFile: file("empty.key", "\n"), Scopes: []string{"ingest"}}}
		}, "auth.keys[0].key_file", "is empty"},
		{"api key env good", func(c *configs.Config) {
			c.Auth.Keys = []configs.Key{{Name: "chat", KeyEnv: "API_KEY", Scopes: []string{"ingest"}}}
		}, "", ""},
		{"tls key does not match", func(c *configs.Config) {
			c.TLS.CertFile, c.TLS.KeyFile = caPEM, file("other.key", string(mustServerKey(t)))
		}, "tls.cert_file", "private key"},
		{"webhook secret not base64", func(c *configs.Config) {
			c.Webhooks.Endpoints = []configs.WebhookEndpoint{{Name: "a", URL: "https://hooks.example.com/", SecretsEnv: []string{"WHSEC_OK", "WHSEC_BAD"}}}
		}, "webhooks.endpoints[0].secrets_env[1]", "WHSEC_BAD"},
		{"huawei receipt key unset", func(c *configs.Config) {
			c.Receipts = configs.Receipts{Enabled: true, PublicURL: "https://herald.example.com",
				Huawei: configs.HuaweiReceipts{CallbackUser: "u", CallbackKeyEnv: "HUAWEI_CALLBACK_KEY"}}
		}, "receipts.huawei.callback_key_env", "HUAWEI_CALLBACK_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(&cfg)
			ps := CheckConfig(cfg, Env{Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile})
			if tt.key == "" {
				if len(ps) != 0 {
					t.Fatalf("problems %v; want none", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Key != tt.key || !strings.Contains(ps[0].Message, tt.want) {
				t.Fatalf("problems %v; want one for %s containing %q", ps, tt.key, tt.want)
			}
			if strings.Contains(ps[0].Message, "s3cret") {
				t.Fatalf("problem quotes a secret: %v", ps[0])
			}
		})
	}
}

// mustServerKey is a fresh PEM private key, matching no certificate.
func mustServerKey(t *testing.T) []byte {
	t.Helper()
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca.KeyPEM()
}
