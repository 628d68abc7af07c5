//lint:file-ignore SA1019 the tests' client is the x/net/http2 transport the APNs client uses.

package apns

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/sideshow/apns2/token"
	"golang.org/x/net/http2"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// fakeClock is a settable clock shared by client and simulator.
type fakeClock = testutil.Clock

func newFakeClock() *fakeClock { return testutil.NewClock(time.Unix(1_700_000_000, 0)) }

// env is a simulator on a TLS + HTTP/2 loopback server and what talks to it.
type env struct {
	sim  *Simulator
	rec  *simkit.Recorder
	base string
	tls  *tls.Config
	cfg  Config // ClientConfig for the simulator
}

// startSim runs a simulator mounted under /apns (as the daemon mounts it),
// wrapped by mw when not nil.
func startSim(t *testing.T, opts SimOptions, mw func(http.Handler) http.Handler) *env {
	t.Helper()
	rec := simkit.NewRecorder(opts.Now)
	sim := NewSimulator(rec, opts)
	var h http.Handler = http.StripPrefix("/apns", sim)
	if mw != nil {
		h = mw(h)
	}
	url, ca := simtest.TestServer(t, h)
	e := &env{sim: sim, rec: rec, base: url + "/apns", tls: ca.ClientTLS()}
	e.cfg = sim.ClientConfig(e.base, e.tls)
	return e
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func send(t *testing.T, c *Client, n *vendors.Notification, targets ...vendors.Target) []vendors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Send(ctx, n, targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(targets) {
		t.Fatalf("got %d results for %d targets", len(res), len(targets))
	}
	return res
}

func prod(tokens ...string) []vendors.Target { return targetsIn(EnvProduction, tokens...) }

func targetsIn(envName string, tokens ...string) []vendors.Target {
	out := make([]vendors.Target, len(tokens))
	for i, tok := range tokens {
		out[i] = vendors.Target{Token: tok, APNsEnv: envName}
	}
	return out
}

func note(id string) *vendors.Notification {
	return &vendors.Notification{MessageID: id, Title: "Ann", Body: "hello", Data: map[string]string{"conv": "c1"}, Priority: vendors.PriorityHigh}
}

func wantResult(t *testing.T, i int, got vendors.Result, verdict vendors.Verdict, code string) {
	t.Helper()
	if got.Verdict != verdict || got.Code != code {
		t.Errorf("result %d = %v %q (%s), want %v %q", i, got.Verdict, got.Code, got.Reason, verdict, code)
	}
}

func wantStats(t *testing.T, rec *simkit.Recorder, want simkit.Stats) {
	t.Helper()
	if got := rec.Snapshot()[Vendor]; got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

// rawClient is an HTTP/2 client for hand-made requests to the simulator.
func rawClient(e *env) *http.Client {
	return &http.Client{Transport: &http2.Transport{TLSClientConfig: e.tls}, Timeout: 5 * time.Second}
}

// signJWT signs a provider token with the simulator's key (or key), kid, iss
// and iat.
func signJWT(t *testing.T, e *env, key *ecdsa.PrivateKey, kid, iss string, iat time.Time) string {
	t.Helper()
	if key == nil {
		var err error
		if key, err = token.AuthKeyFromBytes(e.cfg.AuthKey); err != nil {
			t.Fatal(err)
		}
	}
	jt := &jwt.Token{
		Header: map[string]any{"alg": "ES256", "kid": kid},
		Claims: jwt.MapClaims{"iss": iss, "iat": iat.Unix()},
		Method: jwt.SigningMethodES256,
	}
	s, err := jt.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawPush posts body to the simulator with headers; it returns the status,
// the answer's reason and its apns-id.
func rawPush(t *testing.T, e *env, method, path string, hdr map[string]string, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := rawClient(e).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Reason string `json:"reason"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&ans)
	return resp.StatusCode, ans.Reason, resp.Header.Get("apns-id")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
