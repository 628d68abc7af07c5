package tokencache

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
)

var errRefused = errors.New("refused")

// vendor is a token endpoint for a Cache: each fetch takes the next
// answer from answers (a token "tN" valid for life, or an error), after
// waiting on gate when it is not nil.
type vendor struct {
	clock *testutil.Clock
	life  time.Duration

	mu      sync.Mutex
	fetches int
	fail    error         // the next fetches' error, when set
	gate    chan struct{} // a fetch waits for it (or its ctx) when set
	started chan struct{} // told when a fetch starts, when set
}

func (v *vendor) fetch(ctx context.Context) (string, time.Duration, error) {
	v.mu.Lock()
	v.fetches++
	n, fail, gate, started := v.fetches, v.fail, v.gate, v.started
	v.mu.Unlock()
	if started != nil {
		started <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	if fail != nil {
		return "", 0, fail
	}
	return "t" + strconv.Itoa(n), v.life, nil
}

func (v *vendor) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.fetches
}

func (v *vendor) set(f func(v *vendor)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(v)
}

func newCache(t *testing.T, life time.Duration, cfg Config) (*Cache[string], *vendor) {
	t.Helper()
	v := &vendor{clock: testutil.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)), life: life}
	cfg.Now = v.clock.Now
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	c := New(v.fetch, cfg)
	t.Cleanup(c.Close)
	return c, v
}

// get is Get under a test deadline; it fails the test on an error.
func get(t *testing.T, c *Cache[string]) string {
	t.Helper()
	tok, err := getErr(c)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return tok
}

func getErr(c *Cache[string]) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Get(ctx)
}

// async runs Get on its own goroutine; its outcome comes on the channel.
type outcome struct {
	tok string
	err error
}

func async(ctx context.Context, c *Cache[string]) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		tok, err := c.Get(ctx)
		ch <- outcome{tok, err}
	}()
	return ch
}

// await is the outcome on ch, failing the test if none comes in time.
func await(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("Get did not return")
		return outcome{}
	}
}

func TestCachedUntilRefresh(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("first token %q", tok)
	}
	v.clock.Advance(54 * time.Minute)
	if tok := get(t, c); tok != "t1" || v.count() != 1 {
		t.Fatalf("at 54 min: %q after %d fetches, want t1 after 1", tok, v.count())
	}
	// 5 min (a tenth of the hour at most) before expiry: the caller starts
	// a refresh and still sends with t1; once it is done, t2.
	v.clock.Advance(2 * time.Minute)
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("at 56 min: %q, want t1 while the refresh runs", tok)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return get(t, c) == "t2" }, "the refreshed token is not handed out")
	if n := v.count(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestMargins: the refresh and skew margins for a token's lifetime.
func TestMargins(t *testing.T) {
	for _, tc := range []struct {
		life, refresh, skew time.Duration
		cfg                 Config
	}{
		{time.Hour, 5 * time.Minute, 30 * time.Second, Config{}},
		{10 * time.Minute, time.Minute, 30 * time.Second, Config{}},
		{10 * time.Second, time.Second, 500 * time.Millisecond, Config{}},
		{24 * time.Hour, time.Hour, 5 * time.Minute, Config{Refresh: time.Hour, Skew: 5 * time.Minute}},
		{time.Hour, 6 * time.Minute, 3 * time.Minute, Config{Refresh: time.Hour, Skew: time.Hour}},
	} {
		c, v := newCache(t, tc.life, tc.cfg)
		get(t, c)
		start := v.clock.Now()
		c.mu.Lock()
		refreshAt, expireAt := c.refreshAt, c.expireAt
		c.mu.Unlock()
		if want := start.Add(tc.life - tc.refresh); !refreshAt.Equal(want) {
			t.Errorf("lifetime %v %+v: refresh at %v, want %v", tc.life, tc.cfg, refreshAt.Sub(start), want.Sub(start))
		}
		if want := start.Add(tc.life - tc.skew); !expireAt.Equal(want) {
			t.Errorf("lifetime %v %+v: handed out until %v, want %v", tc.life, tc.cfg, expireAt.Sub(start), want.Sub(start))
		}
	}
}

// TestRefreshAheadDoesNotBlockOthers: past the refresh point no caller
// waits: the one that starts the refresh and those that come while it runs
// all get the old token at once, and there is one fetch.
func TestRefreshAheadDoesNotBlockOthers(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	get(t, c)
	v.clock.Advance(56 * time.Minute)
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	v.set(func(v *vendor) { v.gate, v.started = gate, started })
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("the refreshing caller: %q, want the old t1 at once", tok)
	}
	<-started
	for range 3 {
		if tok := get(t, c); tok != "t1" {
			t.Fatalf("during the refresh: %q, want the old t1", tok)
		}
	}
	close(gate)
	testutil.WaitFor(t, 5*time.Second, func() bool { return get(t, c) == "t2" }, "the refreshed token is not handed out")
	if n := v.count(); n != 1+1 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// TestRefreshAheadFailureKeepsToken: a failed refresh ahead of expiry
// leaves the old token in use, and the next one waits a quarter of its
// remaining time.
func TestRefreshAheadFailureKeepsToken(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	get(t, c)
	v.clock.Advance(56 * time.Minute) // 3 min 30 s before it is no longer handed out
	v.set(func(v *vendor) { v.fail = errRefused })
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("after a failed refresh: %q, want the old t1", tok)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return c.idle() }, "the failed refresh does not end")
	if tok := get(t, c); tok != "t1" || v.count() != 2 {
		t.Fatalf("right after: %q after %d fetches, want t1 and no new fetch", tok, v.count())
	}
	v.clock.Advance(52 * time.Second) // a quarter of 3 min 30 s is 52.5 s
	get(t, c)
	if n := v.count(); n != 2 {
		t.Fatalf("%d fetches before the retry time, want 2", n)
	}
	v.clock.Advance(time.Second)
	v.set(func(v *vendor) { v.fail = nil })
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("after the retry time: %q, want t1 while the retry runs", tok)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return get(t, c) == "t3" }, "the retried refresh's token is not handed out")
}

