package sim_test

import (
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// signing are the vendors whose simulators check signatures made with
// Keys.
var signing = []vendors.Kind{vendors.APNs, vendors.FCM, vendors.Web}

// TestGivenCAAndKeysOutliveRestart: simulators restarted on the same
// address with the same Options.CA and Options.Keys take the clients built
// for the first ones (as a running herald keeps them); with keys of their
// own, the APNs, FCM and Web simulators refuse those clients' credentials.
func TestGivenCAAndKeysOutliveRestart(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sim.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	first, err := sim.New(sim.Options{CA: ca, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if first.CA != ca {
		t.Fatal("Sims.CA is not Options.CA")
	}
	srv, err := first.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	senders, err := first.Senders(srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range signing {
		if r := simtest.SendUntilAnswered(t, senders[k], "before-"+string(k)); !r.OK() {
			t.Fatalf("%s before the restart: %+v", k, r)
		}
	}
	addr := strings.TrimPrefix(srv.URL, "https://")
	for _, tc := range []struct {
		name  string
		keys  *sim.Keys
		takes bool
	}{{"same-keys", keys, true}, {"own-keys", nil, false}} {
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		restarted, err := sim.New(sim.Options{CA: ca, Keys: tc.keys})
		if err != nil {
			t.Fatal(err)
		}
		if srv, err = restarted.Start(addr); err != nil {
			t.Fatal(err)
		}
		for _, k := range signing {
			r := simtest.SendUntilAnswered(t, senders[k], tc.name+"-"+string(k))
			if tc.takes && !r.OK() || !tc.takes && r.Verdict != vendors.CredentialsBroken {
				t.Errorf("%s, %s: %+v (want accepted: %v)", tc.name, k, r, tc.takes)
			}
		}
	}
	_ = srv.Close()
}

func TestKeysPEMRoundTrip(t *testing.T) {
	keys, err := sim.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	b, err := keys.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	got, err := sim.ParseKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.APNs.Equal(keys.APNs) || !got.FCM.Equal(keys.FCM) || !got.Web.Equal(keys.Web) {
		t.Fatal("ParseKeys(MarshalPEM()) differs")
	}
	blocks := strings.SplitAfter(string(b), "-----END PRIVATE KEY-----\n")
	apnsBlock, fcmBlock, webBlock := blocks[0], blocks[1], blocks[2]
	for _, tc := range []struct{ name, in, says string }{
		{"empty", "", "no key for apns"},
		{"garbage", "garbage", "not a PEM block"},
		{"web missing", apnsBlock + fcmBlock, "no key for web"},
		{"twice", apnsBlock + apnsBlock + fcmBlock + webBlock, "two keys for apns"},
		{"wrong type", strings.Replace(apnsBlock, "Vendor: apns", "Vendor: fcm", 1) + strings.Replace(fcmBlock, "Vendor: fcm", "Vendor: apns", 1) + webBlock, "want an RSA key"},
		{"unknown vendor", strings.Replace(apnsBlock, "Vendor: apns", "Vendor: hms", 1), `"hms"`},
		{"not PKCS 8", strings.ReplaceAll(apnsBlock, "PRIVATE KEY", "EC PRIVATE KEY"), "not a PKCS #8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.ParseKeys([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want one saying %q", err, tc.says)
			}
		})
	}
}
