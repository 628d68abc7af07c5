// Package coalesce lets the writes of many concurrent requests on one
// connection share system calls. An HTTP/2 client flushes every request on
// its own: the HEADERS frame with one write, the DATA frame with another,
// each its own TLS record and its own write(2). With hundreds of streams in
// flight on one connection (APNs, FCM, Web at full rate), those writes
// arrive at once and take turns on the connection's write lock, one system
// call each.
//
// A Conn copies each Write into a pending buffer and returns; one flusher
// goroutine per connection writes everything pending with a single call to
// the connection below. While that call runs, the next requests' frames
// gather, so under load one system call carries many requests, and when
// the connection is idle a write goes out at once (there is no timer and
// no delay, only the hand-over to the flusher).
//
// What a Write returning nil means changes: the bytes are queued, not yet
// handed to the kernel. An error the flusher meets is returned by every
// later Write, and the connection below is closed so that its reader fails
// too; for an HTTP/2 client that is the same as a connection lost with
// those frames in the kernel's buffer, and every stream on it ends with an
// error. Close drops what is still pending (as closing a connection drops
// what the kernel has not sent).
package coalesce

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// MaxPending is how many bytes a Conn holds before Write waits for the
// flusher: at most that much beyond what the kernel has taken.
const MaxPending = 256 << 10

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
// write error.
func (c *Conn) flush() {
	defer close(c.done)
	var out []byte
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		c.mu.Lock()
		out, c.pending = c.pending, out[:0]
		c.room.Broadcast()
		c.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		if _, err := c.Conn.Write(out); err != nil {
			c.fail(err)
			return
		}
		if cap(out) > 2*MaxPending {
			out = nil // one burst grew it; don't keep it for the connection's life
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

// Close closes the connection below, drops what is pending and stops the
// flusher (a write it has in progress fails with the connection).
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = net.ErrClosed
	}
	c.pending = nil
	c.room.Broadcast()
	c.mu.Unlock()
	c.stopOnce.Do(func() { close(c.stop) })
	err := c.Conn.Close()
	<-c.done
	return err
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
