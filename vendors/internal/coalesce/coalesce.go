// Package coalesce lets the writes of many concurrent requests on one
// connection share system calls. An HTTP/2 client flushes every request on
// its own: the HEADERS frame with one write, the DATA frame with another,
// each its own TLS record and its own write(2). With hundreds of streams in
// flight on one connection (APNs, FCM, Web at full rate), those writes
// arrive at once and take turns on the connection's write lock, one system
// call each.
//
// A Conn copies each Write into a pending buffer and returns; one flusher
// goroutine per connection hands everything pending to the connection
// below in one Write. While that call runs, the next requests' frames
// gather, so under load one call carries many requests, and when the
// connection is idle a write goes out at once (there is no timer and no
// delay, only the hand-over to the flusher). Below TLS (FCM, Web) one call
// is one write(2); above it (APNs) crypto/tls still cuts what it gets
// into records of at most 16 KB, a write(2) each, instead of one or two
// per request.
//
// What a Write returning nil means changes: the bytes are queued, not yet
// handed to the kernel. An error the flusher meets is returned by every
// later Write, and the connection below is closed so that its reader fails
// too; for an HTTP/2 client that is the same as a connection lost with
// those frames in the kernel's buffer, and every stream on it ends with an
// error. Write deadlines set on a Conn apply to the flusher's shared write,
// not to one caller's Write (which only queues): an HTTP/2 transport's
// WriteByteTimeout would not bound anything, and herald sets none; a dead
// peer is found by the transports' pings instead. Close gives what is
// pending (a GOAWAY, TLS's close_notify) CloseGrace to go out, then closes.
package coalesce

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// MaxPending is how many queued bytes make Write wait for the flusher. At
// most MaxPending plus one Write are queued, and the flusher may be
// writing as much again.
const MaxPending = 256 << 10

// CloseGrace bounds Close: what is pending gets this long to be written,
// and a TLS connection below that has not closed by then (its
// close_notify stuck behind a peer that stopped reading) has its network
// connection closed under it, as x/net/http2 does for a *tls.Conn.
const CloseGrace = 250 * time.Millisecond

// keepBuffer is the largest buffer the flusher keeps between writes once
// a flush used less than a quarter of it: a burst's buffers are given back
// when traffic falls off.
const keepBuffer = 64 << 10

// Conn is a net.Conn whose writes are gathered and written by one flusher
// goroutine. Reads, deadlines and addresses are the wrapped connection's.
// Safe for concurrent use.
type Conn struct {
	net.Conn

	mu      sync.Mutex
	room    sync.Cond // signalled when pending shrinks or err is set
	pending []byte    // written, not yet taken by the flusher
	err     error     // the first write error, or net.ErrClosed after Close

	kick     chan struct{} // capacity 1: something is pending
	stop     chan struct{} // closed by Close
	stopOnce sync.Once
	done     chan struct{} // closed when the flusher has returned
}

// New wraps c and starts its flusher, which runs until Close or the first
// write error.
func New(c net.Conn) *Conn {
	w := &Conn{
		Conn: c,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	w.room.L = &w.mu
	go w.flush()
	return w
}

// Dial is a DialContext (for an http.Transport, below its TLS) whose
// connections are d's, each wrapped in a Conn.
func Dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return New(c), nil
	}
}

// Write queues p for the flusher. It returns the first error the flusher
// met (or net.ErrClosed once closed) and waits while MaxPending bytes are
// already queued.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for c.err == nil && len(c.pending) >= MaxPending {
		c.room.Wait()
	}
	if err := c.err; err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.pending = append(c.pending, p...)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default: // the flusher is already due to look
	}
	return len(p), nil
}

// flush writes what is pending, one call for all of it, until Close or a
// write error. After Close it writes what Close left pending and returns.
func (c *Conn) flush() {
	defer close(c.done)
	var out []byte
	for {
		stopping := false
		select {
		case <-c.kick:
		case <-c.stop:
			stopping = true
		}
		c.mu.Lock()
		out, c.pending = c.pending, out[:0]
		c.room.Broadcast()
		c.mu.Unlock()
		if len(out) > 0 {
			if _, err := c.Conn.Write(out); err != nil {
				c.fail(err)
				return
			}
		}
		if stopping {
			return
		}
		if cap(out) > keepBuffer && len(out) < cap(out)/4 {
			out = nil // a burst grew it and has passed
		}
	}
}

// fail records err for later Writes, wakes the ones waiting and closes the
// connection below so that its reader stops too.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.pending = nil
	c.room.Broadcast()
	c.mu.Unlock()
	c.Conn.Close()
}

// Close refuses further Writes, gives what is pending CloseGrace to be
// written (the flusher writes it under that write deadline), then closes
// the connection below. Safe to call more than once and concurrently.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = net.ErrClosed
	}
	c.room.Broadcast()
	c.mu.Unlock()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(CloseGrace)) // also ends a write in progress
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	if nc, ok := c.Conn.(interface{ NetConn() net.Conn }); ok {
		// crypto/tls's Close writes close_notify under a deadline of its
		// own (5 s); a peer that stopped reading must not hold Close that
		// long.
		t := time.AfterFunc(CloseGrace, func() { nc.NetConn().Close() })
		defer t.Stop()
	}
	return c.Conn.Close()
}

// ConnectionState is the wrapped connection's TLS state (the zero state
// when it is not TLS). An HTTP/2 client reads it to learn the negotiated
// protocol.
func (c *Conn) ConnectionState() tls.ConnectionState {
	if s, ok := c.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return s.ConnectionState()
	}
	return tls.ConnectionState{}
}
