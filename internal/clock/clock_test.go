package clock_test

import (
	"testing"
	"time"

	"github.com/herald-push/herald/internal/clock"
)

// System is package time: its timers keep *time.Timer's semantics, which
// testutil.Clock copies.
func TestSystem(t *testing.T) {
	var c clock.Clock = clock.System{}
	if d := time.Since(c.Now()); d < 0 || d > time.Minute {
		t.Fatalf("System.Now is %v away from time.Now", d)
	}

	tm := c.NewTimer(time.Millisecond)
	if tm.C() == nil {
		t.Fatal("NewTimer: nil channel")
	}
	<-tm.C()
	if tm.Stop() {
		t.Error("Stop after the value was received: true, want false")
	}
	if tm.Reset(time.Hour) {
		t.Error("Reset of a fired timer: true, want false")
	}
	if !tm.Stop() {
		t.Error("Stop of an armed timer: false, want true")
	}

	ran := make(chan struct{})
	af := c.AfterFunc(time.Millisecond, func() { close(ran) })
	if af.C() != nil {
		t.Error("AfterFunc: want a nil channel")
	}
	<-ran
	if af.Stop() {
		t.Error("Stop after f ran: true, want false")
	}

	held := c.AfterFunc(time.Hour, func() { t.Error("a stopped AfterFunc ran") })
	if !held.Stop() || held.Stop() {
		t.Error("Stop of an armed AfterFunc then again: want true, false")
	}
}
