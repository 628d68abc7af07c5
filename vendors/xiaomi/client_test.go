package xiaomi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// simEnv is a simulator on a TLS + HTTP/2 loopback server and a real
// client configured for it.
type simEnv struct {
	sim    *Simulator
	rec    *simkit.Recorder
	cfg    Config
	client *Client
	protos atomic.Value // last request's r.Proto
	maxLen atomic.Int64 // the largest request body's Content-Length
}

func newSimEnv(t *testing.T, opts SimOptions, tweak func(*Config)) *simEnv {
	t.Helper()
	env := &simEnv{rec: simkit.NewRecorder(nil)}
	env.sim = NewSimulator(env.rec, opts)
	mux := http.NewServeMux()
	mux.Handle("/xiaomi/", http.StripPrefix("/xiaomi", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.protos.Store(r.Proto)
		env.noteLen(r.ContentLength)
		env.sim.ServeHTTP(w, r)
	})))
	base, ca := simtest.TestServer(t, mux)
	env.cfg = env.sim.ClientConfig(base+"/xiaomi", ca.ClientTLS())
	env.cfg.Timeout = 5 * time.Second
	if tweak != nil {
		tweak(&env.cfg)
	}
	c, err := New(env.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	env.client = c
	return env
}

// noteLen raises maxLen to n.
func (e *simEnv) noteLen(n int64) {
	for {
		old := e.maxLen.Load()
		if n <= old || e.maxLen.CompareAndSwap(old, n) {
			return
		}
	}
}

func (e *simEnv) stats() simkit.Stats { return e.rec.Snapshot()[vendorName] }

func targets(tokens ...string) []vendors.Target {
	out := make([]vendors.Target, len(tokens))
	for i, tok := range tokens {
		out[i] = vendors.Target{Token: tok}
	}
	return out
}

func msg(id string) *vendors.Notification {
	return &vendors.Notification{MessageID: id, Title: "Alice", Body: "hello", Data: map[string]string{"conv": "c1"}}
}

type verdict struct {
	v    vendors.Verdict
	code string
}

func checkResults(t *testing.T, got []vendors.Result, want ...verdict) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Verdict != w.v || got[i].Code != w.code {
			t.Errorf("result %d = %v %q (%s), want %v %q", i, got[i].Verdict, got[i].Code, got[i].Reason, w.v, w.code)
		}
	}
}

