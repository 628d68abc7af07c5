// Package tokencache keeps the access token of a vendor client (FCM's
// OAuth2 bearer, Huawei's access_token, OPPO's auth_token, vivo's
// authToken): one Cache per client, safe for concurrent use, around the
// vendor's own fetch (its request, its answer parsing, its error
// classification), which stays in the vendor's package.
//
// A token is fresh until Refresh before it expires. From then on the first
// caller starts a fetch in the background and, like every caller while it
// runs, sends with the old token, which is still valid. If that fetch fails, the old
// token is kept (the failure poisons nothing) and the next refresh is
// tried no sooner than a quarter of the old token's remaining time later.
// From Skew before expiry the old token is no longer handed out: callers
// wait for one fetch, all of them for the same one (single flight), and a
// failure is every waiter's error; the next caller starts another fetch.
//
// A fetch runs on a goroutine of its own under Timeout, not under any
// caller's context, so a caller that gives up (its context ends: Get
// returns at once) fails nobody else; no lock is held while it runs.
// Invalidate drops a token the vendor refused; Close cancels a fetch in
// flight and waits for it.
//
// Why not golang.org/x/oauth2's ReuseTokenSource: it reads the wall clock
// (tests move an injected one), takes no context (a caller cannot give up
// waiting), holds its lock across the fetch, cannot drop a token the
// vendor refused, and refreshes only once the token is within ten seconds
// of expiry, when every caller waits.
package tokencache

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Defaults.
const (
	// DefaultRefresh is Config.Refresh's default.
	DefaultRefresh = 5 * time.Minute
	// DefaultSkew is Config.Skew's default.
	DefaultSkew = 30 * time.Second
)

// ErrClosed is Get's error after Close, unless Config.Closed says
// another.
var ErrClosed = errors.New("tokencache: closed")

// Fetch obtains a new token and how long it is valid, counted from when
// the fetch started. ctx bounds it (Config.Timeout, Close). A failure's
// error is handed to the callers waiting for the fetch as it is.
type Fetch[T comparable] func(ctx context.Context) (tok T, lifetime time.Duration, err error)

// Config is how a Cache refreshes.
type Config struct {
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Timeout bounds one fetch (required, > 0): a fetch that bounds its
	// own requests gets a little more, as a backstop.
	Timeout time.Duration
	// Refresh is how long before its expiry a token is refreshed, at most
	// a tenth of its lifetime; 0 = DefaultRefresh.
	Refresh time.Duration
	// Skew is how long before its expiry a token is no longer handed out
	// (the vendor's clock may be ahead, a request takes time), at most
	// half of the token's Refresh; 0 = DefaultSkew.
	Skew time.Duration
	// Closed is Get's error after Close (the client's own ErrClosed); nil
	// = ErrClosed.
	Closed error
}

// Cache is one client's access token. Safe for concurrent use.
type Cache[T comparable] struct {
	fetch   Fetch[T]
	now     func() time.Time
	timeout time.Duration
	refresh time.Duration
	skew    time.Duration
	errDone error // Get's error after Close

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the fetch in flight

	mu        sync.Mutex
	tok       T
	has       bool
	fetched   time.Time // when the fetch of tok started
	refreshAt time.Time // tok is fresh until then
	expireAt  time.Time // tok is handed out until then
	retryAt   time.Time // no refresh ahead of expiry before then (one failed)
	flight    *flight[T]
	closed    bool
}

// flight is one fetch; tok and err are set before done is closed.
type flight[T comparable] struct {
	done chan struct{}
	tok  T
	err  error
}

// New returns a Cache that fetches with fetch as cfg says. It fetches
// nothing until the first Get.
func New[T comparable](fetch Fetch[T], cfg Config) *Cache[T] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Skew <= 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.Closed == nil {
		cfg.Closed = ErrClosed
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Cache[T]{fetch: fetch, now: cfg.Now, timeout: cfg.Timeout, refresh: cfg.Refresh, skew: cfg.Skew, errDone: cfg.Closed,
		ctx: ctx, cancel: cancel}
}

// Get returns a token to send with. Past the refresh point it starts a
// refresh in the background and returns the old token, still valid; it
// waits for a fetch only when there is no token it may hand out, and the
// error is then the fetch's, ctx's when ctx ended first, or the Closed
// error.
func (c *Cache[T]) Get(ctx context.Context) (T, error) {
	var zero T
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, c.errDone
	}
	now := c.now()
	if c.has && now.Before(c.expireAt) {
		old := c.tok
		fresh := !now.Before(c.fetched) && now.Before(c.refreshAt)
		if fresh || c.flight != nil || now.Before(c.retryAt) {
			c.mu.Unlock()
			return old, nil
		}
		// Past the refresh point: refresh in the background and send with
		// the old token, still valid; waiting would gain this caller
		// nothing (on failure it would get the old token anyway) and
		// could cost it its deadline.
		c.start()
		c.mu.Unlock()
		return old, nil
	}
	f := c.flight
	if f == nil {
		f = c.start()
	}
	c.mu.Unlock()
	return wait(ctx, f)
}

// Invalidate drops tok, which the vendor refused, if it is still the
// cached token: the next Get fetches. A token replaced meanwhile (another
// caller's refusal already caused a fetch) stays.
func (c *Cache[T]) Invalidate(tok T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.has && c.tok == tok {
		var zero T
		c.tok, c.has, c.retryAt = zero, false, time.Time{}
	}
}

// Close makes every later Get fail with the Closed error, cancels the
// fetch in flight (its waiters get that error too) and waits for it to
// end.
func (c *Cache[T]) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// idle reports whether no fetch is running (for tests).
func (c *Cache[T]) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flight == nil
}

// start starts a fetch; c.mu is held.
func (c *Cache[T]) start() *flight[T] {
	f := &flight[T]{done: make(chan struct{})}
	c.flight = f
	c.wg.Add(1)
	go c.run(f)
	return f
}

// run is one fetch.
func (c *Cache[T]) run(f *flight[T]) {
	defer c.wg.Done()
	started := c.now()
	ctx, cancel := context.WithTimeout(c.ctx, c.timeout)
	tok, lifetime, err := c.fetch(ctx)
	cancel()
	if err != nil && c.ctx.Err() != nil {
		err = c.errDone
	}
	c.mu.Lock()
	c.flight = nil
	switch {
	case err != nil:
		if left := c.expireAt.Sub(c.now()); c.has && left > 0 {
			c.retryAt = c.now().Add(left / 4)
		}
	case lifetime > 0:
		refresh := min(c.refresh, lifetime/10)
		skew := min(c.skew, refresh/2)
		c.tok, c.has, c.retryAt = tok, true, time.Time{}
		c.fetched = started
		c.refreshAt = started.Add(lifetime - refresh)
		c.expireAt = started.Add(lifetime - skew)
	}
	// A token without a lifetime serves this fetch's waiters only.
	c.mu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// wait is f's outcome, or ctx's error if ctx ends first.
func wait[T comparable](ctx context.Context, f *flight[T]) (T, error) {
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
