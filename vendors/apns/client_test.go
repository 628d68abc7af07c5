package apns

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestSendDelivers(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	if c.Kind() != vendors.APNs || c.MaxBatch() != MaxBatch {
		t.Fatalf("Kind/MaxBatch = %v/%d", c.Kind(), c.MaxBatch())
	}
	res := send(t, c, note("m1"), prod("tok-a", "tok-b")...)
	for i, r := range res {
		wantResult(t, i, r, vendors.Delivered, "")
		if r.ResolvedEnv != EnvProduction {
			t.Errorf("result %d ResolvedEnv = %q", i, r.ResolvedEnv)
		}
	}
	got := e.sim.Received()
	if len(got) != 2 {
		t.Fatalf("received %d pushes", len(got))
	}
	w, err := encode(note("m1"), e.cfg.Topic, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if p.Env != EnvProduction || p.PushType != "alert" || p.Topic != DefaultSimTopic || p.Priority != 10 ||
			p.Expiration != -1 || p.MessageID != "m1" || !bytes.Equal(p.Payload, w.Payload) {
			t.Errorf("received %+v (payload %s)", p, p.Payload)
		}
	}
	wantStats(t, e.rec, simkit.Stats{Requests: 2, Notifications: 2, Unique: 2})
}

func TestSendScriptedFailuresInBatch(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	res := send(t, c, note("m1"), prod("tok-a", "unregistered-1", "unavailable-1", "tok-b")...)
	wantResult(t, 0, res[0], vendors.Delivered, "")
	wantResult(t, 1, res[1], vendors.TokenInvalid, "Unregistered")
	wantResult(t, 2, res[2], vendors.Retry, "ServiceUnavailable")
	wantResult(t, 3, res[3], vendors.Delivered, "")
	if res[1].ResolvedEnv != "" || res[2].ResolvedEnv != "" {
		t.Errorf("failed tokens resolved an environment: %+v", res)
	}
	wantStats(t, e.rec, simkit.Stats{Requests: 4, Notifications: 2, Unique: 2, Rejected: 2})
}

func TestSendEnvironments(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	targets := []vendors.Target{
		{Token: "tok-p", APNsEnv: EnvAutomatic},              // production accepts
		{Token: "dev-tok", APNsEnv: EnvAutomatic},            // production refuses, development accepts
		{Token: "dev-tok2", APNsEnv: ""},                     // "" is automatic
		{Token: "dev-unregistered-1", APNsEnv: EnvAutomatic}, // development: 410
		{Token: "dev-tok3", APNsEnv: EnvDevelopment},         // explicit development
		{Token: "dev-tok4", APNsEnv: EnvProduction},          // wrong environment, no fallback
		{Token: "tok-q", APNsEnv: EnvDevelopment},            // wrong environment
		{Token: "tok-r", APNsEnv: "sandbox"},                 // unknown environment
		{Token: "bad/token", APNsEnv: EnvAutomatic},          // never a device token
		{Token: "", APNsEnv: EnvProduction},                  // empty
	}
	res := send(t, c, note("m1"), targets...)
	want := []struct {
		v        vendors.Verdict
		code     string
		resolved string
	}{
		{vendors.Delivered, "", EnvProduction},
		{vendors.Delivered, "", EnvDevelopment},
		{vendors.Delivered, "", EnvDevelopment},
		{vendors.TokenInvalid, "Unregistered", ""},
		{vendors.Delivered, "", EnvDevelopment},
		{vendors.TokenInvalid, "BadDeviceToken", ""},
		{vendors.TokenInvalid, "BadDeviceToken", ""},
		{vendors.Rejected, "BadEnvironment", ""},
		{vendors.TokenInvalid, "BadDeviceToken", ""},
		{vendors.Rejected, "MissingDeviceToken", ""},
	}
	for i, w := range want {
		wantResult(t, i, res[i], w.v, w.code)
		if res[i].ResolvedEnv != w.resolved {
			t.Errorf("result %d ResolvedEnv = %q, want %q", i, res[i].ResolvedEnv, w.resolved)
		}
	}
	// 1 + 2 + 2 + 2 + 1 + 1 + 1 requests; the last three were never sent.
	wantStats(t, e.rec, simkit.Stats{Requests: 10, Notifications: 4, Unique: 4, Rejected: 6})
}

