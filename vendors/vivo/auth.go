package vivo

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/tokencache"
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

// newTokens is c's authToken cache: a token is reused for
// authTokenMaxAge, refreshed five minutes before that; a fetch is bounded
// by the per-request timeout (and a second more, as a backstop).
func newTokens(c *Client) *tokencache.Cache[string] {
	return tokencache.New(c.fetchAuthToken, tokencache.Config{Now: c.now, Timeout: c.timeout + time.Second, Closed: ErrClosed})
}

// fetchAuthToken calls /message/auth. A failure is the *vendors.Error of
// the Result for every token of the send that needed the token
// (vendors.ResultOf).
func (c *Client) fetchAuthToken(ctx context.Context) (string, time.Duration, error) {
	body := encodeAuth(c.appID, c.appKey, c.appSecret, c.now())
	a, r, err := c.post(ctx, pathAuth, body, "")
	if err != nil {
		r := vendors.Result{Verdict: vendors.Retry, Code: "auth_timeout", Reason: "auth: " + err.Error()}
		return "", 0, r.Err()
	}
	if r != nil {
		r.Reason = "auth: " + r.Reason
		return "", 0, r.Err()
	}
	if a.Result != codeOK {
		return "", 0, authCodeResult(a.Result, a.Desc).Err()
	}
	if a.AuthToken == "" {
		r := vendors.Result{Verdict: vendors.Retry, Code: "malformed_response", Reason: "auth: answer without authToken"}
		return "", 0, r.Err()
	}
	return a.AuthToken, authTokenMaxAge, nil
}
