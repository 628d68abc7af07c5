package huawei

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// Push API result codes (string codes in the JSON body).
const (
	codeSuccess        = "80000000" // every token accepted
	codePartial        = "80100000" // some tokens accepted; msg lists illegal_tokens
	codeBadParam       = "80100001" // bad parameter
	codeBadStructure   = "80100003" // bad message structure
	codeTTLPast        = "80100004" // ttl in the past
	codeOAuthError     = "80200001" // missing or other app's access token
	codeTokenExpired   = "80200003" // access token expired
	codeNoPermission   = "80300002" // the app may not push
	codeAllInvalid     = "80300007" // every token invalid
	codeBodyTooLarge   = "80300008" // body > 4096 B without tokens
	codeTooManyTokens  = "80300010" // token count not in 1..1000
	codeNoHighPriority = "80300011" // no permission for high-priority messages (unconfirmed)
	codeOAuthFailed    = "80600003" // OAuth service failed (bad id/secret)
	codeInternal       = "81000001" // internal error, retry
)

// outcome is what one push-API answer means for the whole request.
type outcome struct {
	verdict    vendors.Verdict
	code       string
	reason     string
	retryAfter time.Duration
	throttled  bool // HTTP 429: the vendor is up and slowing us down
	// illegal lists the tokens a partial success (80100000) failed; every
	// other token was Delivered. Only set when partial is true.
	illegal map[string]bool
	partial bool
	// authRetry: the access token was refused (80200001/80200003); refresh
	// it and resend once.
	authRetry bool
	// noAnswer: the request got no answer (transport error or timeout).
	noAnswer bool
}

// sendAnswer is the push API's JSON answer.
type sendAnswer struct {
	Code      flexjson.String `json:"code"` // Huawei documents strings; a number must not turn a real answer into garbage
	Msg       string          `json:"msg"`
	RequestID string          `json:"requestId"`
}

// partialMsg is the JSON string inside msg for 80100000.
type partialMsg struct {
	Success       int      `json:"success"`
	Failure       int      `json:"failure"`
	IllegalTokens []string `json:"illegal_tokens"`
}

// classify maps one push-API answer to an outcome. It never panics on any
// status or body. A 3xx comes first: the client did not follow it, so a
// body code, 80000000 included, is not the push API's answer.
func classify(status int, header http.Header, body []byte, now time.Time) outcome {
	if vendors.IsRedirect(status) {
		r := vendors.RedirectResult("huawei: push API", status, header.Get("Location"))
		return outcome{verdict: r.Verdict, code: r.Code, reason: r.Reason}
	}
	var ans sendAnswer
	parsed := json.Unmarshal(body, &ans) == nil && ans.Code != ""
	if parsed {
		if o, ok := classifyCode(string(ans.Code), ans.Msg); ok {
			if o.verdict == vendors.Retry {
				o.retryAfter = retryafter.FromHeader(header, now)
			}
			return o
		}
	}
	httpCode := "HTTP " + strconv.Itoa(status)
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		reason := "server busy"
		if status == http.StatusServiceUnavailable {
			reason = "flow control"
		}
		return outcome{verdict: vendors.Retry, code: codeOr(ans.Code, httpCode), reason: reason + detail(ans.Msg, body), retryAfter: retryafter.FromHeader(header, now),
			throttled: status == http.StatusTooManyRequests}
	case parsed:
		// An unknown business code: the request itself is at fault.
		return outcome{verdict: vendors.Rejected, code: string(ans.Code), reason: "unknown result code: " + clip(ans.Msg)}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return outcome{verdict: vendors.CredentialsBroken, code: httpCode, reason: "refused without a result code" + detail("", body)}
	case status == http.StatusOK:
		return outcome{verdict: vendors.Retry, code: "malformed_answer", reason: "HTTP 200 without a result code" + detail("", body)}
	default:
		return outcome{verdict: vendors.Rejected, code: httpCode, reason: "answer without a result code" + detail("", body)}
	}
}

// classifyCode maps a known result code; false for codes it does not know.
func classifyCode(code, msg string) (outcome, bool) {
	o := outcome{code: code, reason: clip(msg)}
	switch code {
	case codeSuccess:
		o.verdict = vendors.Delivered
	case codePartial:
		var p partialMsg
		if err := json.Unmarshal([]byte(msg), &p); err != nil {
			// Which tokens failed is unknown: retrying may duplicate (the
			// app dedups by message_id) but never loses a push.
			o.verdict, o.reason = vendors.Retry, "partial success with an unreadable msg: "+clip(msg)
			return o, true
		}
		o.partial = true
		o.illegal = make(map[string]bool, len(p.IllegalTokens))
		for _, t := range p.IllegalTokens {
			o.illegal[t] = true
		}
		o.verdict, o.reason = vendors.TokenInvalid, "illegal token"
	case codeAllInvalid:
		o.verdict = vendors.TokenInvalid
	case codeBadParam, codeBadStructure, codeTTLPast, codeBodyTooLarge, codeTooManyTokens, codeNoHighPriority:
		o.verdict = vendors.Rejected
	case codeNoPermission, codeOAuthFailed:
		o.verdict = vendors.CredentialsBroken
	case codeOAuthError, codeTokenExpired:
		o.verdict, o.authRetry = vendors.CredentialsBroken, true
	case codeInternal:
		o.verdict = vendors.Retry
	default:
		return outcome{}, false
	}
	return o, true
}

// result is o's Result for a token (of a request that was not a partial
// success).
func (o outcome) result() vendors.Result {
	return vendors.Result{Verdict: o.verdict, Code: o.code, Reason: o.reason, RetryAfter: o.retryAfter, Throttled: o.throttled}
}

// results expands o to one Result per token.
func (o outcome) results(tokens []string) []vendors.Result {
	if !o.partial {
		return vendors.Fill(len(tokens), o.result())
	}
	out := make([]vendors.Result, len(tokens))
	for i, t := range tokens {
		if o.illegal[t] {
			out[i] = vendors.Result{Verdict: vendors.TokenInvalid, Code: o.code, Reason: o.reason}
		} else {
			out[i] = vendors.Result{Verdict: vendors.Delivered, Code: o.code}
		}
	}
	return out
}

func codeOr(c flexjson.String, def string) string {
	if c != "" {
		return string(c)
	}
	return def
}

// detail renders msg, or else a clipped body, as ": …" for a Reason.
func detail(msg string, body []byte) string {
	if msg != "" {
		return ": " + clip(msg)
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return ": " + clip(s)
	}
	return ""
}

// clip bounds vendor text placed into a Reason.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// transportOutcome is the Retry for a request that got no answer.
func transportOutcome(what string, err error) outcome {
	return outcome{verdict: vendors.Retry, code: "transport", reason: fmt.Sprintf("%s: %v", what, err), noAnswer: true}
}
