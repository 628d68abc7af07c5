package oppo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/tokencache"
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

// newTokens is c's auth_token cache: refreshed tokenMargin before
// tokenLifetime ends (by c's clock), handed out until 5 minutes before it;
// a fetch is bounded by the per-request timeout (and a second more, as a
// backstop).
func newTokens(c *Client) *tokencache.Cache[string] {
	return tokencache.New(c.fetchToken, tokencache.Config{
		Now: c.now, Timeout: c.timeout + time.Second, Refresh: tokenMargin, Skew: 5 * time.Minute, Closed: ErrClosed,
	})
}

// fetchToken calls /server/v1/auth. Any refusal other than OPPO's
// transient codes means the credentials cannot be used: CredentialsBroken.
// A failure is the *vendors.Error of the Result every target gets
// (vendors.ResultOf).
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	a, fail, err := c.post(ctx, pathAuth, []byte(authForm(c.appKey, c.masterSecret, c.now()).Encode()))
	if err != nil { // the cache's context ended (Close, or the backstop)
		r := vendors.Result{Verdict: vendors.Retry, Code: "transport", Reason: "oppo: auth: " + err.Error()}
		return "", 0, r.Err()
	}
	if fail != nil {
		r := *fail
		r.Reason = "auth: " + r.Reason
		return "", 0, r.Err()
	}
	if code := *a.Code; code != codeSuccess {
		r := codeResult(code, a.Message, c.now())
		if r.Verdict != vendors.Retry {
			r.Verdict = vendors.CredentialsBroken
		} else if r.RetryAfter == 0 {
			r.RetryAfter = a.retryAfter
		}
		r.Reason = "auth: " + r.Reason
		return "", 0, r.Err()
	}
	var d authData
	if err := json.Unmarshal(a.Data, &d); err != nil || d.AuthToken == "" {
		return "", 0, malformed("auth: answer has no data.auth_token").Err()
	}
	return d.AuthToken, tokenLifetime, nil
}
