package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/retryafter"
)

// quotaBackoff is FCM's documented minimum wait after QUOTA_EXCEEDED
// ("exponential backoff with a minimum initial delay of 1 minute"), used
// when the answer has no Retry-After.
const quotaBackoff = time.Minute

// Detail types in a Google API error.
const (
	typeFcmError   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	typeErrorInfo  = "type.googleapis.com/google.rpc.ErrorInfo"
	typeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
)

// answer is an FCM error answer reduced to what decides the verdict.
type answer struct {
	httpStatus int
	status     string // error.status, the canonical code (NOT_FOUND, UNAUTHENTICATED…)
	fcmCode    string // the FcmError detail's errorCode (UNREGISTERED…)
	reason     string // the ErrorInfo detail's reason (ACCESS_TOKEN_EXPIRED…)
	message    string
	aboutToken bool // an INVALID_ARGUMENT that names the registration token
	retryAfter time.Duration
	location   string // a redirect's Location
}

// apiError is the JSON of a Google API error body.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			Reason          string `json:"reason"`
			FieldViolations []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// parseAnswer reads an error response. A body that is not a Google API
// error still yields the HTTP status.
func parseAnswer(status int, header http.Header, body []byte, now time.Time) answer {
	a := answer{httpStatus: status, retryAfter: retryafter.FromHeader(header, now)}
	if vendors.IsRedirect(status) {
		a.location = header.Get("Location")
	}
	var e apiError
	if json.Unmarshal(body, &e) == nil {
		a.status, a.message = e.Error.Status, e.Error.Message
		for _, d := range e.Error.Details {
			switch d.Type {
			case typeFcmError:
				if a.fcmCode == "" {
					a.fcmCode = d.ErrorCode
				}
			case typeErrorInfo:
				if a.reason == "" {
					a.reason = d.Reason
				}
			case typeBadRequest:
				for _, v := range d.FieldViolations {
					if v.Field == "message.token" {
						a.aboutToken = true
					}
				}
			}
		}
	}
	if strings.Contains(strings.ToLower(a.message), "registration token") {
		a.aboutToken = true
	}
	if a.message == "" {
		a.message = http.StatusText(status)
	}
	return a
}

// answerOf reads an error returned by messaging.Client.Send: the codes
// through the SDK's own predicates, the rest from the buffered response.
// ok is false for errors that carry no HTTP answer.
func answerOf(err error, now time.Time) (a answer, ok bool) {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return answer{}, false
	}
	var body []byte
	if resp.Body != nil {
		body, _ = readAll(resp.Body)
	}
	a = parseAnswer(resp.StatusCode, resp.Header, body, now)
	// The SDK's predicates are the reference for the codes it knows.
	switch {
	case messaging.IsUnregistered(err):
		a.fcmCode = "UNREGISTERED"
	case messaging.IsSenderIDMismatch(err):
		a.fcmCode = "SENDER_ID_MISMATCH"
	case messaging.IsThirdPartyAuthError(err):
		if a.fcmCode == "" {
			a.fcmCode = "THIRD_PARTY_AUTH_ERROR"
		}
	case messaging.IsQuotaExceeded(err):
		a.fcmCode = "QUOTA_EXCEEDED"
	case messaging.IsUnavailable(err):
		a.fcmCode = "UNAVAILABLE"
	case messaging.IsInternal(err):
		a.fcmCode = "INTERNAL"
	case messaging.IsInvalidArgument(err):
		a.fcmCode = "INVALID_ARGUMENT"
	}
	if a.status == "" {
		a.status = platformStatus(err)
	}
	return a, true
}

// platformStatus is the canonical code the SDK derived for err (from the
// body's status, else the HTTP status).
func platformStatus(err error) string {
	for _, c := range []struct {
		is   func(error) bool
		name string
	}{
		{errorutils.IsInvalidArgument, "INVALID_ARGUMENT"},
		{errorutils.IsUnauthenticated, "UNAUTHENTICATED"},
		{errorutils.IsPermissionDenied, "PERMISSION_DENIED"},
		{errorutils.IsNotFound, "NOT_FOUND"},
		{errorutils.IsResourceExhausted, "RESOURCE_EXHAUSTED"},
		{errorutils.IsInternal, "INTERNAL"},
		{errorutils.IsUnavailable, "UNAVAILABLE"},
		{errorutils.IsFailedPrecondition, "FAILED_PRECONDITION"},
		{errorutils.IsDeadlineExceeded, "DEADLINE_EXCEEDED"},
	} {
		if c.is(err) {
			return c.name
		}
	}
	return ""
}

