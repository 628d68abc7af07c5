package testutil

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/clock"
)

var epoch = time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)

// One Advance past several deadlines fires them in deadline order (equal
// deadlines in arming order), each callback seeing its own deadline as
// the time, and leaves the clock at the target.
func TestClockFiresInDeadlineOrder(t *testing.T) {
	c := NewClock(epoch)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, fmt.Sprintf("%s@%v", name, c.Now().Sub(epoch))) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	c.AfterFunc(2*time.Second, at("b1"))
	c.AfterFunc(2*time.Second, at("b2"))
	c.AfterFunc(10*time.Second, at("late"))
	if c.Armed() != 5 {
		t.Fatalf("armed %d, want 5", c.Armed())
	}
	c.Advance(999 * time.Millisecond)
	if len(got) != 0 {
		t.Fatalf("fired before their deadline: %v", got)
	}
	c.Advance(2001 * time.Millisecond)
	want := []string{"a@1s", "b1@2s", "b2@2s", "c@3s"}
	if !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if now := c.Now(); !now.Equal(epoch.Add(3 * time.Second)) {
		t.Fatalf("now %v, want epoch+3s", now.Sub(epoch))
	}
	if c.Armed() != 1 {
		t.Fatalf("armed %d, want 1 (late)", c.Armed())
	}
}

