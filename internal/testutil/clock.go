package testutil

import (
	"container/heap"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/clock"
)

// Clock is a manual clock.Clock: its time moves only when Advance or Set
// moves it, and moving it fires the timers that come due, in deadline
// order (timers due at the same instant in the order they were armed or
// last reset).
//
// Firing is synchronous. Advance and Set run each due AfterFunc callback
// on their own goroutine, one after another, with the clock's time at
// that timer's deadline and no lock held, and a due NewTimer timer sends
// its deadline on its channel (buffered for one value, so the send never
// blocks). A callback may read the clock and arm, stop or reset timers; a
// timer it arms that is due within the span being advanced over fires in
// the same call. When Advance returns, every callback due by the new time
// has returned: a test advances, then asserts. A callback must not call
// Advance or Set (it would deadlock); a callback that re-arms itself with
// d <= 0 makes Advance loop forever, as it would spin on the wall clock.
//
// A timer armed with d <= 0 is due at once: it fires at the next Advance
// or Set, Advance(0) included, never inside AfterFunc or Reset (that
// would run f on the caller's goroutine, under the caller's locks).
//
// Safe for concurrent use; concurrent Advance and Set calls are
// serialized, so timers fire in one order.
type Clock struct {
	adv sync.Mutex // held by Advance and Set

	mu      sync.Mutex
	now     time.Time
	seq     uint64        // arming order, breaks ties between equal deadlines
	timers  timerHeap     // armed timers, earliest deadline first
	changed chan struct{} // closed (and replaced) whenever a timer is armed or disarmed
}

var _ clock.Clock = (*Clock)(nil)

// NewClock returns a Clock set to start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that calls f when the clock reaches now+d
// (synchronously, in Advance or Set: see Clock).
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	if f == nil {
		panic("testutil: Clock.AfterFunc with a nil func")
	}
	return c.arm(d, f, nil)
}

// NewTimer arms a timer that sends its deadline on C when the clock
// reaches now+d.
func (c *Clock) NewTimer(d time.Duration) clock.Timer {
	return c.arm(d, nil, make(chan time.Time, 1))
}

func (c *Clock) arm(d time.Duration, f func(), ch chan time.Time) *timer {
	t := &timer{c: c, f: f, ch: ch, index: -1}
	c.mu.Lock()
	c.pushLocked(t, d)
	c.mu.Unlock()
	return t
}

// Advance moves the clock forward by d, firing every timer due by then.
// d < 0 panics (Set moves the clock back).
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("testutil: Clock.Advance(%v): time does not go back; use Set", d))
	}
	c.adv.Lock()
	defer c.adv.Unlock()
	c.mu.Lock()
	c.fireLocked(c.now.Add(d))
	c.mu.Unlock()
}

// Set moves the clock to t. Forward, it fires every timer due by t, as
// Advance does; back (a wall clock stepped back), it fires nothing, and
// armed timers keep their deadlines.
func (c *Clock) Set(t time.Time) {
	c.adv.Lock()
	defer c.adv.Unlock()
	c.mu.Lock()
	if t.Before(c.now) {
		c.now = t
	} else {
		c.fireLocked(t)
	}
	c.mu.Unlock()
}

// fireLocked fires the timers due by target in order, then sets the clock
// to target. c.mu is held on entry and exit, released around callbacks.
func (c *Clock) fireLocked(target time.Time) {
	for len(c.timers) > 0 && !c.timers[0].when.After(target) {
		t := heap.Pop(&c.timers).(*timer)
		c.notifyLocked()
		if t.when.After(c.now) {
			c.now = t.when
		}
		if t.f == nil {
			t.ch <- c.now // never blocks: Stop and Reset drain, and a timer fires once per arming
			continue
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	if target.After(c.now) {
		c.now = target
	}
}

// Armed returns the number of timers armed and not yet fired or stopped.
func (c *Clock) Armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitArmed blocks until at least n timers are armed, so a test advances
// the clock only once the code under test has armed its timer. It fails
// t (Fatal: call it from the test's goroutine) if that takes longer than
// timeout of real time. It waits on the clock's own signal, not by
// polling.
func (c *Clock) WaitArmed(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for {
		c.mu.Lock()
		armed, changed := len(c.timers), c.changed
		c.mu.Unlock()
		if armed >= n {
			return
		}
		select {
		case <-changed:
		case <-limit.C:
			t.Fatalf("testutil: %d timers armed after %v, want at least %d", c.Armed(), timeout, n)
			return
		}
	}
}

func (c *Clock) pushLocked(t *timer, d time.Duration) {
	t.when = c.now.Add(d)
	c.seq++
	t.seq = c.seq
	heap.Push(&c.timers, t)
	c.notifyLocked()
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// timer is one of a Clock's timers.
type timer struct {
	c     *Clock
	f     func()         // AfterFunc's; nil for NewTimer
	ch    chan time.Time // NewTimer's; nil for AfterFunc
	when  time.Time
	seq   uint64
	index int // in c.timers; -1 when not armed
}

// Stop disarms t. As with time.Timer since Go 1.23, a NewTimer value that
// was sent but not yet received is taken back, and Stop then reports true.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.disarmLocked()
}

// Reset rearms t to fire d from the clock's time; it reports whether t
// was armed (or had an unreceived value, as Stop does).
func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.disarmLocked()
	t.c.pushLocked(t, d)
	return was
}

func (t *timer) disarmLocked() bool {
	armed := t.index >= 0
	if armed {
		heap.Remove(&t.c.timers, t.index)
		t.c.notifyLocked()
	}
	if t.ch != nil {
		select {
		case <-t.ch:
			return true
		default:
		}
	}
	return armed
}

// C is t's channel; nil for an AfterFunc timer.
func (t *timer) C() <-chan time.Time {
	if t.ch == nil {
		return nil
	}
	return t.ch
}

// timerHeap orders timers by deadline, then arming order.
type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
