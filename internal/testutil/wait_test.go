package testutil

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 100 {
			n.Add(1)
		}
	}()
	WaitFor(t, 10*time.Second, func() bool { return n.Load() == 100 }, "the counter at %d", 100)

	calls := 0
	WaitFor(t, time.Nanosecond, func() bool { calls++; return true })
	if calls != 1 {
		t.Fatalf("a condition that holds at once was called %d times", calls)
	}
}

func TestWaitForFailsWithTheMessage(t *testing.T) {
	for _, tc := range []struct {
		args []any
		want string
	}{
		{nil, "waiting for the condition"},
		{[]any{"the sim"}, "waiting for the sim"},
		{[]any{"%d pushes at %s", 3, "apns"}, "waiting for 3 pushes at apns"},
		{[]any{42, "x"}, "waiting for 42x"},
	} {
		rec := &recordTB{TB: t}
		calls := 0
		start := time.Now()
		WaitFor(rec, 30*time.Millisecond, func() bool { calls++; return false }, tc.args...)
		if len(rec.fatals) != 1 || !strings.Contains(rec.fatals[0], tc.want) || !strings.Contains(rec.fatals[0], "30ms") {
			t.Errorf("WaitFor(%v): failures %q, want one saying %q", tc.args, rec.fatals, tc.want)
		}
		if time.Since(start) < 30*time.Millisecond || calls < 2 {
			t.Errorf("WaitFor(%v) gave up before its deadline, after %d calls", tc.args, calls)
		}
	}
}

func TestCheckForReportsTheLastError(t *testing.T) {
	n := 0
	CheckFor(t, 10*time.Second, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	rec := &recordTB{TB: t}
	n = 0
	CheckFor(rec, 20*time.Millisecond, func() error { n++; return fmt.Errorf("seen %d", n) })
	if len(rec.fatals) != 1 || !strings.Contains(rec.fatals[0], fmt.Sprintf("seen %d", n)) {
		t.Fatalf("failures %q, want one with the last error (seen %d)", rec.fatals, n)
	}
}

func TestFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.txt")
	WriteFile(t, p, "hello")
	if got := string(ReadFile(t, p)); got != "hello" {
		t.Fatalf("read %q", got)
	}
	rec := &recordTB{TB: t}
	if b := ReadFile(rec, filepath.Join(t.TempDir(), "missing")); b != nil || len(rec.fatals) != 1 {
		t.Fatalf("ReadFile of a missing file: %q, failures %q", b, rec.fatals)
	}
	WriteFile(rec, filepath.Join(p, "not-a-dir"), "x")
	if len(rec.fatals) != 2 {
		t.Fatalf("WriteFile under a file: failures %q", rec.fatals)
	}
}