func TestClockStopAndReset(t *testing.T) {
	c := NewClock(epoch)
	var fired []string
	stopped := c.AfterFunc(time.Second, func() { fired = append(fired, "stopped") })
	moved := c.AfterFunc(time.Second, func() { fired = append(fired, "moved") })
	kept := c.AfterFunc(2*time.Second, func() { fired = append(fired, "kept") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop of an armed timer, then again: want true, false")
	}
	if !moved.Reset(5 * time.Second) {
		t.Fatal("Reset of an armed timer: false, want true")
	}
	c.Advance(3 * time.Second)
	if !slices.Equal(fired, []string{"kept"}) {
		t.Fatalf("fired %v, want [kept]", fired)
	}
	if kept.Stop() {
		t.Fatal("Stop after it fired: true, want false")
	}
	if kept.Reset(time.Second) {
		t.Fatal("Reset after it fired: true, want false")
	}
	c.Advance(time.Second) // epoch+4s: kept again
	c.Advance(time.Second) // epoch+5s: moved
	if !slices.Equal(fired, []string{"kept", "kept", "moved"}) {
		t.Fatalf("fired %v, want [kept kept moved]", fired)
	}
	if stopped.Reset(0) {
		t.Fatal("Reset of a stopped timer: true, want false")
	}
	c.Advance(0) // due at once: fires at the next Advance, even of 0
	if fired[len(fired)-1] != "stopped" {
		t.Fatalf("a timer reset to 0 did not fire on Advance(0): %v", fired)
	}
}

// NewTimer sends its deadline once due; Stop and Reset take back a value
// not yet received, as time.Timer does since Go 1.23.
func TestClockNewTimer(t *testing.T) {
	c := NewClock(epoch)
	tm := c.NewTimer(time.Minute)
	select {
	case v := <-tm.C():
		t.Fatalf("value %v before the deadline", v)
	default:
	}
	c.Advance(2 * time.Minute)
	select {
	case v := <-tm.C():
		if !v.Equal(epoch.Add(time.Minute)) {
			t.Fatalf("sent %v, want the deadline", v)
		}
	default:
		t.Fatal("nothing sent by the deadline")
	}
	if tm.Stop() {
		t.Fatal("Stop after the value was received: true, want false")
	}

	tm.Reset(time.Second)
	c.Advance(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop with an unreceived value: false, want true (the value is taken back)")
	}
	if len(tm.C()) != 0 {
		t.Fatal("a stale value is left after Stop")
	}
	tm.Reset(time.Second)
	c.Advance(time.Second)
	if !tm.Reset(time.Second) || len(tm.C()) != 0 {
		t.Fatal("Reset with an unreceived value: want true and the value taken back")
	}
	if af := c.AfterFunc(time.Second, func() {}); af.C() != nil {
		t.Fatal("AfterFunc: want a nil channel")
	}
}

// A callback may re-arm its timer (a ticker): within one Advance it fires
// at every period, and timers it arms inside the span fire in order too.
func TestClockCallbacksRearm(t *testing.T) {
	c := NewClock(epoch)
	var ticks []time.Duration
	var tick clock.Timer
	tick = c.AfterFunc(time.Second, func() {
		ticks = append(ticks, c.Now().Sub(epoch))
		if len(ticks) == 2 {
			c.AfterFunc(500*time.Millisecond, func() { ticks = append(ticks, -c.Now().Sub(epoch)) })
		}
		tick.Reset(time.Second)
	})
	c.Advance(4 * time.Second)
	want := []time.Duration{time.Second, 2 * time.Second, -2500 * time.Millisecond, 3 * time.Second, 4 * time.Second}
	if !slices.Equal(ticks, want) {
		t.Fatalf("ticks %v, want %v", ticks, want)
	}
}

func TestClockSet(t *testing.T) {
	c := NewClock(epoch)
	var fired int
	c.AfterFunc(time.Hour, func() { fired++ })
	midnight := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	c.Set(midnight.Add(-time.Nanosecond))
	if fired != 0 {
		t.Fatal("fired before its deadline")
	}
	c.Set(epoch.Add(-time.Hour)) // stepped back: nothing fires, the deadline stays
	if fired != 0 || !c.Now().Equal(epoch.Add(-time.Hour)) || c.Armed() != 1 {
		t.Fatalf("after stepping back: fired %d, now %v, armed %d", fired, c.Now(), c.Armed())
	}
	c.Set(midnight)
	if fired != 1 || !c.Now().Equal(midnight) {
		t.Fatalf("after Set to the deadline: fired %d, now %v", fired, c.Now())
	}
}

// WaitArmed returns once the code under test armed its timer, so the test
// advances only then; without the timer it fails the test.
func TestClockWaitArmed(t *testing.T) {
	c := NewClock(epoch)
	fired := make(chan time.Time, 1)
	go func() {
		for range 1000 {
			runtime.Gosched() // the code under test is slow to arm
		}
		c.AfterFunc(time.Minute, func() { fired <- c.Now() })
	}()
	c.WaitArmed(t, 1, 10*time.Second)
	c.Advance(time.Minute)
	select {
	case at := <-fired:
		if !at.Equal(epoch.Add(time.Minute)) {
			t.Fatalf("fired at %v", at)
		}
	default:
		t.Fatal("the armed timer did not fire in Advance")
	}

	rec := &recordTB{TB: t}
	c.WaitArmed(rec, 1, 20*time.Millisecond)
	if len(rec.fatals) != 1 {
		t.Fatalf("WaitArmed with nothing armed: %q, want one failure", rec.fatals)
	}
}

// Many goroutines arm, stop and reset timers while others advance the
// clock: each timer fires once per arming, a stopped one never, and time
// only moves forward (run with -race).
func TestClockConcurrentUse(t *testing.T) {
	c := NewClock(epoch)
	const workers, perWorker = 8, 200
	stop := make(chan struct{})
	var advancers sync.WaitGroup
	for range 2 {
		advancers.Add(1)
		go func() {
			defer advancers.Done()
			last := c.Now()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.Advance(time.Duration(rand.IntN(5)) * time.Millisecond)
				if now := c.Now(); now.Before(last) {
					t.Errorf("time went back: %v after %v", now, last)
				} else {
					last = now
				}
			}
		}()
	}
	// fired[w][i] counts the firings of worker w's i-th AfterFunc timer;
	// want[w][i] is how many its Stop or Reset answers call for.
	fired := make([][]atomic.Int32, workers)
	want := make([][]int32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		fired[w], want[w] = make([]atomic.Int32, perWorker), make([]int32, perWorker)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				d := time.Duration(rand.IntN(50)) * time.Millisecond
				if i%2 == 1 {
					tm := c.NewTimer(d)
					if i%3 == 0 && !tm.Stop() {
						t.Error("Stop of a NewTimer timer not received from: false, want true")
					}
					if i%3 != 0 {
						<-tm.C() // the advancers move the clock to it
					}
					continue
				}
				tm := c.AfterFunc(d, func() { fired[w][i].Add(1) })
				switch i % 3 {
				case 0: // stopped: never, unless it had fired
					want[w][i] = 1
					if tm.Stop() {
						want[w][i] = 0
					}
				case 1: // reset: once more if it had fired
					want[w][i] = 2
					if tm.Reset(d) {
						want[w][i] = 1
					}
				default:
					want[w][i] = 1
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	advancers.Wait()
	c.Advance(time.Hour)
	if c.Armed() != 0 {
		t.Fatalf("%d timers still armed an hour later", c.Armed())
	}
	for w := range workers {
		for i := 0; i < perWorker; i += 2 {
			if got := fired[w][i].Load(); got != want[w][i] {
				t.Errorf("worker %d timer %d fired %d times, want %d", w, i, got, want[w][i])
			}
		}
	}
}

// recordTB records Fatal calls instead of ending the test.
type recordTB struct {
	testing.TB
	mu     sync.Mutex
	fatals []string
}

func (r *recordTB) Helper() {}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recordTB) Fatal(args ...any) {
	r.mu.Lock()
	r.fatals = append(r.fatals, fmt.Sprint(args...))
	r.mu.Unlock()
}
