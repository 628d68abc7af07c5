package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/sideshow/apns2/token"
)

// TestSimulatorSigningKeyOutlivesRestart: a simulator given the signing key
// of an earlier one accepts a client built from the earlier one's
// ClientConfig (the .p8 a running herald holds across a simulator
// restart); a simulator with a key of its own refuses that client.
func TestSimulatorSigningKeyOutlivesRestart(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	first := startSim(t, SimOptions{SigningKey: key}, nil)
	p8, err := token.AuthKeyFromBytes(first.cfg.AuthKey)
	if err != nil {
		t.Fatal(err)
	}
	if !p8.Equal(key) {
		t.Fatal("ClientConfig hands out another key than SigningKey")
	}
	cases := []struct {
		name    string
		opts    SimOptions
		verdict vendors.Verdict
		code    string
	}{
		{"same key", SimOptions{SigningKey: key}, vendors.Delivered, ""},
		{"own key", SimOptions{}, vendors.CredentialsBroken, "InvalidProviderToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			restarted := startSim(t, tc.opts, nil)
			cfg := first.cfg // what herald keeps: the first simulator's .p8
			cfg.ProductionURL, cfg.DevelopmentURL = restarted.cfg.ProductionURL, restarted.cfg.DevelopmentURL
			cfg.TLS = restarted.tls
			res := send(t, newClient(t, cfg), note("m-restart"), prod("tok-restart")...)
			wantResult(t, 0, res[0], tc.verdict, tc.code)
		})
	}
}
