package vivo

import (
	"testing"
	"time"
)

// Quota and too-fast codes mean vivo is up and slowing us down: Throttled,
// so the sender's circuit breaker ignores them.
func TestQuotaCodesAreThrottled(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []int{codeDailyTotal, codeTooFast, codeListPayloadLimit, codeBroadcastLimit} {
		if r := codeResult(c, "", now); !r.Throttled {
			t.Errorf("code %d: %+v; want Throttled", c, r)
		}
	}
	if r := codeResult(codeAuthFailed, "", now); r.Throttled {
		t.Errorf("auth failure marked Throttled: %+v", r)
	}
}
