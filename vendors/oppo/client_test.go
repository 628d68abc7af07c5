package oppo

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestNewValidates(t *testing.T) {
	_, err := New(Config{})
	if err == nil || !strings.Contains(err.Error(), "Config.AppKey") || !strings.Contains(err.Error(), "Config.MasterSecret") {
		t.Fatalf("New(Config{}) = %v, want both missing fields named", err)
	}
	if _, err := New(Config{AppKey: "k", MasterSecret: "s", Endpoint: "ftp://x"}); err == nil {
		t.Fatal("New accepted a non-http endpoint")
	}
	c, err := New(Config{AppKey: "k", MasterSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.endpoint != DefaultEndpoint || c.timeout != defaultTimeout || c.Kind() != vendors.OPPO || c.MaxBatch() != 1000 {
		t.Fatalf("defaults: endpoint %q timeout %v kind %v batch %d", c.endpoint, c.timeout, c.Kind(), c.MaxBatch())
	}
}

func TestSendDelivers(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	res := e.send(t, chatNotification("m-1"), "CN_a", "CN_b", "CN_c")
	wantVerdicts(t, res, vendors.Delivered, vendors.Delivered, vendors.Delivered)
	if got := e.stats(); got != (simkit.Stats{Requests: 1, Notifications: 3, Unique: 3}) {
		t.Errorf("stats %+v", got)
	}
	if e.nonH2.Load() != 0 {
		t.Errorf("%d requests were not HTTP/2", e.nonH2.Load())
	}
	got := e.sim.Received()
	if len(got) != 3 {
		t.Fatalf("received %d messages, want 3", len(got))
	}
	r := got[1]
	if r.RegID != "CN_b" || r.MessageID != "m-1" || r.ChannelID != "chat" || r.Category != "IM" || r.NotifyLevel != 0 {
		t.Errorf("received %+v", r)
	}
}

func TestSendScriptedTokensInBatch(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	res := e.send(t, chatNotification("m-1"), "CN_a", "unregistered-b", "CN_c")
	wantVerdicts(t, res, vendors.Delivered, vendors.TokenInvalid, vendors.Delivered)
	if res[1].Code != "10000" {
		t.Errorf("unregistered code %q, want 10000", res[1].Code)
	}
	// OPPO has no per-item transient code: one unavailable target fails
	// the whole request with -1.
	res = e.send(t, chatNotification("m-2"), "CN_a", "unregistered-b", "unavailable-c")
	wantVerdicts(t, res, vendors.Retry, vendors.Retry, vendors.Retry)
	for _, r := range res {
		if r.Code != "-1" {
			t.Errorf("code %q, want -1", r.Code)
		}
	}
	if got := e.stats(); got != (simkit.Stats{Requests: 2, Notifications: 2, Unique: 2, Rejected: 4}) {
		t.Errorf("stats %+v", got)
	}
}

func TestBadCredentials(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Config)
		code   string
	}{
		"master secret": {func(c *Config) { c.MasterSecret = "wrong" }, "16"},
		"app key":       {func(c *Config) { c.AppKey = "wrong" }, "14"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, SimOptions{}, tc.mutate)
			res := e.send(t, chatNotification("m-1"), "CN_a", "CN_b")
			wantVerdicts(t, res, vendors.CredentialsBroken, vendors.CredentialsBroken)
			if res[0].Code != tc.code {
				t.Errorf("code %q, want %s", res[0].Code, tc.code)
			}
			if e.stats().Requests != 0 {
				t.Errorf("a send request went out without a token")
			}
		})
	}
}

func TestExpiredTokenRefreshedTransparently(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: time.Minute}, nil)
	wantVerdicts(t, e.send(t, chatNotification("m-1"), "CN_a"), vendors.Delivered)
	e.clock.Advance(2 * time.Minute) // the sim expired the token; the client still trusts it
	wantVerdicts(t, e.send(t, chatNotification("m-2"), "CN_a"), vendors.Delivered)
	if n := e.authCalls(); n != 2 {
		t.Errorf("%d auth calls, want 2", n)
	}
	// first send, the send answered 11, the resend
	if got := e.stats(); got.Requests != 3 || got.Notifications != 2 || got.Rejected != 1 {
		t.Errorf("stats %+v", got)
	}
}

func TestTokenRefreshedBeforeItExpires(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	wantVerdicts(t, e.send(t, chatNotification("m-1"), "CN_a"), vendors.Delivered)
	e.clock.Advance(23*time.Hour + time.Minute)
	// Past the refresh point the send goes with the old token, still
	// valid, while the new one is fetched in the background.
	wantVerdicts(t, e.send(t, chatNotification("m-2"), "CN_a"), vendors.Delivered)
	testutil.WaitFor(t, 10*time.Second, func() bool { return e.authCalls() == 2 }, "the refresh ahead of expiry (2 auth calls)")
	if got := e.stats(); got.Requests != 2 || got.Rejected != 0 {
		t.Errorf("stats %+v: the client sent a token it should have refreshed", got)
	}
}

