package apns

import (
	"net/http"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// TestResultFor covers every APNs status and reason in vendors.md (and the
// rest of Apple's list).
func TestResultFor(t *testing.T) {
	const ra = 3 * time.Second
	cases := []struct {
		status     int
		reason     string
		verdict    vendors.Verdict
		retryAfter time.Duration
	}{
		{200, "", vendors.Delivered, 0},
		// 400: the first two drop the token.
		{400, "BadDeviceToken", vendors.TokenInvalid, 0},
		{400, "DeviceTokenNotForTopic", vendors.TokenInvalid, 0},
		{400, "BadTopic", vendors.Rejected, 0},
		{400, "MissingTopic", vendors.Rejected, 0},
		{400, "TopicDisallowed", vendors.Rejected, 0},
		{400, "BadCollapseId", vendors.Rejected, 0},
		{400, "BadExpirationDate", vendors.Rejected, 0},
		{400, "BadPriority", vendors.Rejected, 0},
		{400, "InvalidPushType", vendors.Rejected, 0},
		{400, "PayloadEmpty", vendors.Rejected, 0},
		{400, "BadMessageId", vendors.Rejected, 0},
		{400, "DuplicateHeaders", vendors.Rejected, 0},
		{400, "MissingDeviceToken", vendors.Rejected, 0},
		{400, "BadPayload", vendors.Rejected, 0},
		{400, "IdleTimeout", vendors.Retry, 0},
		// 403: credentials.
		{403, "ExpiredProviderToken", vendors.CredentialsBroken, 0},
		{403, "InvalidProviderToken", vendors.CredentialsBroken, 0},
		{403, "MissingProviderToken", vendors.CredentialsBroken, 0},
		{403, "BadCertificate", vendors.CredentialsBroken, 0},
		{403, "BadCertificateEnvironment", vendors.CredentialsBroken, 0},
		{403, "Forbidden", vendors.CredentialsBroken, 0},
		{403, "UnrelatedKeyIdInToken", vendors.CredentialsBroken, 0},
		{403, "BadEnvironmentKeyInToken", vendors.CredentialsBroken, 0},
		{404, "BadPath", vendors.Rejected, 0},
		{405, "MethodNotAllowed", vendors.Rejected, 0},
		{410, "Unregistered", vendors.TokenInvalid, 0},
		{410, "ExpiredToken", vendors.TokenInvalid, 0},
		{413, "PayloadTooLarge", vendors.Rejected, 0},
		{429, "TooManyRequests", vendors.Retry, ra},
		{429, "TooManyProviderTokenUpdates", vendors.Retry, ra},
		{500, "InternalServerError", vendors.Retry, ra},
		{503, "ServiceUnavailable", vendors.Retry, ra},
		{503, "Shutdown", vendors.Retry, ra},
		// Unknown reasons and bare statuses fall back to the status class.
		{400, "SomethingNew", vendors.Rejected, 0},
		{403, "", vendors.CredentialsBroken, 0},
		{410, "", vendors.TokenInvalid, 0},
		{502, "", vendors.Retry, ra},
		{422, "", vendors.Rejected, 0},
		{302, "", vendors.Retry, ra}, // unreachable from Send: pushOnce answers a 3xx with redirectResult
		{204, "", vendors.Retry, ra},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status)+"/"+tc.reason, func(t *testing.T) {
			r := resultFor(tc.status, tc.reason, ra)
			wantCode := tc.reason
			if wantCode == "" && tc.status != 200 {
				wantCode = "HTTP" + itoa(tc.status)
			}
			if r.Verdict != tc.verdict || r.Code != wantCode || r.RetryAfter != tc.retryAfter {
				t.Errorf("resultFor(%d, %q) = %+v, want %v %q after %v", tc.status, tc.reason, r, tc.verdict, wantCode, tc.retryAfter)
			}
			if tc.status != 200 && r.Reason == "" {
				t.Error("no human reason")
			}
		})
	}
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }
