package testutil

import "testing"

// SkipShort skips a slow test under go test -short (the inner loop); the
// full suite runs it. what names the test and why it is slow.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip(what + ": long; runs in the full suite")
	}
}
