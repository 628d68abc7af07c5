package clock_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/internal/testutil"
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

// Every calls f once per interval of the clock, each call seeing its own
// deadline, and never again once stop has returned.
func TestEvery(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := testutil.NewClock(start)
	var got []time.Duration
	stop := clock.Every(c, time.Second, func() { got = append(got, c.Now().Sub(start)) })
	c.Advance(999 * time.Millisecond)
	if len(got) != 0 {
		t.Fatalf("called before the first interval: %v", got)
	}
	c.Advance(2501 * time.Millisecond)
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("calls at %v, want %v", got, want)
	}
	stop()
	if c.Armed() != 0 {
		t.Fatalf("%d timers armed after stop, want 0", c.Armed())
	}
	c.Advance(time.Hour)
	if len(got) != 3 {
		t.Fatalf("called after stop: %v", got)
	}
}

// stop waits for a call in progress: when it returns, f has returned.
// (Whether stop was entered before f was released is up to the
// scheduler, so a stop that does not wait is caught most runs, and a
// correct one never fails.)
func TestEveryStopWaitsForARunningCall(t *testing.T) {
	c := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	entered, release := make(chan struct{}), make(chan struct{})
	var returned atomic.Bool
	stop := clock.Every(c, time.Second, func() {
		close(entered)
		<-release
		returned.Store(true)
	})
	advanced := make(chan struct{})
	go func() { c.Advance(time.Second); close(advanced) }()
	<-entered
	seen := make(chan bool)
	go func() { stop(); seen <- returned.Load() }()
	close(release)
	if !<-seen {
		t.Fatal("stop returned while a call was still running")
	}
	<-advanced
}