func TestConcurrentSendsShareOneRefresh(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.client.Send(context.Background(), chatNotification("m"), targets("CN_"+string(rune('a'+i))))
			if err != nil || res[0].Verdict != vendors.Delivered {
				t.Errorf("send %d: %v %+v", i, err, res)
			}
		}()
	}
	wg.Wait()
	if n := e.authCalls(); n != 1 {
		t.Errorf("%d auth calls for 20 concurrent sends, want 1", n)
	}
}

func TestQPSLimitIsRetry(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	e.sim.SetLimits(simkit.Limits{QPS: 1}) // the fake clock stands still: one request, then none
	wantVerdicts(t, e.send(t, chatNotification("m-1"), "CN_a"), vendors.Delivered)
	res := e.send(t, chatNotification("m-2"), "CN_a", "CN_b")
	wantVerdicts(t, res, vendors.Retry, vendors.Retry)
	if res[0].Code != "-2" {
		t.Errorf("code %q, want -2", res[0].Code)
	}
	if got := e.stats(); got.Rejected != 2 {
		t.Errorf("stats %+v", got)
	}
}

func TestDailyQuotaIsRetryUntilTomorrow(t *testing.T) {
	e := newEnv(t, SimOptions{Limits: simkit.Limits{DailyQuota: 2}}, nil)
	res := e.send(t, chatNotification("m-1"), "CN_a", "CN_b", "CN_c")
	wantVerdicts(t, res, vendors.Retry, vendors.Retry, vendors.Retry)
	if res[0].Code != "33" || res[0].RetryAfter != 6*time.Hour {
		t.Errorf("result %+v, want code 33 retry after 6h (midnight UTC+8)", res[0])
	}
	wantVerdicts(t, e.send(t, chatNotification("m-1"), "CN_a", "CN_b"), vendors.Delivered, vendors.Delivered)
}

func TestRecorderCountsDuplicates(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	e.send(t, chatNotification("m-1"), "CN_a")
	e.send(t, chatNotification("m-1"), "CN_a")
	if got := e.stats(); got != (simkit.Stats{Requests: 2, Notifications: 2, Unique: 1, Duplicates: 1}) {
		t.Errorf("stats %+v", got)
	}
}

func TestSendSplitsOverMaxBatch(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	res := e.send(t, chatNotification("m-1"), regIDs("CN_", 1001)...)
	for i, r := range res {
		if r.Verdict != vendors.Delivered {
			t.Fatalf("target %d: %+v", i, r)
		}
	}
	if got := e.stats(); got.Requests != 2 || got.Unique != 1001 {
		t.Errorf("stats %+v", got)
	}
}

func TestCallAndPassthroughMapping(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	call := &vendors.Notification{MessageID: "call-1", Title: "Incoming call", Body: "Bob is calling",
		Data: map[string]string{"call_id": "c7"}, VoIP: true, Passthrough: true, Channel: "calls", TTL: 30 * time.Second}
	wantVerdicts(t, e.send(t, call, "CN_a"), vendors.Delivered)
	got := e.sim.Received()
	if len(got) != 1 || got[0].Category != "IM" || got[0].NotifyLevel != 16 || got[0].MessageID != "call-1" {
		t.Fatalf("received %+v", got)
	}

	silent := &vendors.Notification{MessageID: "sync-1", Passthrough: true, Data: map[string]string{"sync": "1"}}
	res := e.send(t, silent, "CN_a", "CN_b")
	wantVerdicts(t, res, vendors.Rejected, vendors.Rejected)
	if res[0].Code != "passthrough_unsupported" || e.stats().Requests != 1 {
		t.Errorf("result %+v, requests %d", res[0], e.stats().Requests)
	}
}

func TestVendorRejectsBadFields(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	n := chatNotification("m-1")
	n.Channel = ""
	res := e.send(t, n, "CN_a")
	wantVerdicts(t, res, vendors.Rejected)
	if res[0].Code != "40" {
		t.Errorf("missing channel: %+v", res[0])
	}
	n = chatNotification("m-1")
	n.Category, n.NotifyLevel = "MARKETING", 16
	res = e.send(t, n, "CN_a")
	if res[0].Verdict != vendors.Rejected || res[0].Code != "67" {
		t.Errorf("level 16 on MARKETING: %+v", res[0])
	}
}

func TestCancelledContextIsCallError(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.client.Send(ctx, chatNotification("m"), targets("CN_a")); err == nil {
		t.Fatal("Send with a cancelled context returned no error")
	}
}