func TestSendSuccessOverHTTP2(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	n := msg("m-1")
	n.Channel = "im-private"
	res, err := env.client.Send(context.Background(), n, targets("tok-a", "tok-b"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Delivered, "0"}, verdict{vendors.Delivered, "0"})
	if p := env.protos.Load(); p != "HTTP/2.0" {
		t.Errorf("protocol %v, want HTTP/2.0", p)
	}
	got := env.sim.Received()
	if len(got) != 1 {
		t.Fatalf("%d requests logged", len(got))
	}
	r := got[0]
	if strings.Join(r.RegIDs, ",") != "tok-a,tok-b" || r.MessageID != "m-1" || r.ChannelID != "im-private" || r.PassThrough {
		t.Errorf("logged %+v", r)
	}
	if s := env.stats(); s.Requests != 1 || s.Notifications != 2 || s.Unique != 2 || s.Rejected != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestSendPassthroughAndChannelFallback(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	n := &vendors.Notification{MessageID: "m-2", Passthrough: true, Data: map[string]string{"k": "v"}}
	res, err := env.client.Send(context.Background(), n, targets("tok"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Delivered, "0"})
	r := env.sim.Received()[0]
	if !r.PassThrough || r.ChannelID != SimChannelID || r.Form.Get("extra.k") != "v" {
		t.Errorf("logged %+v", r)
	}
}

func TestSendBatchVerdicts(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	ctx := context.Background()

	res, err := env.client.Send(ctx, msg("m-1"), targets("ok-1", "unregistered-1", "ok-2", "", "bad,comma"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Delivered, "0"}, verdict{vendors.TokenInvalid, "bad_regids"},
		verdict{vendors.Delivered, "0"}, verdict{vendors.TokenInvalid, "invalid_regid"}, verdict{vendors.TokenInvalid, "invalid_regid"})
	if got := env.sim.Received()[0].RegIDs; len(got) != 3 {
		t.Errorf("sent regids %v; malformed tokens must not be sent", got)
	}

	// MiPush reports transient failures for the whole request only.
	res, err = env.client.Send(ctx, msg("m-2"), targets("ok-1", "unavailable-1", "unregistered-2"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Retry, "10002"}, verdict{vendors.Retry, "10002"}, verdict{vendors.Retry, "10002"})

	res, err = env.client.Send(ctx, msg("m-3"), targets("unregistered-1", "unregistered-2"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.TokenInvalid, "20301"}, verdict{vendors.TokenInvalid, "20301"})

	if s := env.stats(); s.Requests != 3 || s.Notifications != 2 || s.Rejected != 1+3+2 {
		t.Errorf("stats %+v", s)
	}
}

func TestSendBadCredentials(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, func(c *Config) { c.AppSecret = "wrong-secret" })
	res, err := env.client.Send(context.Background(), msg("m"), targets("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.CredentialsBroken, "21301"}, verdict{vendors.CredentialsBroken, "21301"})
	if strings.Contains(res[0].Reason, "wrong-secret") {
		t.Errorf("secret in reason %q", res[0].Reason)
	}
	if s := env.stats(); s.Requests != 1 || s.Rejected != 2 || s.Notifications != 0 {
		t.Errorf("stats %+v", s)
	}
	if len(env.sim.Received()) != 0 {
		t.Error("an unauthenticated request was logged")
	}
}

func TestSendRejectedParameters(t *testing.T) {
	env := newSimEnv(t, SimOptions{Channels: []string{"im-private"}}, func(c *Config) { c.ChannelID = "" })
	ctx := context.Background()
	res, _ := env.client.Send(ctx, msg("m"), targets("a"))
	checkResults(t, res, verdict{vendors.Delivered, "0"}) // no extra.channel_id: MiPush's default channel
	if got := env.sim.Received(); len(got) != 1 || got[0].ChannelID != "" {
		t.Errorf("received %+v, want one message without a channel", got)
	}
	n := msg("m")
	n.Channel = "unknown"
	res, _ = env.client.Send(ctx, n, targets("a"))
	checkResults(t, res, verdict{vendors.Rejected, "27001"})
	n.Channel, n.Title, n.Body = "im-private", "", ""
	res, _ = env.client.Send(ctx, n, targets("a"))
	checkResults(t, res, verdict{vendors.Rejected, "10016"})

	other := newSimEnv(t, SimOptions{}, func(c *Config) { c.PackageName = "com.other.app" })
	res, _ = other.client.Send(ctx, msg("m"), targets("a"))
	checkResults(t, res, verdict{vendors.Rejected, "22022"})
}

func TestSendQPSLimit(t *testing.T) {
	clock := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	env := newSimEnv(t, SimOptions{Limits: simkit.Limits{QPS: 1}, Now: func() time.Time { return clock }}, nil)
	ctx := context.Background()
	res, _ := env.client.Send(ctx, msg("m-1"), targets("a"))
	checkResults(t, res, verdict{vendors.Delivered, "0"})
	res, _ = env.client.Send(ctx, msg("m-2"), targets("a"))
	checkResults(t, res, verdict{vendors.Retry, "10027"})
	env.sim.SetLimits(simkit.Limits{})
	res, _ = env.client.Send(ctx, msg("m-2"), targets("a"))
	checkResults(t, res, verdict{vendors.Delivered, "0"})
}

func TestSendDailyQuota(t *testing.T) {
	clock := time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC) // 23:00 in Beijing
	now := func() time.Time { return clock }
	env := newSimEnv(t, SimOptions{Limits: simkit.Limits{DailyQuota: 3}, Now: now}, func(c *Config) { c.Now = now })
	ctx := context.Background()
	res, _ := env.client.Send(ctx, msg("m-1"), targets("a", "b"))
	checkResults(t, res, verdict{vendors.Delivered, "0"}, verdict{vendors.Delivered, "0"})
	res, _ = env.client.Send(ctx, msg("m-2"), targets("a", "b"))
	checkResults(t, res, verdict{vendors.Retry, "10034"}, verdict{vendors.Retry, "10034"})
	if res[0].RetryAfter != time.Hour {
		t.Errorf("RetryAfter %v, want 1h (to midnight Beijing time)", res[0].RetryAfter)
	}
	res, _ = env.client.Send(ctx, msg("m-3"), targets("c"))
	checkResults(t, res, verdict{vendors.Delivered, "0"})
	if s := env.stats(); s.Notifications != 3 || s.Rejected != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestRecorderCountsDuplicates(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	ctx := context.Background()
	for range 2 {
		if _, err := env.client.Send(ctx, msg("same-id"), targets("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.client.Send(ctx, msg("other-id"), targets("a")); err != nil {
		t.Fatal(err)
	}
	want := simkit.Stats{Requests: 3, Notifications: 5, Unique: 3, Duplicates: 2}
	if s := env.stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
}

func TestSendTimeoutIsRetry(t *testing.T) {
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	base, ca := simtest.TestServer(t, slow)
	t.Cleanup(func() { close(release) })
	c, err := New(Config{AppSecret: "s", PackageName: "p", Endpoint: base, TLS: ca.ClientTLS(), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := c.Send(context.Background(), msg("m"), targets("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Retry, "timeout"}, verdict{vendors.Retry, "timeout"})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c2, _ := New(Config{AppSecret: "s", PackageName: "p", Endpoint: base, TLS: ca.ClientTLS(), Timeout: time.Minute})
	if _, err := c2.Send(ctx, msg("m"), targets("a")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: err = %v, want DeadlineExceeded", err)
	}
}

func TestSendTransportErrorIsRetry(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: "p", Endpoint: "https://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Send(context.Background(), msg("m"), targets("a"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Retry, "transport"})
}

func TestSendArguments(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != vendors.Xiaomi || c.MaxBatch() != 1000 {
		t.Errorf("Kind %q MaxBatch %d", c.Kind(), c.MaxBatch())
	}
	ctx := context.Background()
	if _, err := c.Send(ctx, nil, targets("a")); err == nil {
		t.Error("nil notification accepted")
	}
	if _, err := c.Send(ctx, msg("m"), make([]vendors.Target, 1001)); err == nil {
		t.Error("1001 targets accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Send(cancelled, msg("m"), targets("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	if res, err := c.Send(ctx, msg("m"), nil); err != nil || len(res) != 0 {
		t.Errorf("no targets: %v %v", res, err)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{Endpoint: "ftp://x", Timeout: -1})
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, field := range []string{"AppSecret", "PackageName", "Endpoint", "Timeout"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
	if _, err := New(Config{AppSecret: "a b", PackageName: "p"}); err == nil {
		t.Error("secret with a space accepted")
	}
	if _, err := New(Config{AppSecret: "s", PackageName: "a,b"}); err == nil {
		t.Error("two package names accepted")
	}
}
