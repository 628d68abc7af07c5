package actors

import (
	"slices"
	"testing"
	"time"
)

// The deprecated ManualClock (kept for the daemon's tests until they use
// testutil.Clock) fires its timers in deadline order as Advance passes
// them, each seeing its deadline as the time; stopped and reset timers
// fire accordingly.
func TestManualClockFiresItsTimers(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManualClock(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(start).String()) }
	}
	c.AfterFunc(2*time.Second, at("b"))
	c.AfterFunc(time.Second, at("a"))
	stopped := c.AfterFunc(time.Second, at("stopped"))
	moved := c.AfterFunc(time.Second, at("moved"))
	ch := c.NewTimer(3 * time.Second)
	if !stopped.Stop() || !moved.Reset(5*time.Second) {
		t.Fatal("Stop or Reset of an armed timer reported false")
	}
	c.Advance(3 * time.Second)
	if want := []string{"a@1s", "b@2s"}; !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	select {
	case v := <-ch.C():
		if !v.Equal(start.Add(3 * time.Second)) {
			t.Fatalf("NewTimer sent %v", v)
		}
	default:
		t.Fatal("NewTimer did not fire at its deadline")
	}
	c.Advance(2 * time.Second)
	if len(got) != 3 || got[2] != "moved@5s" {
		t.Fatalf("fired %v, want moved@5s last", got)
	}
}
