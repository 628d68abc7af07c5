package fcm

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestSendDeliversOverHTTP2WithBearer(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	n := chatNotification("m-1")
	res := send(t, c, n, "tok-a", "tok-b", "tok-c")
	for i, r := range res {
		if r.Verdict != vendors.Delivered || !strings.HasPrefix(r.Reason, "projects/herald-sim/messages/") {
			t.Errorf("result %d = %+v, want delivered with the message name", i, r)
		}
	}
	got := e.sim.Received()
	if len(got) != 3 {
		t.Fatalf("simulator received %d messages, want 3", len(got))
	}
	for _, rc := range got {
		if rc.MessageID != "m-1" || rc.AndroidPriority != "HIGH" || rc.ChannelID != "chat" || rc.DataOnly {
			t.Errorf("received %+v", rc)
		}
		// What went over the wire is exactly what the encoder produces.
		want, err := encodeRequest(vendors.FCM, n, rc.Token)
		if err != nil {
			t.Fatal(err)
		}
		if wire := append(append([]byte(`{"message":`), rc.Message...), '}'); !bytes.Equal(wire, want) {
			t.Errorf("wire body\n%s\nencoder\n%s", wire, want)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.sendProtos {
		if e.sendProtos[i] != 2 {
			t.Errorf("request %d used HTTP/%d, want HTTP/2", i, e.sendProtos[i])
		}
		if !strings.HasPrefix(e.sendAuth[i], "Bearer ya29.sim.") {
			t.Errorf("request %d Authorization = %q, want the simulator's bearer token", i, e.sendAuth[i])
		}
	}
	if e.tokenHits != 1 {
		t.Errorf("token endpoint hit %d times, want 1 (cached)", e.tokenHits)
	}
	if st := e.rec.Snapshot()["fcm"]; st != (simkit.Stats{Requests: 3, Notifications: 3, Unique: 3}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestSendWebKind(t *testing.T) {
	e := newEnv(t, SimOptions{Kind: vendors.Web})
	c := e.client(t, nil)
	if c.Kind() != vendors.Web {
		t.Fatalf("Kind = %q", c.Kind())
	}
	n := chatNotification("w-1")
	n.CollapseID = "conversation:c1/with spaces"
	res := send(t, c, n, "web-tok-1")
	if res[0].Verdict != vendors.Delivered {
		t.Fatalf("result = %+v", res[0])
	}
	got := e.sim.Received()
	if len(got) != 1 || got[0].WebUrgency != "high" || got[0].MessageID != "w-1" || got[0].DataOnly || got[0].AndroidPriority != "" {
		t.Fatalf("received %+v", got)
	}
	if st := e.rec.Snapshot()["web"]; st.Notifications != 1 || st.Requests != 1 {
		t.Errorf("web stats = %+v", st)
	}
	if _, ok := e.rec.Snapshot()["fcm"]; ok {
		t.Errorf("web simulator counted under fcm")
	}
}

func TestSendPassthroughAndVoIPAreDataOnly(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	n := chatNotification("p-1")
	n.Passthrough, n.Priority = true, vendors.PriorityNormal
	send(t, c, n, "tok-p")
	call := chatNotification("call-1")
	call.VoIP, call.Priority = true, vendors.PriorityNormal
	send(t, c, call, "tok-v")
	got := map[string]Received{}
	for _, rc := range e.sim.Received() {
		got[rc.Token] = rc
	}
	if p := got["tok-p"]; !p.DataOnly || p.AndroidPriority != "NORMAL" {
		t.Errorf("passthrough received %+v", p)
	}
	if v := got["tok-v"]; !v.DataOnly || v.AndroidPriority != "HIGH" || v.MessageID != "call-1" {
		t.Errorf("voip received %+v", v)
	}
}

func TestScriptedTokensInBatch(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	tokens := []string{"ok-1", "unregistered-2", "unavailable-3", "ok-4", PrefixOtherSender + "5", "not a token!"}
	start := time.Now()
	res := send(t, c, chatNotification("b-1"), tokens...)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("batch took %v: the SDK's 503 backoff was not suppressed", d)
	}
	want := []struct {
		v    vendors.Verdict
		code string
	}{
		{vendors.Delivered, ""},
		{vendors.TokenInvalid, "UNREGISTERED"},
		{vendors.Retry, "UNAVAILABLE"},
		{vendors.Delivered, ""},
		{vendors.TokenInvalid, "SENDER_ID_MISMATCH"},
		{vendors.TokenInvalid, "INVALID_ARGUMENT"},
	}
	for i, w := range want {
		if res[i].Verdict != w.v || res[i].Code != w.code {
			t.Errorf("%s: got %v %q (%s), want %v %q", tokens[i], res[i].Verdict, res[i].Code, res[i].Reason, w.v, w.code)
		}
	}
	// One request per token: the SDK retried nothing.
	if st := e.stats(); st != (simkit.Stats{Requests: 6, Notifications: 2, Unique: 2, Rejected: 4}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestRecorderCountsDuplicates(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	n := chatNotification("dup-1")
	send(t, c, n, "tok-a", "tok-b")
	send(t, c, n, "tok-a", "tok-b")
	if st := e.stats(); st != (simkit.Stats{Requests: 4, Notifications: 4, Unique: 2, Duplicates: 2}) {
		t.Errorf("stats = %+v", st)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, SimOptions{})
	other := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	t.Run("foreign key", func(t *testing.T) {
		c := e.client(t, func(cfg *Config) { cfg.CredentialsJSON = other.ServiceAccountJSON(e.url + "/token") })
		for _, r := range send(t, c, chatNotification("c-1"), "tok-a", "tok-b") {
			if r.Verdict != vendors.CredentialsBroken || r.Code != "invalid_grant" {
				t.Errorf("result = %+v, want credentials_broken invalid_grant", r)
			}
		}
		if st := e.stats(); st.Requests != 0 {
			t.Errorf("messages:send reached with refused credentials: %+v", st)
		}
	})
	t.Run("wrong project", func(t *testing.T) {
		c := e.client(t, func(cfg *Config) { cfg.ProjectID = "someone-else" })
		r := send(t, c, chatNotification("c-2"), "tok-a")[0]
		if r.Verdict != vendors.CredentialsBroken || r.Code != "PERMISSION_DENIED" {
			t.Errorf("result = %+v, want credentials_broken PERMISSION_DENIED", r)
		}
	})
}

func TestExpiredAccessTokenIsRefreshed(t *testing.T) {
	t.Run("refused by the server", func(t *testing.T) {
		e := newEnv(t, SimOptions{AuthTokenTTL: 30 * time.Minute})
		c := e.client(t, nil) // wall clock: the client still trusts its token
		send(t, c, chatNotification("r-1"), "tok-a")
		e.clock.Advance(40 * time.Minute)
		if r := send(t, c, chatNotification("r-2"), "tok-a")[0]; r.Verdict != vendors.Delivered {
			t.Fatalf("after expiry: %+v", r)
		}
		if n := e.tokens(); n != 2 {
			t.Errorf("token fetches = %d, want 2", n)
		}
		if st := e.stats(); st != (simkit.Stats{Requests: 3, Notifications: 2, Unique: 2, Rejected: 1}) {
			t.Errorf("stats = %+v (want one 401 then the resend)", st)
		}
	})
	t.Run("expired on the client's clock", func(t *testing.T) {
		e := newEnv(t, SimOptions{AuthTokenTTL: 30 * time.Minute})
		c := e.client(t, func(cfg *Config) { cfg.Now = e.clock.Now })
		send(t, c, chatNotification("r-1"), "tok-a")
		e.clock.Advance(40 * time.Minute)
		if r := send(t, c, chatNotification("r-2"), "tok-a")[0]; r.Verdict != vendors.Delivered {
			t.Fatalf("after expiry: %+v", r)
		}
		if st := e.stats(); e.tokens() != 2 || st.Rejected != 0 || st.Requests != 2 {
			t.Errorf("token fetches = %d, stats = %+v; want a refresh before sending", e.tokens(), st)
		}
	})
}

func TestLimitsMapToRetry(t *testing.T) {
	t.Run("qps", func(t *testing.T) {
		e := newEnv(t, SimOptions{})
		e.sim.SetLimits(simkit.Limits{QPS: 1}) // the fake clock stands still: no refill
		c := e.client(t, nil)
		var delivered, throttled int
		for _, r := range send(t, c, chatNotification("q-1"), "a", "b", "c") {
			switch {
			case r.Verdict == vendors.Delivered:
				delivered++
			case r.Verdict == vendors.Retry && r.Code == "QUOTA_EXCEEDED" && r.RetryAfter == time.Second:
				throttled++
			default:
				t.Errorf("unexpected %+v", r)
			}
		}
		if delivered != 1 || throttled != 2 {
			t.Errorf("delivered %d throttled %d, want 1 and 2", delivered, throttled)
		}
	})
	t.Run("daily quota", func(t *testing.T) {
		e := newEnv(t, SimOptions{Limits: simkit.Limits{DailyQuota: 2}})
		c := e.client(t, func(cfg *Config) { cfg.MaxConcurrent = 1 })
		res := send(t, c, chatNotification("d-1"), "a", "b", "c")
		want := untilUTCMidnight(e.clock.Now()).Round(time.Second)
		if res[0].Verdict != vendors.Delivered || res[1].Verdict != vendors.Delivered {
			t.Errorf("first two = %+v %+v", res[0], res[1])
		}
		if r := res[2]; r.Verdict != vendors.Retry || r.Code != "QUOTA_EXCEEDED" || (r.RetryAfter-want).Abs() > time.Second {
			t.Errorf("over quota = %+v, want retry QUOTA_EXCEEDED after ~%v", r, want)
		}
		if st := e.stats(); st.Notifications != 2 || st.Rejected != 1 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestTransportFailuresRetryWithoutSDKBackoff(t *testing.T) {
	e := newEnv(t, SimOptions{})
	t.Run("messaging endpoint down", func(t *testing.T) {
		c := e.client(t, func(cfg *Config) { cfg.Endpoint = deadURL(t) + "/v1" })
		start := time.Now()
		r := send(t, c, chatNotification("t-1"), "tok-a")[0]
		if r.Verdict != vendors.Retry || r.Code != "TRANSPORT" {
			t.Errorf("result = %+v", r)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v: the SDK retried the network error", d)
		}
	})
	t.Run("token endpoint down", func(t *testing.T) {
		c := e.client(t, func(cfg *Config) { cfg.CredentialsJSON = e.sim.ServiceAccountJSON(deadURL(t) + "/token") })
		start := time.Now()
		r := send(t, c, chatNotification("t-2"), "tok-a")[0]
		if r.Verdict != vendors.Retry || r.Code != "TOKEN_FETCH" {
			t.Errorf("result = %+v", r)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v: the SDK retried the token failure", d)
		}
	})
}

func TestSendWholeCallErrors(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	if c.MaxBatch() != 500 {
		t.Errorf("MaxBatch = %d", c.MaxBatch())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, chatNotification("x"), targets("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	if _, err := c.Send(context.Background(), nil, targets("a")); err == nil {
		t.Error("nil notification accepted")
	}
	if _, err := c.Send(context.Background(), chatNotification("x"), make([]vendors.Target, 501)); err == nil {
		t.Error("501 targets accepted")
	}
	if r := send(t, c, chatNotification("x"), "")[0]; r.Verdict != vendors.TokenInvalid {
		t.Errorf("empty token: %+v", r)
	}
	_ = c.Close()
	if _, err := c.Send(context.Background(), chatNotification("x"), targets("a")); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err = %v", err)
	}
}
