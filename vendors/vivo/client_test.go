package vivo

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

func send(t *testing.T, c *Client, n *vendors.Notification, tokens ...string) []vendors.Result {
	t.Helper()
	rs, err := c.Send(context.Background(), n, targets(tokens...))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(rs) != len(tokens) {
		t.Fatalf("got %d results for %d tokens", len(rs), len(tokens))
	}
	return rs
}

func TestSendOneDelivered(t *testing.T) {
	e := newEnv(t, SimOptions{})
	n := note("m1")
	n.Data["call_id"] = "c9"
	rs := send(t, e.client, n, "tok-a")
	if !rs[0].OK() {
		t.Fatalf("result = %+v", rs[0])
	}
	if e.h2.Load() == 0 || e.h2.Load() != e.total.Load() {
		t.Errorf("HTTP/2 requests %d of %d", e.h2.Load(), e.total.Load())
	}
	got := e.sim.Received()
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	r := got[0]
	if !reflect.DeepEqual(r.RegIDs, []string{"tok-a"}) || r.MessageID != "m1" || r.Category != "IM" || r.Classification != 1 {
		t.Errorf("received = %+v", r)
	}
	var body struct {
		ClientCustomMap map[string]string `json:"clientCustomMap"`
		Title           string            `json:"title"`
		Content         string            `json:"content"`
	}
	if err := json.Unmarshal(r.Payload, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"message_id": "m1", "payload": "p1", "call_id": "c9"}
	if !reflect.DeepEqual(body.ClientCustomMap, want) || body.Title != "Alice" || body.Content != "hello there" {
		t.Errorf("payload = %+v", body)
	}
	if s := e.stats(); s.Requests != 1 || s.Notifications != 1 || s.Unique != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestSendBatchPerTokenVerdicts(t *testing.T) {
	e := newEnv(t, SimOptions{})
	rs := send(t, e.client, note("m1"), "tok-a", "unregistered-b", "tok-c")
	want := []vendors.Verdict{vendors.Delivered, vendors.TokenInvalid, vendors.Delivered}
	if got := verdicts(rs); !reflect.DeepEqual(got, want) {
		t.Fatalf("verdicts = %v, want %v (%+v)", got, want, rs)
	}
	if rs[1].Code != "invalidUser:1" {
		t.Errorf("code = %q", rs[1].Code)
	}
	got := e.sim.Received()
	if len(got) != 1 || !reflect.DeepEqual(got[0].RegIDs, []string{"tok-a", "tok-c"}) || got[0].MessageID != "m1" {
		t.Errorf("received = %+v", got)
	}
	// saveListPayload is not a send request; pushToList is.
	if s := e.stats(); s.Requests != 1 || s.Notifications != 2 || s.Rejected != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestSendUnregisteredAndUnavailable(t *testing.T) {
	e := newEnv(t, SimOptions{})
	rs := send(t, e.client, note("m1"), "unregistered-a")
	if rs[0].Verdict != vendors.TokenInvalid || rs[0].Code != "10302/invalidUser:1" {
		t.Errorf("single unregistered = %+v", rs[0])
	}
	rs = send(t, e.client, note("m1"), "unavailable-a")
	if rs[0].Verdict != vendors.Retry || rs[0].Code != "http_500" {
		t.Errorf("single unavailable = %+v", rs[0])
	}
	// vivo has no per-token transient status: a 500 fails the whole batch.
	rs = send(t, e.client, note("m1"), "tok-a", "unavailable-b", "unregistered-c")
	for i, r := range rs {
		if r.Verdict != vendors.Retry || r.Code != "http_500" {
			t.Errorf("batch[%d] = %+v", i, r)
		}
	}
	if s := e.stats(); s.Notifications != 0 || s.Rejected != 5 {
		t.Errorf("stats = %+v", s)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, SimOptions{})
	cfg := e.cfg
	cfg.AppSecret = "wrong"
	c := e.newClient(t, cfg)
	for _, tokens := range [][]string{{"tok-a"}, {"tok-a", "tok-b"}} {
		rs := send(t, c, note("m1"), tokens...)
		for _, r := range rs {
			if r.Verdict != vendors.CredentialsBroken || r.Code != "10207" {
				t.Errorf("%v: %+v", tokens, r)
			}
			if strings.Contains(r.Reason, "wrong") {
				t.Errorf("reason leaks the secret: %q", r.Reason)
			}
		}
	}
	cfg = e.cfg
	cfg.AppKey = "other"
	if rs := send(t, e.newClient(t, cfg), note("m1"), "tok-a"); rs[0].Verdict != vendors.CredentialsBroken || rs[0].Code != "10205" {
		t.Errorf("bad appKey: %+v", rs[0])
	}
	if s := e.stats(); s.Requests != 0 {
		t.Errorf("send requests without a token: %+v", s)
	}
}

func TestAuthTokenCachedAndRefreshed(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: 30 * time.Minute})
	send(t, e.client, note("m1"), "tok-a")
	send(t, e.client, note("m2"), "tok-a", "tok-b")
	if n := e.sim.AuthCalls(); n != 1 {
		t.Fatalf("auth calls = %d, want 1 (cached)", n)
	}
	// The simulator expires tokens after 30 min; the client keeps them an
	// hour, so the next send is refused, refreshed and resent.
	e.clock.Advance(45 * time.Minute)
	rs := send(t, e.client, note("m3"), "tok-a")
	if !rs[0].OK() {
		t.Fatalf("after expiry: %+v", rs[0])
	}
	if n := e.sim.AuthCalls(); n != 2 {
		t.Errorf("auth calls = %d, want 2", n)
	}
	// Same for a batch: both saveListPayload and pushToList see fresh tokens.
	e.clock.Advance(45 * time.Minute)
	rs = send(t, e.client, note("m4"), "tok-a", "tok-b")
	if got := verdicts(rs); !reflect.DeepEqual(got, []vendors.Verdict{vendors.Delivered, vendors.Delivered}) {
		t.Fatalf("batch after expiry: %+v", rs)
	}
	// And past the client's own hour it refreshes before sending.
	e.clock.Advance(2 * time.Hour)
	send(t, e.client, note("m5"), "tok-a")
	if n := e.sim.AuthCalls(); n != 4 {
		t.Errorf("auth calls = %d, want 4", n)
	}
}

