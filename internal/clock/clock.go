// Package clock is herald's time seam: code that reads the time or waits
// for it takes a Clock, so tests can drive it with a manual clock
// (internal/testutil.Clock) instead of sleeping. System is the wall clock.
//
// The package is a leaf: it imports only the standard library.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and arms timers on it.
type Clock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// AfterFunc arms a timer that calls f once d has passed on this
	// clock. Its Timer has no channel (C returns nil). Where f runs is
	// the implementation's to say: System runs it in its own goroutine,
	// as time.AfterFunc does.
	AfterFunc(d time.Duration, f func()) Timer
	// NewTimer arms a timer that sends the clock's time on its channel
	// (C) once d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is one timer armed by a Clock, with the semantics of *time.Timer
// since Go 1.23: after Stop or Reset returns, no value sent for the old
// deadline is received from C.
type Timer interface {
	// Stop disarms the timer. It reports whether that stopped it: false
	// when it had already fired (for AfterFunc, f has been started) or
	// been stopped.
	Stop() bool
	// Reset rearms the timer to fire d from now on its clock, as if it
	// were stopped first. It reports whether the timer was armed.
	Reset(d time.Duration) bool
	// C is the channel a NewTimer timer fires on; nil for AfterFunc.
	C() <-chan time.Time
}

// System is the wall clock: package time.
type System struct{}

var _ Clock = System{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc: f runs in its own goroutine.
func (System) AfterFunc(d time.Duration, f func()) Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

// NewTimer is time.NewTimer.
func (System) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

// systemTimer is a *time.Timer as a Timer.
type systemTimer struct{ t *time.Timer }

func (s systemTimer) Stop() bool                 { return s.t.Stop() }
func (s systemTimer) Reset(d time.Duration) bool { return s.t.Reset(d) }
func (s systemTimer) C() <-chan time.Time        { return s.t.C }

// Every calls f every d on c until the returned stop is called: first d
// from now, then d after each call returns (a slow f delays the next call
// instead of piling calls up, as time.Ticker drops ticks). Calls never
// overlap. stop disarms the timer and waits for a call in progress, so f
// never runs once stop has returned; f must not call stop. d <= 0 panics,
// as time.NewTicker does.
//
// On a manual clock the calls are the clock's AfterFunc callbacks: moving
// it by k·d makes k calls, each seeing its own deadline as the time.
func Every(c Clock, d time.Duration, f func()) (stop func()) {
	if d <= 0 {
		panic("clock: Every with a non-positive interval")
	}
	e := &every{d: d, f: f}
	e.mu.Lock()
	e.t = c.AfterFunc(d, e.fire)
	e.mu.Unlock()
	return e.stop
}

// every is the state of one Every.
type every struct {
	d time.Duration
	f func()

	mu      sync.Mutex
	t       Timer
	stopped bool
	running sync.WaitGroup // a call of f in progress
}

func (e *every) fire() {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	e.running.Add(1)
	e.mu.Unlock()
	defer e.running.Done()
	e.f()
	e.mu.Lock()
	if !e.stopped {
		e.t.Reset(e.d)
	}
	e.mu.Unlock()
}

func (e *every) stop() {
	e.mu.Lock()
	e.stopped = true
	e.t.Stop()
	e.mu.Unlock()
	e.running.Wait()
}
