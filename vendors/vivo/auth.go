package vivo

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors"
)

// authRequest is the body of POST /message/auth. appId is a JSON number.
type authRequest struct {
	AppID     json.Number `json:"appId"`
	AppKey    string      `json:"appKey"`
	Timestamp int64       `json:"timestamp"`
	Sign      string      `json:"sign"`
}

// sign is vivo's auth signature: lowercase hex MD5 of
// appId+appKey+timestamp(ms)+appSecret, each trimmed.
func sign(appID, appKey string, timestampMS int64, appSecret string) string {
	h := md5.New()
	h.Write([]byte(appID))
	h.Write([]byte(appKey))
	h.Write([]byte(strconv.FormatInt(timestampMS, 10)))
	h.Write([]byte(appSecret))
	return hex.EncodeToString(h.Sum(nil))
}

// encodeAuth builds the auth body for the given time. Deterministic.
func encodeAuth(appID, appKey, appSecret string, now time.Time) []byte {
	ts := now.UnixMilli()
	b, _ := json.Marshal(authRequest{
		AppID:     json.Number(appID),
		AppKey:    appKey,
		Timestamp: ts,
		Sign:      sign(appID, appKey, ts, appSecret),
	})
	return b
}

// fetchAuthToken calls /message/auth. A failure is a Result for every
// token of the send that needed the token.
func (c *Client) fetchAuthToken(ctx context.Context) (string, *vendors.Result) {
	body := encodeAuth(c.appID, c.appKey, c.appSecret, c.now())
	a, r, err := c.post(ctx, pathAuth, body, "")
	if err != nil {
		return "", &vendors.Result{Verdict: vendors.Retry, Code: "auth_timeout", Reason: "auth: " + err.Error()}
	}
	if r != nil {
		r.Reason = "auth: " + r.Reason
		return "", r
	}
	if a.Result != codeOK {
		res := authCodeResult(a.Result, a.Desc)
		return "", &res
	}
	if a.AuthToken == "" {
		return "", &vendors.Result{Verdict: vendors.Retry, Code: "malformed_response", Reason: "auth: answer without authToken"}
	}
	return a.AuthToken, nil
}

// authCache holds the current authToken and shares one refresh among
// concurrent callers. A fetch runs on its own goroutine under its own
// timeout, so a caller that gives up does not fail the others.
type authCache struct {
	fetch   func(context.Context) (string, *vendors.Result)
	now     func() time.Time
	timeout time.Duration

	mu     sync.Mutex
	token  string
	at     time.Time
	flight *authFlight
}

type authFlight struct {
	done  chan struct{}
	token string
	fail  *vendors.Result
}

func newAuthCache(fetch func(context.Context) (string, *vendors.Result), now func() time.Time, timeout time.Duration) *authCache {
	return &authCache{fetch: fetch, now: now, timeout: timeout}
}

// get returns a usable token. refused, when not empty, is a token vivo
// just refused: it is dropped unless another caller already replaced it.
// The error is only ever ctx's.
func (a *authCache) get(ctx context.Context, refused string) (string, *vendors.Result, error) {
	a.mu.Lock()
	if refused != "" && a.token == refused {
		a.token = ""
	}
	if a.token != "" && a.now().Sub(a.at) < authTokenMaxAge {
		t := a.token
		a.mu.Unlock()
		return t, nil, nil
	}
	f := a.flight
	if f == nil {
		f = &authFlight{done: make(chan struct{})}
		a.flight = f
		go a.run(f)
	}
	a.mu.Unlock()
	select {
	case <-f.done:
		if f.fail != nil {
			r := *f.fail
			return "", &r, nil
		}
		return f.token, nil, nil
	case <-ctx.Done():
		return "", nil, ctx.Err()
	}
}

func (a *authCache) run(f *authFlight) {
	// Each HTTP attempt is bounded by the client's timeout; this bound is
	// a backstop so the flight always finishes.
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout+time.Second)
	defer cancel()
	token, fail := a.fetch(ctx)
	a.mu.Lock()
	if fail == nil {
		a.token, a.at = token, a.now()
	}
	f.token, f.fail = token, fail
	a.flight = nil
	a.mu.Unlock()
	close(f.done)
}