func TestBadCredentials(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Config){
		"key=other":  func(c *Config) { c.AuthKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}) },
		"kid=other":  func(c *Config) { c.KeyID = "OTHERKEY01" },
		"team=other": func(c *Config) { c.TeamID = "OTHERTEAM1" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := e.cfg
			mutate(&cfg)
			res := send(t, newClient(t, cfg), note("m1"), prod("tok-a", "tok-b")...)
			for i, r := range res {
				wantResult(t, i, r, vendors.CredentialsBroken, "InvalidProviderToken")
			}
		})
	}
	if n := len(e.sim.Received()); n != 0 {
		t.Errorf("simulator accepted %d pushes with bad credentials", n)
	}
}

// bearerLog records the provider tokens the simulator was shown.
type bearerLog struct {
	mu  sync.Mutex
	all []string
}

func (b *bearerLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.all = append(b.all, r.Header.Get("authorization"))
		b.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (b *bearerLog) distinct() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range b.all {
		seen[s] = true
	}
	return len(seen)
}

func TestExpiredProviderTokenRefreshedTransparently(t *testing.T) {
	clock := newFakeClock()
	var bearers bearerLog
	// The simulator expires tokens after 20 min, before the client's own
	// 50-min re-signing: the client only learns from the 403.
	e := startSim(t, SimOptions{Now: clock.Now, AuthTokenTTL: 20 * time.Minute}, bearers.wrap)
	c := newClient(t, e.cfg)
	wantResult(t, 0, send(t, c, note("m1"), prod("tok-a")...)[0], vendors.Delivered, "")
	clock.Advance(30 * time.Minute)
	res := send(t, c, note("m2"), prod("tok-a", "tok-b", "tok-c")...)
	for i, r := range res {
		wantResult(t, i, r, vendors.Delivered, "")
	}
	if n := bearers.distinct(); n != 2 {
		t.Errorf("%d distinct provider tokens, want 2 (one re-signing for the whole burst)", n)
	}
	st := e.rec.Snapshot()[Vendor]
	if st.Notifications != 4 || st.Rejected < 1 || st.Rejected > 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestProviderTokenResignedBeforeExpiry(t *testing.T) {
	clock := newFakeClock()
	var bearers bearerLog
	e := startSim(t, SimOptions{Now: clock.Now}, bearers.wrap)
	c := newClient(t, e.cfg)
	send(t, c, note("m1"), prod("tok-a")...)
	clock.Advance(10 * time.Minute)
	send(t, c, note("m2"), prod("tok-a")...)
	if n := bearers.distinct(); n != 1 {
		t.Fatalf("re-signed after 10 min: %d tokens", n)
	}
	clock.Advance(45 * time.Minute)
	wantResult(t, 0, send(t, c, note("m3"), prod("tok-a")...)[0], vendors.Delivered, "")
	if n := bearers.distinct(); n != 2 {
		t.Errorf("%d distinct provider tokens after 55 min, want 2", n)
	}
	wantStats(t, e.rec, simkit.Stats{Requests: 3, Notifications: 3, Unique: 3})
}

func TestExpiredProviderTokenRetriedOnlyOnce(t *testing.T) {
	simClock, clientClock := newFakeClock(), newFakeClock()
	simClock.Advance(2 * time.Hour) // every token the client signs looks stale
	e := startSim(t, SimOptions{Now: simClock.Now}, nil)
	cfg := e.cfg
	cfg.Now = clientClock.Now
	res := send(t, newClient(t, cfg), note("m1"), prod("tok-a")...)
	wantResult(t, 0, res[0], vendors.CredentialsBroken, "ExpiredProviderToken")
	wantStats(t, e.rec, simkit.Stats{Requests: 2, Rejected: 2})
}

func TestLimits(t *testing.T) {
	clock := newFakeClock()
	e := startSim(t, SimOptions{Now: clock.Now}, nil)
	cfg := e.cfg
	cfg.MaxConcurrent = 1
	c := newClient(t, cfg)

	e.sim.SetLimits(simkit.Limits{QPS: 2})
	res := send(t, c, note("m1"), prod("a", "b", "c")...)
	wantResult(t, 0, res[0], vendors.Delivered, "")
	wantResult(t, 1, res[1], vendors.Delivered, "")
	wantResult(t, 2, res[2], vendors.Retry, "TooManyRequests")
	clock.Advance(time.Second)
	wantResult(t, 0, send(t, c, note("m1"), prod("c")...)[0], vendors.Delivered, "")

	e.sim.SetLimits(simkit.Limits{DailyQuota: 1})
	res = send(t, c, note("m2"), prod("a", "b")...)
	wantResult(t, 0, res[0], vendors.Delivered, "")
	wantResult(t, 1, res[1], vendors.Retry, "TooManyRequests")
	clock.Advance(24 * time.Hour)
	wantResult(t, 0, send(t, c, note("m2"), prod("b")...)[0], vendors.Delivered, "")
}

func TestRecorderCountsDuplicates(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	send(t, c, note("m1"), prod("tok-a", "tok-b")...)
	send(t, c, note("m1"), prod("tok-a", "tok-b")...) // a redelivery
	send(t, c, note("m2"), prod("tok-a")...)
	wantStats(t, e.rec, simkit.Stats{Requests: 5, Notifications: 5, Unique: 3, Duplicates: 2})
}

func TestVoIPAndPassthroughOnTheWire(t *testing.T) {
	clock := newFakeClock()
	e := startSim(t, SimOptions{Now: clock.Now}, nil)
	c := newClient(t, e.cfg)
	call := &vendors.Notification{MessageID: "call-1", Title: "Ann", Body: "calling", VoIP: true, TTL: 30 * time.Second,
		Data: map[string]string{"call_id": "k9"}, Badge: new(3), Sound: "ring.caf"}
	wantResult(t, 0, send(t, c, call, prod("tok-a")...)[0], vendors.Delivered, "")
	data := &vendors.Notification{MessageID: "m2", Passthrough: true, Priority: vendors.PriorityHigh, CollapseID: "conv-1"}
	wantResult(t, 0, send(t, c, data, prod("tok-a")...)[0], vendors.Delivered, "")

	got := e.sim.Received()
	if len(got) != 2 {
		t.Fatalf("received %d", len(got))
	}
	v, p := got[0], got[1]
	if v.PushType != "voip" || v.Topic != DefaultSimTopic+".voip" || v.Priority != 10 || v.Expiration != clock.Now().Unix()+30 ||
		v.MessageID != "call-1" || string(v.Payload) != `{"aps":{"alert":{"title":"Ann","body":"calling"}},"call_id":"k9","message_id":"call-1"}` {
		t.Errorf("voip push = %+v payload %s", v, v.Payload)
	}
	if p.PushType != "background" || p.Topic != DefaultSimTopic || p.Priority != 5 || p.CollapseID != "conv-1" ||
		string(p.Payload) != `{"aps":{"content-available":1},"message_id":"m2"}` {
		t.Errorf("background push = %+v payload %s", p, p.Payload)
	}
}

func TestRejectedBeforeSending(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	long := note("m1")
	long.CollapseID = strings.Repeat("x", 65)
	for i, r := range send(t, c, long, prod("a", "b")...) {
		wantResult(t, i, r, vendors.Rejected, "BadCollapseId")
	}
	big := note("m2")
	big.Body = strings.Repeat("é", 2100)
	for i, r := range send(t, c, big, prod("a")...) {
		wantResult(t, i, r, vendors.Rejected, "PayloadTooLarge")
	}
	wantStats(t, e.rec, simkit.Stats{})
}

func TestSendCallErrors(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, note("m"), prod("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	if _, err := c.Send(context.Background(), nil, prod("a")); err == nil {
		t.Error("nil notification: no error")
	}
	if _, err := c.Send(context.Background(), note("m"), make([]vendors.Target, MaxBatch+1)); err == nil {
		t.Error("oversized batch: no error")
	}
	if res, err := c.Send(context.Background(), note("m"), nil); err != nil || len(res) != 0 {
		t.Errorf("no targets: %v %v", res, err)
	}
	_ = c.Close()
	if _, err := c.Send(context.Background(), note("m"), prod("a")); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: err = %v", err)
	}
}

// TestWireMatchesEncoder sends every golden notification through apns2 to
// the simulator: what arrives is exactly what encode (and so the golden
// files) say.
func TestWireMatchesEncoder(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(goldenNow.Sub(clock.Now()))
	e := startSim(t, SimOptions{Now: clock.Now}, nil)
	c := newClient(t, e.cfg)
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			before := len(e.sim.Received())
			wantResult(t, 0, send(t, c, n, prod("tok-"+name)...)[0], vendors.Delivered, "")
			got := e.sim.Received()[before]
			w, err := encode(n, DefaultSimTopic, goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			exp := int64(-1)
			if !w.Expiration.IsZero() {
				exp = w.Expiration.Unix()
			}
			if got.PushType != string(w.PushType) || got.Topic != w.Topic || got.Priority != w.Priority ||
				got.Expiration != exp || got.CollapseID != w.CollapseID || !bytes.Equal(got.Payload, w.Payload) {
				t.Errorf("on the wire %+v\npayload %s\nencoded %+v\npayload %s", got, got.Payload, w, w.Payload)
			}
		})
	}
}
