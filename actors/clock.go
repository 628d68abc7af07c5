package actors

import (
	"sync"
	"time"

	"github.com/herald-push/herald/internal/clock"
)

// Clock is the actors' time: leases, idle timeouts, and every timer the
// actors arm (a sender's wake-ups, call timeouts, the idle sweep). The
// wall clock is clock.System; tests use internal/testutil.Clock.
type Clock = clock.Clock

// maxTimerWait bounds how long a timer for a deadline in unix time (a
// retry's not_before, the quota's next UTC day, a call's deadline) waits:
// timers run on the monotonic clock, so if the wall clock is stepped
// forward such a deadline comes sooner than its timer; the timer then
// fires at most this late.
const maxTimerWait = time.Minute

// ManualClock is a Clock that moves only when told to.
//
// Deprecated: use internal/testutil.Clock. ManualClock is kept only until
// the daemon's tests have moved to it.
type ManualClock struct {
	adv    sync.Mutex // held by Advance
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*manualTimer // armed, in no order
}

var _ Clock = (*ManualClock)(nil)

// NewManualClock returns a ManualClock set to start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that calls f, on Advance's goroutine, once the
// clock has moved d on.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.arm(&manualTimer{c: c, f: f}, d)
}

// NewTimer arms a timer that sends its deadline on C once the clock has
// moved d on.
func (c *ManualClock) NewTimer(d time.Duration) clock.Timer {
	return c.arm(&manualTimer{c: c, ch: make(chan time.Time, 1)}, d)
}

func (c *ManualClock) arm(t *manualTimer, d time.Duration) *manualTimer {
	c.mu.Lock()
	c.pushLocked(t, d)
	c.mu.Unlock()
	return t
}

func (c *ManualClock) pushLocked(t *manualTimer, d time.Duration) {
	c.seq++
	t.when, t.seq, t.armed = c.now.Add(d), c.seq, true
	c.timers = append(c.timers, t)
}

// Advance moves the clock forward by d, firing the timers that come due in
// deadline order, each with the clock at its deadline.
func (c *ManualClock) Advance(d time.Duration) {
	c.adv.Lock()
	defer c.adv.Unlock()
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		i := -1
		for j, t := range c.timers {
			if !t.when.After(target) && (i < 0 || t.when.Before(c.timers[i].when) ||
				(t.when.Equal(c.timers[i].when) && t.seq < c.timers[i].seq)) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		t := c.timers[i]
		c.removeLocked(t)
		if t.when.After(c.now) {
			c.now = t.when
		}
		if t.f == nil {
			t.ch <- c.now // buffered; Stop and Reset drain it
			continue
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	if target.After(c.now) {
		c.now = target
	}
	c.mu.Unlock()
}

func (c *ManualClock) removeLocked(t *manualTimer) {
	for i, o := range c.timers {
		if o == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			break
		}
	}
	t.armed = false
}

// manualTimer is one of a ManualClock's timers.
type manualTimer struct {
	c     *ManualClock
	f     func()
	ch    chan time.Time
	when  time.Time
	seq   uint64
	armed bool
}

func (t *manualTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.disarmLocked()
}

func (t *manualTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.disarmLocked()
	t.c.pushLocked(t, d)
	return was
}

func (t *manualTimer) disarmLocked() bool {
	was := t.armed
	if was {
		t.c.removeLocked(t)
	}
	if t.ch != nil {
		select {
		case <-t.ch:
			return true
		default:
		}
	}
	return was
}

func (t *manualTimer) C() <-chan time.Time {
	if t.ch == nil {
		return nil
	}
	return t.ch
}
