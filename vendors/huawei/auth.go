package huawei

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// maxTokenMargin caps how long before expires_in a token is refreshed.
const maxTokenMargin = 5 * time.Minute

// tokenAnswer is the token endpoint's JSON answer, success or failure.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        int64           `json:"expires_in"`
	TokenType        string          `json:"token_type"`
	Error            flexjson.String `json:"error"`
	SubError         flexjson.String `json:"sub_error"`
	ErrorDescription string          `json:"error_description"`
}

// tokenCall is one refresh in flight; every waiter reads its result after
// done is closed.
type tokenCall struct {
	done chan struct{}
	tok  string
	fail *vendors.Result
}

// tokenSource caches the access token and runs at most one refresh at a
// time (singleflight): concurrent Sends that find no valid token all wait
// for the same refresh.
type tokenSource struct {
	hc      *http.Client
	authURL string
	form    string // URL-encoded client-credentials form; holds the secret
	timeout time.Duration
	now     func() time.Time

	mu   sync.Mutex
	tok  string
	exp  time.Time
	call *tokenCall
}

func newTokenSource(hc *http.Client, cfg Config) *tokenSource {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cfg.AppID},
		"client_secret": {cfg.AppSecret},
	}
	return &tokenSource{hc: hc, authURL: cfg.AuthURL, form: form.Encode(), timeout: cfg.Timeout, now: cfg.Now}
}

// token returns a valid access token, refreshing it when needed. A non-nil
// Result is the verdict for every target when no token could be had; the
// error is only ctx's.
func (s *tokenSource) token(ctx context.Context) (string, *vendors.Result, error) {
	s.mu.Lock()
	if s.tok != "" && s.now().Before(s.exp) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil, nil
	}
	call := s.call
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		s.call = call
		// The refresh is not tied to this caller's ctx: other Sends wait
		// for it too. It is bounded by the per-request timeout.
		go s.refresh(call)
	}
	s.mu.Unlock()
	select {
	case <-call.done:
		return call.tok, call.fail, nil
	case <-ctx.Done():
		return "", nil, ctx.Err()
	}
}

// invalidate drops tok if it is still the cached token (a refusal of a
// token that has since been replaced changes nothing).
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	if s.tok == tok {
		s.tok, s.exp = "", time.Time{}
	}
	s.mu.Unlock()
}

func (s *tokenSource) refresh(call *tokenCall) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	tok, ttl, fail := s.fetch(ctx)
	s.mu.Lock()
	if fail == nil {
		s.tok, s.exp = tok, s.now().Add(ttl-tokenMargin(ttl))
	}
	s.call = nil
	s.mu.Unlock()
	call.tok, call.fail = tok, fail
	close(call.done)
}

// tokenMargin is how long before expiry a token of lifetime ttl is renewed.
func tokenMargin(ttl time.Duration) time.Duration {
	return min(ttl/10, maxTokenMargin)
}

// fetch asks the token endpoint for a new access token.
func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, *vendors.Result) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.authURL, strings.NewReader(s.form))
	if err != nil {
		// Only a malformed AuthURL gets here; New validated it.
		return "", 0, &vendors.Result{Verdict: vendors.CredentialsBroken, Code: "bad_auth_url", Reason: "huawei: token request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		o := transportOutcome("huawei: token request", err)
		return "", 0, &vendors.Result{Verdict: o.verdict, Code: o.code, Reason: o.reason}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		o := transportOutcome("huawei: token answer", err)
		return "", 0, &vendors.Result{Verdict: o.verdict, Code: o.code, Reason: o.reason}
	}
	tok, ttl, r := tokenResult(resp.StatusCode, resp.Header, body, s.now())
	return tok, ttl, r
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
