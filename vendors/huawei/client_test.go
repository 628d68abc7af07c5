package huawei

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

const (
	D = vendors.Delivered
	I = vendors.TokenInvalid
	R = vendors.Retry
	C = vendors.CredentialsBroken
	X = vendors.Rejected
	M = vendors.Misconfigured
)

func TestSendDelivered(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	wantVerdicts(t, send(t, c, note("m1"), "tok-a", "tok-b", "tok-c"), D, D, D)
	wantVerdicts(t, send(t, c, note("m2"), "tok-a"), D)

	if got := e.tokenHits.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1 (cached)", got)
	}
	if got := e.sendHits.Load(); got != 2 {
		t.Errorf("send requests = %d, want 2", got)
	}
	if got := e.nonH2Sends.Load(); got != 0 {
		t.Errorf("%d sends were not HTTP/2", got)
	}
	rc := e.sim.Received()
	if len(rc) != 2 {
		t.Fatalf("received %d sends, want 2", len(rc))
	}
	r := rc[0]
	if r.MessageID != "m1" || r.Category != "IM" || r.ChannelID != "im" || r.DataOnly || r.Urgency != "" {
		t.Errorf("received %+v", r)
	}
	if strings.Join(r.Tokens, ",") != "tok-a,tok-b,tok-c" {
		t.Errorf("tokens %v", r.Tokens)
	}
	if !strings.Contains(string(r.Message), `"click_action":{"type":3}`) {
		t.Errorf("message %s", r.Message)
	}
}

func TestSendPassthroughAndCall(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	n := note("call-1")
	n.Passthrough, n.VoIP, n.Title, n.Body = true, true, "", ""
	wantVerdicts(t, send(t, c, n, "tok-a"), D)
	r := e.sim.Received()[0]
	if !r.DataOnly || r.Urgency != "HIGH" || r.Category != "VOIP" || r.MessageID != "call-1" {
		t.Errorf("received %+v", r)
	}
}

func TestSendBatchVerdicts(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	tests := []struct {
		name   string
		tokens []string
		want   []vendors.Verdict
		code   string
	}{
		{"partial", []string{"ok-1", "unregistered-1", "ok-2", "unregistered-2"}, []vendors.Verdict{D, I, D, I}, codePartial},
		{"all invalid", []string{"unregistered-1", "unregistered-2"}, []vendors.Verdict{I, I}, codeAllInvalid},
		{"unavailable", []string{"ok-1", "unavailable-1", "unregistered-1"}, []vendors.Verdict{R, R, R}, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := send(t, c, note("m-"+tt.name), tt.tokens...)
			wantVerdicts(t, res, tt.want...)
			for i, r := range res {
				if r.Verdict != D && r.Code != tt.code {
					t.Errorf("result %d code %q, want %q", i, r.Code, tt.code)
				}
			}
		})
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, SimOptions{})
	tests := []struct {
		name   string
		mutate func(*Config)
		code   string
	}{
		{"wrong secret", func(c *Config) { c.AppSecret = "bm90LXRoZS1zZWNyZXQ=" }, "1101"},
		{"unknown app", func(c *Config) { c.AppID = "999999" }, "1203"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(t, tt.mutate)
			res := send(t, c, note("m"), "tok-a", "tok-b")
			wantVerdicts(t, res, C, C)
			if res[0].Code != tt.code {
				t.Errorf("code %q, want %q", res[0].Code, tt.code)
			}
			if strings.Contains(res[0].Reason, "bm90LXRoZS1zZWNyZXQ") || strings.Contains(res[0].Reason, SimAppSecret) {
				t.Errorf("reason leaks the secret: %s", res[0].Reason)
			}
		})
	}
}

func TestExpiredTokenRefreshedTransparently(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: time.Hour})
	c := e.client(t, nil) // the client's own clock does not move
	wantVerdicts(t, send(t, c, note("m1"), "tok-a"), D)
	e.clock.Advance(2 * time.Hour) // the simulator's token expired
	wantVerdicts(t, send(t, c, note("m2"), "tok-a"), D)

	if got := e.tokenHits.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	st := e.stats()
	if st.Requests != 3 || st.Notifications != 2 || st.Rejected != 1 {
		t.Errorf("stats %+v, want 3 requests (one refused with 80200003), 2 notifications", st)
	}
}

func TestTokenExpiryMargin(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: time.Hour})
	clk := newFakeClock()
	c := e.client(t, func(cfg *Config) { cfg.Now = clk.Now })
	send(t, c, note("m1"), "tok-a")
	clk.Advance(54 * time.Minute)
	send(t, c, note("m2"), "tok-a")
	if got := e.tokenHits.Load(); got != 1 {
		t.Fatalf("token requests = %d, want 1 before the margin", got)
	}
	clk.Advance(2 * time.Minute) // within 5 min of expiry
	send(t, c, note("m3"), "tok-a")
	if got := e.tokenHits.Load(); got != 2 {
		t.Fatalf("token requests = %d, want 2 after the margin", got)
	}
	if st := e.stats(); st.Rejected != 0 {
		t.Errorf("proactive refresh still hit an expired token: %+v", st)
	}
}

