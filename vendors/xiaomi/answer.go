package xiaomi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// MiPush business codes (HTTP 200, "code" in the JSON body).
const (
	CodeOK              = 0
	CodeSystemError     = 10001 // retryable
	CodeSystemBusy      = 10002 // retryable
	CodeRemoteError     = 10003 // retryable
	CodeMissingParam    = 10016
	CodeIllegalParam    = 10017
	CodeTooOften        = 10027 // API called too often: flow control
	CodeDailyQuota      = 10034 // too many messages today
	CodeSendFailed      = 20301 // no target accepted: every regid is bad
	CodeAuthFailed      = 21301 // AppSecret refused
	CodeBadPackage      = 22022
	CodeChannelMismatch = 27001
)

// answer is MiPush's JSON reply, success or error:
//
//	{"result":"ok","code":0,"trace_id","description","info","data":{"id","bad_regids":"r1,r2"}}
//	{"result":"error","code":N,"reason","description","trace_id"}
//
// Every field is lax (flexjson): MiPush and the SDKs in the wild have been
// seen to send a number or a numeric string for one field, a string or an
// array for another, and a field of an unexpected shape reads as absent,
// so that a shape change never turns an answer unreadable.
type answer struct {
	Result      flexjson.LaxString `json:"result"`
	Code        flexjson.LaxInt    `json:"code"`
	Reason      flexjson.LaxString `json:"reason"`
	Description flexjson.LaxString `json:"description"`
	Data        json.RawMessage    `json:"data"`
}

// answerData is the "data" object of a successful answer.
type answerData struct {
	ID        flexjson.LaxString `json:"id"`
	BadRegIDs flexjson.LaxList   `json:"bad_regids"` // "r1,r2" or ["r1","r2"]
}

// codeMeaning is the verdict and a human meaning of a MiPush code.
func codeMeaning(code int) (vendors.Verdict, string) {
	switch code {
	case CodeSystemError:
		return vendors.Retry, "MiPush system error"
	case CodeSystemBusy:
		return vendors.Retry, "MiPush busy"
	case CodeRemoteError:
		return vendors.Retry, "MiPush remote service error"
	case CodeMissingParam:
		return vendors.Rejected, "missing required parameter"
	case CodeIllegalParam:
		return vendors.Rejected, "illegal parameter"
	case CodeTooOften:
		return vendors.Retry, "API called too often"
	case CodeDailyQuota:
		return vendors.Retry, "daily message quota spent; it resets at midnight Beijing time"
	case CodeSendFailed:
		return vendors.TokenInvalid, "send failed: no valid target"
	case CodeAuthFailed:
		return vendors.CredentialsBroken, "authentication failed: AppSecret refused"
	case CodeBadPackage:
		return vendors.Rejected, "package name refused"
	case CodeChannelMismatch:
		return vendors.Rejected, "channel_id does not match the app's channels"
	}
	return vendors.Rejected, "unknown MiPush error"
}

// interpreter turns HTTP answers into per-target Results.
type interpreter struct {
	now    func() time.Time
	redact func(string) string // scrubs credentials from vendor text
}

// interpret maps one HTTP answer to one Result per regID. It never fails:
// an unreadable answer becomes a Result saying so.
func (in interpreter) interpret(status int, header http.Header, body []byte, regIDs []string) []vendors.Result {
	if vendors.IsRedirect(status) {
		// Whatever the body says: the client did not follow it.
		r := vendors.RedirectResult("MiPush", status, header.Get("Location"))
		r.Reason = in.redact(r.Reason)
		return vendors.Fill(len(regIDs), r)
	}
	a, ok := parseAnswer(body)
	switch {
	case !ok || (!a.Code.Set && a.Result != "ok"):
		return vendors.Fill(len(regIDs), in.statusResult(status, header, body))
	case a.Code.N != CodeOK:
		return vendors.Fill(len(regIDs), in.codeResult(a, header))
	case status/100 != 2:
		return vendors.Fill(len(regIDs), in.statusResult(status, header, body))
	}
	var data answerData
	if len(a.Data) > 0 {
		_ = json.Unmarshal(a.Data, &data) // data of an unexpected shape = no bad regids
	}
	bad := make(map[string]bool, len(data.BadRegIDs))
	for _, id := range data.BadRegIDs {
		bad[id] = true
	}
	out := make([]vendors.Result, len(regIDs))
	for i, id := range regIDs {
		if bad[id] {
			out[i] = vendors.Result{Verdict: vendors.TokenInvalid, Code: "bad_regids",
				Reason: "MiPush listed the registration id in bad_regids"}
			continue
		}
		out[i] = vendors.Result{Verdict: vendors.Delivered, Code: "0"}
		if data.ID != "" {
			out[i].Reason = "accepted as " + in.redact(string(data.ID))
		}
	}
	return out
}

// codeResult is the Result for a non-zero business code.
func (in interpreter) codeResult(a answer, header http.Header) vendors.Result {
	v, meaning := codeMeaning(a.Code.N)
	r := vendors.Result{Verdict: v, Code: strconv.Itoa(a.Code.N), Reason: meaning,
		Throttled: a.Code.N == CodeTooOften || a.Code.N == CodeDailyQuota} // quota: MiPush is up
	if detail := in.redact(strings.TrimSpace(cmpJoin(string(a.Reason), string(a.Description)))); detail != "" {
		r.Reason += ": " + detail
	}
	if v == vendors.Retry {
		if a.Code.N == CodeDailyQuota {
			r.RetryAfter = untilChinaMidnight(in.now())
		} else {
			r.RetryAfter = retryafter.FromHeader(header, in.now())
		}
	}
	return r
}

// statusResult is the Result for an answer without a business code.
func (in interpreter) statusResult(status int, header http.Header, body []byte) vendors.Result {
	code := "HTTP " + strconv.Itoa(status)
	detail := in.redact(snippet(body))
	switch {
	case status/100 == 2:
		return vendors.Result{Verdict: vendors.Retry, Code: "malformed_response",
			Reason: code + " with an unreadable body: " + detail}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return vendors.Result{Verdict: vendors.CredentialsBroken, Code: code,
			Reason: "MiPush refused the credentials: " + detail}
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status/100 == 5:
		return vendors.Result{Verdict: vendors.Retry, Code: code, Throttled: status == http.StatusTooManyRequests,
			Reason: "MiPush unavailable: " + detail, RetryAfter: retryafter.FromHeader(header, in.now())}
	}
	return vendors.Result{Verdict: vendors.Rejected, Code: code, Reason: "MiPush refused the request: " + detail}
}

// parseAnswer decodes a MiPush JSON answer; false if body is not one.
func parseAnswer(body []byte) (answer, bool) {
	var a answer
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return a, false
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, false
	}
	return a, true
}

// untilChinaMidnight is how long until MiPush's day (Beijing time, UTC+8,
// no daylight saving) starts again.
func untilChinaMidnight(now time.Time) time.Duration {
	cst := time.FixedZone("CST", 8*60*60)
	y, m, d := now.In(cst).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, cst).Sub(now)
}

// snippet is a short printable excerpt of a body for a Reason.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return "empty body"
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return truncate(s, 200)
}

func cmpJoin(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return a + " (" + b + ")"
}
