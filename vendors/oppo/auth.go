package oppo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors"
)

// sign is OPPO's auth signature: hex SHA-256(app_key + timestamp + master_secret).
func sign(appKey, timestamp, masterSecret string) string {
	sum := sha256.Sum256([]byte(appKey + timestamp + masterSecret))
	return hex.EncodeToString(sum[:])
}

// authForm is the body of POST /server/v1/auth at time now.
func authForm(appKey, masterSecret string, now time.Time) url.Values {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	return url.Values{
		"app_key":   {appKey},
		"timestamp": {ts},
		"sign":      {sign(appKey, ts, masterSecret)},
	}
}

// tokenSource caches the auth_token and shares one refresh among every
// Send that needs it. The refresh runs on its own goroutine, bounded by the
// per-request timeout, so one caller giving up does not fail the others.
type tokenSource struct {
	c *Client

	mu       sync.Mutex
	token    string
	expires  time.Time // refresh from here on (24 h minus a margin after issue)
	inflight *refresh
}

// refresh is one auth call in flight; token and fail are set before done
// is closed.
type refresh struct {
	done  chan struct{}
	token string
	fail  *vendors.Result
}

// get returns a valid auth_token, or the Result standing for every target
// when auth failed; err is set only when ctx ended while waiting.
func (ts *tokenSource) get(ctx context.Context) (string, *vendors.Result, error) {
	ts.mu.Lock()
	if ts.token != "" && ts.c.now().Before(ts.expires) {
		tok := ts.token
		ts.mu.Unlock()
		return tok, nil, nil
	}
	r := ts.inflight
	if r == nil {
		r = &refresh{done: make(chan struct{})}
		ts.inflight = r
		go ts.run(r)
	}
	ts.mu.Unlock()
	select {
	case <-r.done:
		return r.token, r.fail, nil
	case <-ctx.Done():
		return "", nil, ctx.Err()
	}
}

// invalidate forgets tok after OPPO refused it (code 11), so the next get
// refreshes; a token refreshed meanwhile by another Send is kept.
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	if ts.token == tok {
		ts.token = ""
	}
	ts.mu.Unlock()
}

func (ts *tokenSource) run(r *refresh) {
	issued := ts.c.now()
	tok, fail := ts.fetch(issued)
	ts.mu.Lock()
	if fail == nil {
		ts.token = tok
		ts.expires = issued.Add(tokenLifetime - tokenMargin)
	}
	ts.inflight = nil
	r.token, r.fail = tok, fail
	ts.mu.Unlock()
	close(r.done)
}

// fetch calls /server/v1/auth. Any refusal other than OPPO's transient
// codes means the credentials cannot be used: CredentialsBroken.
func (ts *tokenSource) fetch(now time.Time) (string, *vendors.Result) {
	c := ts.c
	a, fail, err := c.post(context.Background(), pathAuth, []byte(authForm(c.appKey, c.masterSecret, now).Encode()))
	if err != nil { // cannot happen with a background context; be safe
		r := vendors.Result{Verdict: vendors.Retry, Code: "transport", Reason: "oppo: auth: " + err.Error()}
		return "", &r
	}
	if fail != nil {
		r := *fail
		r.Reason = "auth: " + r.Reason
		return "", &r
	}
	if code := *a.Code; code != codeSuccess {
		r := codeResult(code, a.Message, c.now())
		if r.Verdict != vendors.Retry {
			r.Verdict = vendors.CredentialsBroken
		} else if r.RetryAfter == 0 {
			r.RetryAfter = a.retryAfter
		}
		r.Reason = "auth: " + r.Reason
		return "", &r
	}
	var d authData
	if err := json.Unmarshal(a.Data, &d); err != nil || d.AuthToken == "" {
		r := malformed("auth: answer has no data.auth_token")
		return "", &r
	}
	return d.AuthToken, nil
}