func TestConcurrentSendsShareOneAuth(t *testing.T) {
	e := newEnv(t, SimOptions{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := e.client.Send(context.Background(), note("m"), targets("tok-"+string(rune('a'+i))))
			if err != nil || !rs[0].OK() {
				t.Errorf("send %d: %v %+v", i, err, rs)
			}
		}()
	}
	wg.Wait()
	if n := e.sim.AuthCalls(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

func TestQPSLimit(t *testing.T) {
	e := newEnv(t, SimOptions{})
	e.sim.SetLimits(simkit.Limits{QPS: 1}) // the fake clock never refills
	send(t, e.client, note("m1"), "tok-a")
	rs := send(t, e.client, note("m2"), "tok-a", "tok-b")
	for _, r := range rs {
		if r.Verdict != vendors.Retry || r.Code != "10072" || r.RetryAfter != time.Second {
			t.Errorf("over QPS: %+v", r)
		}
	}
	e.clock.Advance(time.Second)
	if rs := send(t, e.client, note("m3"), "tok-a"); !rs[0].OK() {
		t.Errorf("after refill: %+v", rs[0])
	}
}

func TestDailyQuota(t *testing.T) {
	e := newEnv(t, SimOptions{Limits: simkit.Limits{DailyQuota: 2}})
	send(t, e.client, note("m1"), "tok-a", "tok-b")
	// 10:00 UTC is 18:00 in Beijing: vivo's day ends in 6 hours.
	for _, tokens := range [][]string{{"tok-c"}, {"tok-c", "tok-d"}} {
		for _, r := range send(t, e.client, note("m2"), tokens...) {
			if r.Verdict != vendors.Retry || r.Code != "10070" || r.RetryAfter != 6*time.Hour {
				t.Errorf("%v over quota: %+v", tokens, r)
			}
		}
	}
	if s := e.stats(); s.Notifications != 2 || s.Rejected != 3 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRecorderCountsDuplicates(t *testing.T) {
	e := newEnv(t, SimOptions{})
	send(t, e.client, note("m1"), "tok-a", "tok-b")
	send(t, e.client, note("m1"), "tok-a")
	send(t, e.client, note("m2"), "tok-a")
	want := simkit.Stats{Requests: 3, Notifications: 4, Unique: 3, Duplicates: 1}
	if s := e.stats(); s != want {
		t.Errorf("stats = %+v, want %+v", s, want)
	}
}

func TestVoIPAndCategories(t *testing.T) {
	e := newEnv(t, SimOptions{})
	n := note("m1")
	n.VoIP, n.Category = true, "MARKETING"
	send(t, e.client, n, "tok-a")
	n = note("m2")
	n.Category = "marketing"
	send(t, e.client, n, "tok-a")
	n = note("m3")
	n.Category = "BOGUS"
	rs := send(t, e.client, n, "tok-a")
	if rs[0].Verdict != vendors.Rejected || rs[0].Code != "10096" {
		t.Errorf("unknown category: %+v", rs[0])
	}
	got := e.sim.Received()
	if len(got) != 2 || got[0].Category != "IM" || got[0].Classification != 1 ||
		got[1].Category != "MARKETING" || got[1].Classification != 0 {
		t.Errorf("received = %+v", got)
	}
}

func TestLocalRejections(t *testing.T) {
	e := newEnv(t, SimOptions{})
	n := &vendors.Notification{MessageID: "m1", Passthrough: true, Data: map[string]string{"k": "v"}}
	rs := send(t, e.client, n, "tok-a", "tok-b")
	for _, r := range rs {
		if r.Verdict != vendors.Rejected || r.Code != "passthrough_unsupported" {
			t.Errorf("passthrough: %+v", r)
		}
	}
	if _, err := e.client.Send(context.Background(), note("m"), make([]vendors.Target, maxBatch+1)); err == nil {
		t.Error("no error for 1001 targets")
	}
	if rs, err := e.client.Send(context.Background(), note("m"), nil); err != nil || len(rs) != 0 {
		t.Errorf("no targets: %v %v", rs, err)
	}
	if e.sim.AuthCalls() != 0 {
		t.Error("local rejections reached vivo")
	}
}

func TestCancelledContext(t *testing.T) {
	e := newEnv(t, SimOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.client.Send(ctx, note("m1"), targets("tok-a")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
