package testutil

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// WaitFor polls cond until it holds and fails t (Fatal: call it from the
// test's goroutine) if it still does not after timeout. It is for what
// MUST happen: timeout is a generous bound on waiting, never a
// measurement, and a test must not use WaitFor's failing to prove that
// something did not happen. msgAndArgs says what was awaited: a format
// and its arguments, or values printed as fmt.Sprint does.
//
// cond runs on the caller's goroutine, first at once, then after a few
// runtime.Gosched calls, then after sleeps growing to 10ms; it runs once
// more at the deadline before the test fails.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, message(msgAndArgs))
	}
}

// CheckFor polls f as WaitFor polls its condition until f returns nil;
// after timeout it fails t with f's last error, which should say what
// was seen (as nats-server's checkFor does).
func CheckFor(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	var err error
	if !poll(timeout, func() bool { err = f(); return err == nil }) {
		t.Fatalf("timed out after %v: %v", timeout, err)
	}
}

// poll reports whether cond held before timeout passed.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := 50 * time.Microsecond
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		if i < 10 {
			runtime.Gosched()
			continue
		}
		time.Sleep(min(wait, time.Until(deadline)))
		wait = min(2*wait, 10*time.Millisecond)
	}
}

func message(msgAndArgs []any) string {
	switch {
	case len(msgAndArgs) == 0:
		return "the condition"
	case len(msgAndArgs) > 1:
		if format, ok := msgAndArgs[0].(string); ok {
			return fmt.Sprintf(format, msgAndArgs[1:]...)
		}
	}
	return fmt.Sprint(msgAndArgs...)
}
