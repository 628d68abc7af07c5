package vivo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// answer is any vivo response body. vivo documents numbers for result and
// status and strings for taskId; each is also read in the other form
// (flexjson's Int and String).
type answer struct {
	Result       int
	Desc         string
	TaskID       string
	AuthToken    string
	InvalidUser  *invalidUser
	InvalidUsers []invalidUser
}

type invalidUser struct {
	UserID string
	Status int
}

type wireAnswer struct {
	Result       flexjson.Int      `json:"result"`
	Desc         string            `json:"desc"`
	TaskID       flexjson.String   `json:"taskId"`
	AuthToken    string            `json:"authToken"`
	InvalidUser  *wireInvalidUser  `json:"invalidUser"`
	InvalidUsers []wireInvalidUser `json:"invalidUsers"`
}

type wireInvalidUser struct {
	UserID string       `json:"userid"`
	Status flexjson.Int `json:"status"`
}

func (u wireInvalidUser) user() invalidUser { return invalidUser{UserID: u.UserID, Status: u.Status.N} }

// parseAnswer decodes a 200 body; a body without "result" is malformed.
func parseAnswer(raw []byte) (answer, error) {
	var w wireAnswer
	if err := json.Unmarshal(raw, &w); err != nil {
		return answer{}, fmt.Errorf("vivo: answer: %w", err)
	}
	if !w.Result.Set {
		return answer{}, errors.New("vivo: answer: no result field")
	}
	a := answer{
		Result:    w.Result.N,
		Desc:      w.Desc,
		TaskID:    string(w.TaskID),
		AuthToken: w.AuthToken,
	}
	if w.InvalidUser != nil {
		u := w.InvalidUser.user()
		a.InvalidUser = &u
	}
	if w.InvalidUsers != nil {
		a.InvalidUsers = make([]invalidUser, len(w.InvalidUsers))
		for i, u := range w.InvalidUsers {
			a.InvalidUsers[i] = u.user()
		}
	}
	return a, nil
}

// codeResult maps a non-zero business code of a send endpoint to the
// result for every token of the request. now dates quota waits.
func codeResult(code int, desc string, now time.Time) vendors.Result {
	r := vendors.Result{Code: strconv.Itoa(code), Reason: desc}
	switch {
	case code == codeAuthFailed:
		r.Verdict = vendors.CredentialsBroken
	case code == codeDailyTotal, code == codeListPayloadLimit, code == codeBroadcastLimit:
		r.Verdict, r.RetryAfter, r.Throttled = vendors.Retry, untilNextVivoDay(now), true
	case code == codeTooFast:
		r.Verdict, r.RetryAfter, r.Throttled = vendors.Retry, time.Second, true
	case code == codeAppMismatch:
		r.Verdict = vendors.CredentialsBroken
	case code >= codeAuthAppIDEmpty && code <= codeAuthLast:
		r.Verdict = vendors.CredentialsBroken
	case code == codeRegIDInvalid:
		r.Verdict = vendors.TokenInvalid
	default: // 10096/10097 and every other parameter error
		r.Verdict = vendors.Rejected
	}
	if r.Reason == "" {
		r.Reason = "vivo result " + r.Code
	}
	return r
}

// authCodeResult maps a non-zero /message/auth code: every one means our
// appId, appKey, secret or clock is wrong, except flow control.
func authCodeResult(code int, desc string) vendors.Result {
	r := vendors.Result{Verdict: vendors.CredentialsBroken, Code: strconv.Itoa(code), Reason: "auth: " + desc}
	if code == codeTooFast {
		r.Verdict, r.RetryAfter = vendors.Retry, time.Second
	}
	return r
}

// statusResult maps an invalidUser status to the token's result.
func statusResult(status int, desc string) vendors.Result {
	r := vendors.Result{Verdict: vendors.TokenInvalid, Code: "invalidUser:" + strconv.Itoa(status)}
	switch status {
	case statusUnknown:
		r.Reason = "regId does not exist"
	case statusUnsubscribe:
		r.Reason = "app uninstalled or notifications turned off"
	case statusInactive:
		r.Reason = "device inactive for 90 days"
	case statusNotTester:
		r.Verdict, r.Reason = vendors.Rejected, "not a test device"
	default:
		r.Verdict, r.Reason = vendors.Rejected, "unknown invalidUser status"
	}
	if desc != "" {
		r.Reason += " (" + desc + ")"
	}
	return r
}

// httpResult maps a non-200 status. vivo documents only 500 ("Internet
// server error!"); any 5xx is transient, 429 honours Retry-After, and a
// 3xx is a refused redirect (vendors.RedirectResult: Misconfigured).
func httpResult(status int, header http.Header, body []byte, now time.Time) vendors.Result {
	if vendors.IsRedirect(status) {
		return vendors.RedirectResult("vivo", status, header.Get("Location"))
	}
	r := vendors.Result{Code: "http_" + strconv.Itoa(status), Reason: excerpt(body)}
	switch {
	case status >= 500, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		r.Verdict, r.Throttled = vendors.Retry, status == http.StatusTooManyRequests
		r.RetryAfter = retryafter.FromHeader(header, now)
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		r.Verdict = vendors.CredentialsBroken
	default:
		r.Verdict = vendors.Rejected
	}
	if r.Reason == "" {
		r.Reason = http.StatusText(status)
	}
	return r
}

// untilNextVivoDay is the wait until the next midnight China Standard
// Time (UTC+8, no DST), when vivo's daily counters roll over.
func untilNextVivoDay(now time.Time) time.Duration {
	cst := time.FixedZone("CST", 8*3600)
	t := now.In(cst)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, cst)
	return next.Sub(now)
}

// excerpt is a short printable piece of a body for a Reason.
func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.ToValidUTF8(s, "?")
}
