package apns

import (
	"net/http"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
)

// resultFor maps one APNs answer (HTTP status and "reason") to the verdict
// for its token. retryAfter is the Retry-After header, 0 when absent (APNs
// does not document one, but a proxy or a future APNs may send it).
func resultFor(status int, reason string, retryAfter time.Duration) vendors.Result {
	code := reason
	if code == "" && status != http.StatusOK {
		code = "HTTP" + strconv.Itoa(status)
	}
	r := vendors.Result{Code: code, Reason: describe(status, reason)}
	switch {
	case status == http.StatusOK:
		r.Verdict = vendors.Delivered
	case status == http.StatusGone: // Unregistered, ExpiredToken
		r.Verdict = vendors.TokenInvalid
	case status == http.StatusBadRequest && (reason == "BadDeviceToken" || reason == "DeviceTokenNotForTopic"):
		r.Verdict = vendors.TokenInvalid
	case status == http.StatusBadRequest && reason == "IdleTimeout":
		r.Verdict = vendors.Retry // the connection idled out, not the push's fault
	case status == http.StatusForbidden:
		r.Verdict = vendors.CredentialsBroken
	case status == http.StatusTooManyRequests, status >= 500:
		r.Verdict, r.RetryAfter, r.Throttled = vendors.Retry, retryAfter, status == http.StatusTooManyRequests
	case status >= 400:
		r.Verdict = vendors.Rejected
	default:
		// 1xx, other 2xx: not an APNs answer; try again later. (A 3xx
		// from Send never gets here: pushOnce makes it
		// vendors.RedirectResult.)
		r.Verdict, r.RetryAfter = vendors.Retry, retryAfter
	}
	return r
}

// describe is the human reason for an APNs answer.
func describe(status int, reason string) string {
	switch reason {
	case "":
		if status == http.StatusOK {
			return ""
		}
		return "APNs answered HTTP " + strconv.Itoa(status) + " " + http.StatusText(status) + " without a reason"
	case "BadCollapseId":
		return "the collapse identifier exceeds 64 bytes"
	case "BadDeviceToken":
		return "the device token is invalid or belongs to the other environment"
	case "BadExpirationDate":
		return "the apns-expiration value is bad"
	case "BadMessageId":
		return "the apns-id value is bad"
	case "BadPriority":
		return "the apns-priority value is bad"
	case "BadTopic":
		return "the apns-topic value is bad"
	case "DeviceTokenNotForTopic":
		return "the device token does not match the topic"
	case "DuplicateHeaders":
		return "one or more headers were repeated"
	case "IdleTimeout":
		return "the connection idled out"
	case "InvalidPushType":
		return "the apns-push-type value is invalid"
	case "MissingDeviceToken":
		return "no device token in the request path"
	case "MissingTopic":
		return "the apns-topic header is required"
	case "PayloadEmpty":
		return "the payload is empty"
	case "TopicDisallowed":
		return "pushing to this topic is not allowed"
	case "BadCertificate":
		return "the client certificate was refused"
	case "BadCertificateEnvironment":
		return "the client certificate is for the other environment"
	case "ExpiredProviderToken":
		return "the provider token is older than an hour"
	case "Forbidden":
		return "the action is not allowed"
	case "InvalidProviderToken":
		return "the provider token is invalid or its signature does not verify"
	case "MissingProviderToken":
		return "no provider token and no client certificate"
	case "UnrelatedKeyIdInToken", "BadEnvironmentKeyInToken", "BadEnvironmentKeyIdInToken":
		return "the provider token's key does not fit this team, topic or environment"
	case "BadPath":
		return "the request path is bad"
	case "MethodNotAllowed":
		return "the request method was not POST"
	case "Unregistered":
		return "the device token is no longer active for the topic"
	case "ExpiredToken":
		return "the device token has expired"
	case "PayloadTooLarge":
		return "the payload is too large"
	case "TooManyProviderTokenUpdates":
		return "the provider token is re-signed too often"
	case "TooManyRequests":
		return "too many requests to the same device token"
	case "InternalServerError":
		return "APNs internal server error"
	case "ServiceUnavailable":
		return "APNs is unavailable"
	case "Shutdown":
		return "the APNs server is shutting down"
	}
	return "APNs answered HTTP " + strconv.Itoa(status) + " " + reason
}
