package fcm

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestSimServiceAccountKeyOutlivesRestart: a simulator given the service
// account key of an earlier one accepts a client holding the earlier one's
// service-account JSON (what a running herald holds across a simulator
// restart): its token endpoint takes the assertion and the send is
// delivered. A simulator with a key of its own refuses the assertion.
func TestSimServiceAccountKeyOutlivesRestart(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	first := NewSimulator(simkit.NewRecorder(nil), SimOptions{ServiceAccountKey: key})
	cases := []struct {
		name    string
		opts    SimOptions
		verdict vendors.Verdict
		code    string
	}{
		{"same key", SimOptions{ServiceAccountKey: key}, vendors.Delivered, ""},
		{"own key", SimOptions{}, vendors.CredentialsBroken, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			restarted := newEnv(t, tc.opts)
			c := restarted.client(t, func(c *Config) {
				// The first simulator's key file, pointing at where the
				// simulators now serve.
				c.CredentialsJSON = first.ServiceAccountJSON(restarted.url + "/token")
			})
			r := send(t, c, chatNotification("m-restart"), "tok-restart")[0]
			if r.Verdict != tc.verdict || r.Code != tc.code {
				t.Fatalf("result = %+v, want %v %q", r, tc.verdict, tc.code)
			}
		})
	}
}