// verdict is the answer → Result table (see the package doc).
func verdict(a answer) vendors.Result {
	if vendors.IsRedirect(a.httpStatus) {
		// Whatever the body says: the client did not follow it.
		return vendors.RedirectResult("fcm: messages:send", a.httpStatus, a.location)
	}
	code := a.fcmCode
	if code == "" {
		code = a.status
	}
	if code == "" {
		code = "HTTP_" + strconv.Itoa(a.httpStatus)
	}
	r := vendors.Result{Code: code, Reason: a.message}
	if a.reason != "" {
		r.Reason += " (" + a.reason + ")"
	}
	switch {
	case a.fcmCode == "UNREGISTERED", a.fcmCode == "SENDER_ID_MISMATCH":
		r.Verdict = vendors.TokenInvalid
	case a.fcmCode == "INVALID_ARGUMENT" || a.status == "INVALID_ARGUMENT":
		r.Code = "INVALID_ARGUMENT"
		r.Verdict = vendors.Rejected
		if a.aboutToken {
			r.Verdict = vendors.TokenInvalid
		}
	case a.fcmCode == "THIRD_PARTY_AUTH_ERROR", a.fcmCode == "APNS_AUTH_ERROR":
		r.Verdict = vendors.CredentialsBroken
	case a.fcmCode == "QUOTA_EXCEEDED", a.status == "RESOURCE_EXHAUSTED", a.httpStatus == http.StatusTooManyRequests:
		r.Verdict, r.RetryAfter, r.Throttled = vendors.Retry, a.retryAfter, true
		if r.RetryAfter <= 0 {
			r.RetryAfter = quotaBackoff
		}
	case a.fcmCode == "UNAVAILABLE", a.fcmCode == "INTERNAL", a.status == "UNAVAILABLE", a.status == "INTERNAL",
		a.status == "DEADLINE_EXCEEDED", a.httpStatus >= 500:
		r.Verdict, r.RetryAfter = vendors.Retry, a.retryAfter
	case a.status == "UNAUTHENTICATED", a.status == "PERMISSION_DENIED",
		a.httpStatus == http.StatusUnauthorized, a.httpStatus == http.StatusForbidden:
		r.Verdict = vendors.CredentialsBroken
	default:
		// NOT_FOUND without an UNREGISTERED detail, FAILED_PRECONDITION,
		// other 4xx: the request is wrong, the token is not known to be.
		r.Verdict = vendors.Rejected
	}
	return r
}

// refusedBearer reports whether FCM refused our own access token (as
// opposed to a third-party credential, which carries an FcmError detail).
func refusedBearer(a answer) bool {
	return a.httpStatus == http.StatusUnauthorized && a.fcmCode == ""
}

// transportResult classifies a failure that produced no FCM answer: the
// token endpoint's refusal, a timeout, a dead connection, a cancellation.
func transportResult(ctx context.Context, err error, now time.Time) vendors.Result {
	var te *tokenError
	if errors.As(err, &te) {
		return tokenResult(te, now)
	}
	switch {
	case ctx.Err() != nil:
		return vendors.Result{Verdict: vendors.Retry, Code: "CANCELLED", Reason: "fcm: " + ctx.Err().Error()}
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return vendors.Result{Verdict: vendors.Retry, Code: "DEADLINE_EXCEEDED", Reason: "fcm: request timed out: " + err.Error()}
	}
	return vendors.Result{Verdict: vendors.Retry, Code: "TRANSPORT", Reason: "fcm: " + err.Error()}
}

// tokenResult classifies a failed token fetch. The endpoint's 4xx (RFC 6749
// invalid_grant, invalid_client…) means the service account is refused;
// anything else may pass.
func tokenResult(te *tokenError, now time.Time) vendors.Result {
	var re *oauth2.RetrieveError
	if !errors.As(te, &re) || re.Response == nil {
		return vendors.Result{Verdict: vendors.Retry, Code: "TOKEN_FETCH", Reason: te.Error()}
	}
	code, desc := re.ErrorCode, re.ErrorDescription
	if code == "" {
		var body struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &body) == nil {
			code, desc = body.Error, body.ErrorDescription
		}
	}
	status := re.Response.StatusCode
	if vendors.IsRedirect(status) {
		return vendors.RedirectResult("fcm: token endpoint", status, re.Response.Header.Get("Location"))
	}
	if code == "" {
		code = "TOKEN_HTTP_" + strconv.Itoa(status)
	}
	reason := "fcm: token endpoint answered " + strconv.Itoa(status)
	if desc != "" {
		reason += ": " + desc
	}
	r := vendors.Result{Code: code, Reason: reason}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		r.Verdict = vendors.Retry
		r.RetryAfter = retryafter.FromHeader(re.Response.Header, now)
	default:
		r.Verdict = vendors.CredentialsBroken
	}
	return r
}
