package oppo

import (
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
)

// OPPO return codes: the public codes (-2…67) every API shares and the
// per-registration-id business code 10000.
const (
	codeFlowControl          = -2    // Service in Flow Control
	codeUnavailable          = -1    // Service Currently Unavailable
	codeSuccess              = 0     // Success
	codeInvalidAuthToken     = 11    // Invalid AuthToken
	codeHTTPActionNotAllowed = 12    // Http Action Not Allowed
	codeAppCallLimited       = 13    // App Call Limited
	codeInvalidAppKey        = 14    // Invalid App Key
	codeMissingAppKey        = 15    // Missing App Key
	codeInvalidSignature     = 16    // Invalid Signature
	codeMissingSignature     = 17    // Missing Signature
	codeMissingTimestamp     = 18    // Missing Timestamp
	codeInvalidTimestamp     = 19    // Invalid Timestamp
	codeMissingAuthToken     = 29    // Missing Auth Token
	codeDailyLimit           = 33    // The number of messages exceeds the daily limit
	codeMissingArguments     = 40    // Missing Required Arguments
	codeInvalidArguments     = 41    // Invalid Arguments
	codeCallFrequencyLimit   = 55    // App Call Frequency Limit
	codeCategoryError        = 67    // Category error / notify_level invalid
	codeInvalidRegID         = 10000 // Invalid Registration_id
)

// describe maps an OPPO code to its verdict and OPPO's English text. Code
// 11 is CredentialsBroken here because the send path only gets to map it
// after a refreshed token was refused too.
func describe(code int) (vendors.Verdict, string) {
	switch code {
	case codeSuccess:
		return vendors.Delivered, "Success"
	case codeFlowControl:
		return vendors.Retry, "Service in Flow Control"
	case codeUnavailable:
		return vendors.Retry, "Service Currently Unavailable"
	case codeAppCallLimited:
		return vendors.Retry, "App Call Limited"
	case codeCallFrequencyLimit:
		return vendors.Retry, "App Call Frequency Limit"
	case codeDailyLimit:
		return vendors.Retry, "The number of messages exceeds the daily limit"
	case codeInvalidAuthToken:
		return vendors.CredentialsBroken, "Invalid AuthToken"
	case codeInvalidAppKey:
		return vendors.CredentialsBroken, "Invalid App Key"
	case codeMissingAppKey:
		return vendors.CredentialsBroken, "Missing App Key"
	case codeInvalidSignature:
		return vendors.CredentialsBroken, "Invalid Signature"
	case codeMissingSignature:
		return vendors.CredentialsBroken, "Missing Signature"
	case codeMissingTimestamp:
		return vendors.CredentialsBroken, "Missing Timestamp"
	case codeInvalidTimestamp:
		return vendors.CredentialsBroken, "Invalid Timestamp"
	case 26:
		return vendors.CredentialsBroken, "IP Black List"
	case 27:
		return vendors.CredentialsBroken, "Access Denied"
	case 28:
		return vendors.CredentialsBroken, "App Disabled"
	case 30:
		return vendors.CredentialsBroken, "Api Permission Denied"
	case codeHTTPActionNotAllowed:
		return vendors.Rejected, "Http Action Not Allowed"
	case 20:
		return vendors.Rejected, "Invalid Method"
	case 21:
		return vendors.Rejected, "Missing Method"
	case 22:
		return vendors.Rejected, "Missing Version"
	case 23:
		return vendors.Rejected, "Invalid Version"
	case 24:
		return vendors.Rejected, "Unsupported Version"
	case 25:
		return vendors.Rejected, "Invalid Encoding"
	case codeMissingAuthToken:
		return vendors.Rejected, "Missing Auth Token"
	case 31:
		return vendors.Rejected, "Data Not Exist"
	case 32:
		return vendors.Rejected, "Data Duplicate"
	case 34:
		return vendors.Rejected, "The number of upload pictures exceeds the daily limit"
	case codeMissingArguments:
		return vendors.Rejected, "Missing Required Arguments"
	case codeInvalidArguments:
		return vendors.Rejected, "Invalid Arguments"
	case 51:
		return vendors.Rejected, "Invalid Picture"
	case 59:
		return vendors.Rejected, "UseSecondaryAction permission denied"
	case codeCategoryError:
		return vendors.Rejected, "Category error/Private classify channel notify_level invalid"
	case codeInvalidRegID:
		return vendors.TokenInvalid, "Invalid Registration_id"
	}
	return vendors.Rejected, "unknown OPPO code"
}

// codeResult is the Result for an OPPO code answered at now; msg is the
// vendor's own message, if any. The daily quota (33) is retried at the next
// quota day, which starts at midnight China Standard Time.
func codeResult(code int, msg string, now time.Time) vendors.Result {
	v, text := describe(code)
	r := vendors.Result{Verdict: v, Code: strconv.Itoa(code), Reason: reason(text, msg),
		// Flow control and quotas: OPPO is up, asking us to slow down.
		Throttled: code == codeFlowControl || code == codeAppCallLimited || code == codeCallFrequencyLimit || code == codeDailyLimit}
	if code == codeDailyLimit {
		r.RetryAfter = untilNextQuotaDay(now)
	}
	return r
}

// reason joins OPPO's table text and the answer's own message.
func reason(text, msg string) string {
	if msg == "" || msg == text {
		return text
	}
	return text + ": " + msg
}

// quotaZone is the zone OPPO's daily quotas roll over in: China Standard
// Time, UTC+8 without daylight saving (a fixed zone, so no tzdata needed).
func quotaZone() *time.Location { return time.FixedZone("CST", 8*60*60) }

// untilNextQuotaDay is how long from now until the next midnight UTC+8.
func untilNextQuotaDay(now time.Time) time.Duration {
	t := now.In(quotaZone())
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
	return next.Sub(now)
}