// TestExpiredSingleFlight: with no token to hand out, concurrent callers
// share one fetch.
func TestExpiredSingleFlight(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	v.set(func(v *vendor) { v.gate, v.started = gate, started })
	var outs []<-chan outcome
	for range 20 {
		outs = append(outs, async(context.Background(), c))
	}
	<-started
	close(gate)
	for _, ch := range outs {
		if o := await(t, ch); o.tok != "t1" || o.err != nil {
			t.Fatalf("outcome %+v, want t1", o)
		}
	}
	if n := v.count(); n != 1 {
		t.Fatalf("%d fetches for 20 concurrent callers, want 1", n)
	}
	// Past the skew, as with no token at all.
	v.set(func(v *vendor) { v.gate, v.started = nil, nil })
	v.clock.Advance(time.Hour - 29*time.Second)
	if tok := get(t, c); tok != "t2" {
		t.Fatalf("29 s before expiry: %q, want a new token", tok)
	}
}

// TestFailureNotCached: a failed fetch is its waiters' error; the next
// caller fetches again.
func TestFailureNotCached(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	v.set(func(v *vendor) { v.fail = errRefused })
	if _, err := getErr(c); !errors.Is(err, errRefused) {
		t.Fatalf("error %v, want the fetch's", err)
	}
	v.set(func(v *vendor) { v.fail = nil })
	if tok := get(t, c); tok != "t2" || v.count() != 2 {
		t.Fatalf("%q after %d fetches, want t2 after 2", tok, v.count())
	}
}

// TestCallerGivesUp: a caller whose context ends returns at once with its
// error; the fetch goes on for the others, not bound by that context.
func TestCallerGivesUp(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	v.set(func(v *vendor) { v.gate, v.started = gate, started })
	ctx, cancel := context.WithCancel(context.Background())
	quitter := async(ctx, c)
	<-started
	patient := async(context.Background(), c)
	cancel()
	if o := await(t, quitter); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("the caller that gave up: %+v, want context.Canceled", o)
	}
	close(gate)
	if o := await(t, patient); o.tok != "t1" || o.err != nil {
		t.Fatalf("the other caller: %+v, want t1", o)
	}
}

func TestInvalidate(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	get(t, c)
	c.Invalidate("t0") // not the cached one
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("after invalidating another token: %q", tok)
	}
	c.Invalidate("t1")
	if tok := get(t, c); tok != "t2" {
		t.Fatalf("after invalidating t1: %q, want t2", tok)
	}
	c.Invalidate("t1") // refused late, after the refresh: t2 stays
	if tok := get(t, c); tok != "t2" || v.count() != 2 {
		t.Fatalf("after a late refusal of t1: %q after %d fetches", tok, v.count())
	}
}

// TestFetchBounded: a fetch runs under Timeout, whoever waits.
func TestFetchBounded(t *testing.T) {
	var left atomic.Int64
	c := New(func(ctx context.Context) (string, time.Duration, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return "", 0, errors.New("no deadline")
		}
		left.Store(int64(time.Until(dl)))
		return "t", time.Hour, nil
	}, Config{Timeout: 3 * time.Second})
	t.Cleanup(c.Close)
	if _, err := c.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(left.Load()); d <= 0 || d > 3*time.Second {
		t.Fatalf("the fetch had %v left, want at most the 3 s Timeout", d)
	}
}

// TestClose: Close cancels the fetch in flight, its waiters get
// ErrClosed, and every later Get too.
func TestClose(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	started := make(chan struct{}, 1)
	v.set(func(v *vendor) { v.gate, v.started = make(chan struct{}), started })
	waiting := async(context.Background(), c)
	<-started
	c.Close()
	if o := await(t, waiting); !errors.Is(o.err, ErrClosed) {
		t.Fatalf("waiter: %+v, want ErrClosed", o)
	}
	if _, err := getErr(c); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	c.Close() // twice is fine

	mine := errors.New("client closed")
	c = New(v.fetch, Config{Now: v.clock.Now, Timeout: time.Minute, Closed: mine})
	c.Close()
	if _, err := getErr(c); err != mine {
		t.Fatalf("Get after Close: %v, want Config.Closed", err)
	}
}

// TestNoLifetime: a token without a lifetime serves its fetch's callers
// only.
func TestNoLifetime(t *testing.T) {
	c, v := newCache(t, 0, Config{})
	if get(t, c) != "t1" || get(t, c) != "t2" || v.count() != 2 {
		t.Fatalf("%d fetches, want one per Get", v.count())
	}
}

// TestClockBack: a clock set back before the token's fetch refreshes it
// (the caller still gets a token meanwhile).
func TestClockBack(t *testing.T) {
	c, v := newCache(t, time.Hour, Config{})
	get(t, c)
	v.clock.Set(v.clock.Now().Add(-2 * time.Hour))
	if tok := get(t, c); tok != "t1" {
		t.Fatalf("after the clock went back: %q, want t1 while it refreshes", tok)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return get(t, c) == "t2" }, "no refresh after the clock went back")
}
