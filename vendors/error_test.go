package vendors

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestResultOf: a failed Result goes through an error chain as its *Error
// and comes back whole; Delivered has no error, and an error without an
// *Error has no Result.
func TestResultOf(t *testing.T) {
	r := Result{Verdict: Retry, Code: "429", Reason: "slow down", RetryAfter: 7 * time.Second, Throttled: true}
	err := fmt.Errorf("token fetch: %w", r.Err())
	got, ok := ResultOf(err)
	if !ok || got != r {
		t.Fatalf("ResultOf = %+v, %v; want %+v", got, ok, r)
	}
	var e *Error
	if !errors.As(err, &e) || !e.Retryable() || e.Error() != "vendors: retry 429: slow down" {
		t.Errorf("the *Error: %+v (%v)", e, e)
	}
	if (Result{Verdict: Delivered}).Err() != nil {
		t.Error("Delivered has an error")
	}
	if _, ok := ResultOf(errors.New("plain")); ok {
		t.Error("a plain error has a Result")
	}
	if _, ok := ResultOf(nil); ok {
		t.Error("nil has a Result")
	}
}
