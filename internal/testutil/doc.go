// Package testutil holds helpers shared by herald's tests: a manual clock
// (Clock) that fires its timers when the test moves it, polling with a
// deadline for what must happen (WaitFor, CheckFor), and file helpers
// that fail the test on error (WriteFile, ReadFile).
//
// It is imported by _test.go files only. Nothing here keeps package-level
// state.
package testutil
