package oppo

import (
	"testing"
	"time"
)

// Flow control and quota codes mean OPPO is up and slowing us down:
// Throttled, so the sender's circuit breaker ignores them; "service
// unavailable" is not.
func TestFlowControlCodesAreThrottled(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []int{codeFlowControl, codeAppCallLimited, codeCallFrequencyLimit, codeDailyLimit} {
		if r := codeResult(c, "", now); !r.Throttled {
			t.Errorf("code %d: %+v; want Throttled", c, r)
		}
	}
	if r := codeResult(codeUnavailable, "", now); r.Throttled {
		t.Errorf("unavailable marked Throttled: %+v", r)
	}
}
