package huawei

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/herald-push/herald/vendors/internal/retryafter"
	"github.com/herald-push/herald/vendors/internal/tokencache"
)

// tokenAnswer is the token endpoint's JSON answer, success or failure.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        int64           `json:"expires_in"`
	TokenType        string          `json:"token_type"`
	Error            flexjson.String `json:"error"`
	SubError         flexjson.String `json:"sub_error"`
	ErrorDescription string          `json:"error_description"`
}

// newTokens is the client's access-token cache: fetch under it, refreshed
// ahead of expiry (tokencache's default margins: 5 minutes, at most a
// tenth of expires_in).
func newTokens(hc *http.Client, cfg Config) *tokencache.Cache[string] {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cfg.AppID},
		"client_secret": {cfg.AppSecret},
	}
	f := &fetcher{hc: hc, authURL: cfg.AuthURL, form: form.Encode(), now: cfg.Now}
	return tokencache.New(f.fetch, tokencache.Config{Now: cfg.Now, Timeout: cfg.Timeout, Closed: ErrClosed})
}

// fetcher asks the token endpoint for an access token.
type fetcher struct {
	hc      *http.Client
	authURL string
	form    string // URL-encoded client-credentials form; holds the secret
	now     func() time.Time
}

// fetch asks the token endpoint for a new access token. A failure is the
// *vendors.Error of the Result every target gets (vendors.ResultOf).
func (f *fetcher) fetch(ctx context.Context) (string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.authURL, strings.NewReader(f.form))
	if err != nil {
		// Only a malformed AuthURL gets here; New validated it.
		r := vendors.Result{Verdict: vendors.CredentialsBroken, Code: "bad_auth_url", Reason: "huawei: token request: " + err.Error()}
		return "", 0, r.Err()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := f.hc.Do(req)
	if err != nil {
		return "", 0, transportOutcome("huawei: token request", err).result().Err()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return "", 0, transportOutcome("huawei: token answer", err).result().Err()
	}
	tok, ttl, r := tokenResult(resp.StatusCode, resp.Header, body, f.now())
	if r != nil {
		return "", 0, r.Err()
	}
	return tok, ttl, nil
}

// tokenResult maps a token-endpoint answer to a token and its lifetime, or
// to the Result every target gets.
func tokenResult(status int, h http.Header, body []byte, now time.Time) (string, time.Duration, *vendors.Result) {
	if vendors.IsRedirect(status) {
		// Not followed (RefuseRedirect): not the token endpoint's answer.
		r := vendors.RedirectResult("huawei: token endpoint", status, h.Get("Location"))
		return "", 0, &r
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)
	httpCode := "HTTP " + strconv.Itoa(status)
	switch {
	case status == http.StatusOK && jsonErr == nil && ans.AccessToken != "":
		ttl := time.Duration(ans.ExpiresIn) * time.Second
		if ttl <= 0 {
			ttl = time.Hour
		}
		return ans.AccessToken, ttl, nil
	case status == http.StatusOK:
		return "", 0, &vendors.Result{Verdict: vendors.Retry, Code: "malformed_token_answer", Reason: "huawei: token endpoint answered 200 without an access_token"}
	case status == http.StatusTooManyRequests || status >= 500:
		reason := "huawei: token endpoint busy"
		if status == http.StatusServiceUnavailable {
			reason = "huawei: token endpoint flow control"
		}
		return "", 0, &vendors.Result{Verdict: vendors.Retry, Code: codeOr(ans.Error, httpCode), Reason: reason, RetryAfter: retryafter.FromHeader(h, now)}
	default:
		// 400 (bad client id/secret: error 1101/1102/1203), 401, 403, …:
		// our credentials or account are refused; pause the account.
		reason := "huawei: token endpoint refused the app credentials"
		if ans.ErrorDescription != "" {
			reason += ": " + clip(ans.ErrorDescription)
		}
		if ans.SubError != "" {
			reason += " (sub_error " + string(ans.SubError) + ")"
		}
		return "", 0, &vendors.Result{Verdict: vendors.CredentialsBroken, Code: codeOr(ans.Error, httpCode), Reason: reason}
	}
}
