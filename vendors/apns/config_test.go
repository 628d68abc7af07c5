package apns

import (
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	key := NewSimulator(nil, SimOptions{}).ClientConfig("https://x", nil).AuthKey
	cases := []struct {
		name string
		cfg  Config
		want []string // every field the error must name; none = valid
	}{
		{"token", Config{Topic: "a", AuthKey: key, KeyID: "K", TeamID: "T"}, nil},
		{"empty", Config{}, []string{"Topic", "AuthKey", "Certificate"}},
		{"token-missing-ids", Config{Topic: "a", AuthKey: key}, []string{"KeyID", "TeamID"}},
		{"both", Config{Topic: "a", AuthKey: key, KeyID: "K", TeamID: "T", Certificate: []byte("x")}, []string{"not both"}},
		{"bad-key", Config{Topic: "a", AuthKey: []byte("not pem"), KeyID: "K", TeamID: "T"}, []string{"AuthKey"}},
		{"bad-cert", Config{Topic: "a", Certificate: []byte("not p12")}, []string{"Certificate"}},
		{"bad-cert-password", Config{Topic: "a", Certificate: mustRead(t, "testdata/apns2-fixture-encrypted.p12"), CertPassword: "wrong"}, []string{"Certificate"}},
		{"negative", Config{Topic: "a", AuthKey: key, KeyID: "K", TeamID: "T", MaxConcurrent: -1, Timeout: -time.Second}, []string{"MaxConcurrent", "Timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.cfg.Timeout != DefaultTimeout || c.cfg.MaxConcurrent != DefaultMaxConcurrent ||
					c.prod.Host != "https://api.push.apple.com" || c.dev.Host != "https://api.sandbox.push.apple.com" {
					t.Errorf("defaults not applied: %+v", c.cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "apns: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q leaks a credential", err)
			}
		})
	}
}
