// Package retryafter reads the Retry-After header of a vendor's answer
// (RFC 9110 §10.2.3) for every vendor client: delay-seconds or an
// HTTP-date, the latter measured from the caller's clock, never more than
// Max.
//
// The result is a wait, 0 meaning "none given": an empty or unreadable
// value, zero or negative seconds, and a date not after now are all 0, so
// a caller that has its own default for a missing wait (FCM's quota
// backoff) applies it to all of them alike.
package retryafter

import (
	"net/http"
	"strings"
	"time"
)

// Max is the longest wait Parse returns: a day. The longest wait a vendor
// means is a spent daily quota, which lasts until the vendor's next
// midnight; anything longer is a mistake or garbage, and read as it stands
// a large delay-seconds value overflows time.Duration (which ends after
// about 292 years) into a negative or arbitrary wait. A longer value is
// read as Max: the vendor asked for a long wait, and gets the longest.
const Max = 24 * time.Hour

// maxSeconds is Max in whole seconds.
const maxSeconds = int64(Max / time.Second)

// Parse is the wait value asks for at now, 0 when it asks for none (see
// the package doc), at most Max. value is delay-seconds (decimal digits
// only: no sign, no fraction) or an HTTP-date in any of the forms
// http.ParseTime reads; surrounding white space is ignored.
func Parse(value string, now time.Time) time.Duration {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0
	}
	if s, ok := seconds(v); ok {
		return time.Duration(s) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil || !t.After(now) {
		return 0
	}
	// t.Sub saturates instead of overflowing.
	return min(t.Sub(now), Max)
}

// FromHeader is Parse of h's Retry-After header.
func FromHeader(h http.Header, now time.Time) time.Duration {
	return Parse(h.Get("Retry-After"), now)
}

// seconds reads v as delay-seconds, saturating at maxSeconds; ok is false
// when v is not all decimal digits.
func seconds(v string) (int64, bool) {
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxSeconds), true
}