// TestAuthRefusedTwice: a push API that keeps refusing fresh tokens makes
// CredentialsBroken after exactly one refresh and resend.
func TestAuthRefusedTwice(t *testing.T) {
	for _, code := range []string{codeOAuthError, codeTokenExpired} {
		t.Run(code, func(t *testing.T) {
			var tokenHits, sendHits int
			var mu sync.Mutex
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if strings.HasPrefix(r.URL.Path, "/oauth2/") {
					tokenHits++
					writeJSON(w, 200, oauthToken{AccessToken: fmt.Sprintf("t%d", tokenHits), ExpiresIn: 3600, TokenType: "Bearer"})
					return
				}
				sendHits++
				writeJSON(w, 401, simAnswer{Code: code, Msg: "refused"})
			})
			url, ca := simtest.TestServer(t, h)
			c, err := New(Config{AppID: "1", AppSecret: "s", AuthURL: url + "/oauth2/v3/token", PushURL: url, TLS: ca.ClientTLS()})
			if err != nil {
				t.Fatal(err)
			}
			res := send(t, c, note("m"), "a", "b")
			wantVerdicts(t, res, C, C)
			if res[0].Code != code {
				t.Errorf("code %q", res[0].Code)
			}
			mu.Lock()
			defer mu.Unlock()
			if tokenHits != 2 || sendHits != 2 {
				t.Errorf("token hits %d, send hits %d; want 2 and 2", tokenHits, sendHits)
			}
		})
	}
}

func TestConcurrentSendsShareOneRefresh(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Send(context.Background(), note(fmt.Sprint("m", i)), targets("tok-a"))
			if err != nil || res[0].Verdict != D {
				t.Errorf("send %d: %v %+v", i, err, res)
			}
		}()
	}
	wg.Wait()
	if got := e.tokenHits.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

func TestQPSLimit(t *testing.T) {
	e := newEnv(t, SimOptions{Limits: simkit.Limits{QPS: 1}})
	c := e.client(t, nil)
	wantVerdicts(t, send(t, c, note("m1"), "tok-a"), D)
	res := send(t, c, note("m2"), "tok-a", "tok-b") // the fake clock stands still: no refill
	wantVerdicts(t, res, R, R)
	if res[0].Code != "HTTP 503" || !strings.Contains(res[0].Reason, "flow control") {
		t.Errorf("result %+v", res[0])
	}
	e.clock.Advance(time.Second)
	wantVerdicts(t, send(t, c, note("m3"), "tok-a"), D)
}

func TestDailyQuota(t *testing.T) {
	e := newEnv(t, SimOptions{})
	e.sim.SetLimits(simkit.Limits{DailyQuota: 2})
	c := e.client(t, nil)
	wantVerdicts(t, send(t, c, note("m1"), "tok-a", "tok-b"), D, D)
	res := send(t, c, note("m2"), "tok-c")
	wantVerdicts(t, res, R)
	if want := 12 * time.Hour; res[0].RetryAfter != want { // fake clock is at 12:00 UTC
		t.Errorf("RetryAfter %v, want %v", res[0].RetryAfter, want)
	}
	e.clock.Advance(12 * time.Hour)
	wantVerdicts(t, send(t, c, note("m3"), "tok-c"), D)
}

func TestRecorderCounting(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	send(t, c, note("m1"), "tok-a", "tok-b", "unregistered-x")
	send(t, c, note("m1"), "tok-a", "tok-b") // a resend: duplicates
	send(t, c, note("m2"), "tok-a")
	want := simkit.Stats{Requests: 3, Notifications: 5, Unique: 3, Duplicates: 2, Rejected: 1}
	if got := e.stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestTimeoutIsRetry(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/oauth2/") {
			writeJSON(w, 200, oauthToken{AccessToken: "t", ExpiresIn: 3600, TokenType: "Bearer"})
			return
		}
		<-r.Context().Done() // never answers
	})
	url, ca := simtest.TestServer(t, h)
	c, err := New(Config{AppID: "1", AppSecret: "s", AuthURL: url + "/oauth2/v3/token", PushURL: url, TLS: ca.ClientTLS(), Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res := send(t, c, note("m"), "a")
	wantVerdicts(t, res, R)
	if res[0].Code != "transport" {
		t.Errorf("code %q", res[0].Code)
	}
}

func TestUnreachableIsRetry(t *testing.T) {
	c, err := New(Config{AppID: "1", AppSecret: "s", AuthURL: "https://127.0.0.1:1/oauth2/v3/token", PushURL: "https://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res := send(t, c, note("m"), "a", "b")
	wantVerdicts(t, res, R, R)
	if strings.Contains(res[0].Reason, "client_secret") {
		t.Errorf("reason leaks the form: %s", res[0].Reason)
	}
}

func TestSendContract(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, note("m"), targets("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err %v", err)
	}
	if _, err := c.Send(context.Background(), nil, targets("a")); err == nil {
		t.Error("nil notification: no error")
	}
	if _, err := c.Send(context.Background(), note("m"), make([]vendors.Target, MaxBatch+1)); err == nil {
		t.Error("too many targets: no error")
	}
	if res, err := c.Send(context.Background(), note("m"), nil); err != nil || len(res) != 0 {
		t.Errorf("no targets: %v %v", res, err)
	}
	if c.Kind() != vendors.Huawei || c.MaxBatch() != 1000 {
		t.Errorf("kind %v max %d", c.Kind(), c.MaxBatch())
	}
	_ = c.Close()
	if _, err := c.Send(context.Background(), note("m"), targets("a")); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: err %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{AuthURL: "ftp://x"})
	for _, want := range []string{"AppID", "AppSecret", "AuthURL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if _, err := New(Config{AppID: "1", AppSecret: "s"}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
