package coalesce

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// gate is a net.Conn whose Writes are recorded, one entry per call; while
// it is held, a Write waits (after announcing itself on entered) until
// release.
type gate struct {
	net.Conn // nil: only Write and Close are used

	mu      sync.Mutex
	calls   [][]byte
	held    bool
	release chan struct{}
	entered chan struct{}
	fail    error
	closed  chan struct{}
	once    sync.Once
}

func newGate(held bool) *gate {
	return &gate{held: held, release: make(chan struct{}), entered: make(chan struct{}, 16), closed: make(chan struct{})}
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	held, fail := g.held, g.fail
	g.mu.Unlock()
	if held {
		g.entered <- struct{}{}
		<-g.release
	}
	if fail != nil {
		return 0, fail
	}
	g.mu.Lock()
	g.calls = append(g.calls, bytes.Clone(p))
	g.mu.Unlock()
	return len(p), nil
}

func (g *gate) SetWriteDeadline(time.Time) error { return nil }

func (g *gate) Close() error {
	g.once.Do(func() { close(g.closed) })
	return nil
}

func (g *gate) open() {
	g.mu.Lock()
	g.held = false
	g.mu.Unlock()
	close(g.release)
}

func (g *gate) written() ([][]byte, []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, bytes.Join(g.calls, nil)
}

func (c *Conn) pendingLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// While the flusher is in one write, everything written meanwhile goes
// out together in the next: 100 writes, 2 calls below, bytes in order.
func TestWritesDuringAFlushShareOneCall(t *testing.T) {
	g := newGate(true)
	c := New(g)
	defer c.Close()
	var want []byte
	for i := range 100 {
		p := fmt.Appendf(nil, "frame %03d;", i)
		want = append(want, p...)
		if n, err := c.Write(p); err != nil || n != len(p) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
		if i == 0 {
			<-g.entered // the flusher holds frame 0 in the call below
		}
	}
	g.open()
	waitFor(t, "all bytes below", func() bool { _, got := g.written(); return len(got) == len(want) })
	calls, got := g.written()
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes below differ from the writes:\n got %q\nwant %q", got, want)
	}
	if len(calls) != 2 || string(calls[0]) != "frame 000;" {
		t.Fatalf("calls below = %d (first %q), want 2: frame 000 alone, then the 99 written during it", len(calls), calls[0])
	}
}

// Over a real connection, concurrent writers' bytes all arrive, each
// Write contiguous and each writer's in its order.
func TestConcurrentWritesArriveWholeAndInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const writers, each = 8, 2000
	// The reader stops at the marker written after every writer is done:
	// with the bytes in order, everything before it has arrived.
	got := make(chan []byte, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer s.Close()
		var b []byte
		buf := make([]byte, 64<<10)
		for !bytes.HasSuffix(b, []byte("<end>")) {
			n, err := s.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- b
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := New(raw)
	defer c.Close()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := c.Write(fmt.Appendf(nil, "<%d:%05d>", w, i)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := c.Write([]byte("<end>")); err != nil {
		t.Fatal(err)
	}
	b := <-got
	if !bytes.HasSuffix(b, []byte("<end>")) {
		t.Fatalf("the stream ended without the marker after %d bytes", len(b))
	}
	b = b[:len(b)-len("<end>")]
	next := make([]int, writers)
	rest := b
	for len(rest) > 0 {
		var w, i int
		end := bytes.IndexByte(rest, '>')
		if end < 0 {
			t.Fatalf("torn write at the end: %q", rest)
		}
		if _, err := fmt.Sscanf(string(rest[:end+1]), "<%d:%05d>", &w, &i); err != nil || w < 0 || w >= writers {
			t.Fatalf("torn or foreign write %q: %v", rest[:end+1], err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: got write %d, want %d", w, i, next[w])
		}
		next[w]++
		rest = rest[end+1:]
	}
	for w, n := range next {
		if n != each {
			t.Errorf("writer %d: %d writes arrived, want %d", w, n, each)
		}
	}
}

// A write error below is returned by every later Write, and the
// connection below is closed so its reader stops too.
func TestWriteErrorIsStickyAndClosesBelow(t *testing.T) {
	g := newGate(false)
	boom := errors.New("broken pipe")
	g.fail = boom
	c := New(g)
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatalf("first write: %v (queued, the error comes later)", err)
	}
	<-g.closed // fail records the error before it closes the connection below
	if _, err := c.Write([]byte("y")); !errors.Is(err, boom) {
		t.Fatalf("write after the failure: %v, want %v", err, boom)
	}
}

// At most MaxPending bytes wait for the flusher: with the flusher stuck,
// a writer of 1 KiB chunks gets exactly MaxPending of them queued, then
// waits, and Close releases it with net.ErrClosed.
func TestPendingIsBounded(t *testing.T) {
	g := newGate(true)
	c := New(g)
	opened := false
	defer func() {
		if !opened {
			g.open() // let the flusher go on a failure path
		}
	}()
	if _, err := c.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	chunk := bytes.Repeat([]byte("z"), 1024)
	var accepted int
	wrote := make(chan error, 1)
	go func() {
		for range 3 * MaxPending / len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				wrote <- err
				return
			}
			accepted++
		}
		wrote <- nil
	}()
	waitFor(t, "the queue to fill", func() bool { return c.pendingLen() >= MaxPending })
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	if err := <-wrote; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("writer with the flusher stuck: %v, want net.ErrClosed from Close (nothing bounded it)", err)
	}
	if want := MaxPending / len(chunk); accepted != want {
		t.Fatalf("%d chunks accepted while the flusher was stuck, want %d (MaxPending)", accepted, want)
	}
	g.open() // the flusher's call below returns; Close waits for that
	opened = true
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// Close writes what is pending before it closes (an HTTP/2 GOAWAY, TLS's
// close_notify), refuses later writes, and may be called twice at once.
func TestCloseWritesWhatIsPending(t *testing.T) {
	g := newGate(true)
	c := New(g)
	if _, err := c.Write([]byte("a;")); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	if _, err := c.Write([]byte("goaway;")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 2)
	go func() { closed <- c.Close() }()
	go func() { closed <- c.Close() }()
	waitFor(t, "Close to refuse writes", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.err != nil
	})
	if _, err := c.Write([]byte("late;")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
	g.open()
	<-closed
	<-closed
	if _, got := g.written(); string(got) != "a;goaway;" {
		t.Fatalf("written below: %q, want what was queued before Close", got)
	}
	select {
	case <-g.closed:
	default:
		t.Fatal("Close returned without closing the connection below")
	}
}

// A flusher stuck in a real kernel write (the peer stopped reading, the
// socket buffers are full) does not hold Close: its write deadline ends
// the write, and every waiting writer gets net.ErrClosed.
func TestCloseEndsAWriteStuckOnAPeerThatStoppedReading(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err == nil {
			peer <- s // accepted, never read
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { (<-peer).Close() }()
	c := New(raw)
	wrote := make(chan error, 1)
	go func() {
		big := make([]byte, 64<<10)
		for {
			if _, err := c.Write(big); err != nil {
				wrote <- err
				return
			}
		}
	}()
	// The writer only waits once the flusher can't hand anything more to
	// the kernel.
	waitFor(t, "the queue to fill", func() bool { return c.pendingLen() >= MaxPending })
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close is held by the stuck write")
	}
	if err := <-wrote; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("waiting writer: %v, want net.ErrClosed", err)
	}
}

// Over TLS (as under APNs) the wrapper shows the handshake's state, so
// an HTTP/2 client sees the negotiated protocol through it.
func TestConnectionStateIsTheWrappedConns(t *testing.T) {
	if s := New(newGate(false)).ConnectionState(); s.HandshakeComplete {
		t.Fatal("a plain connection has no TLS state")
	}
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	srvConf, err := ca.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	srvConf.NextProtos = []string{"h2"}
	cliConf := ca.ClientTLS()
	cliConf.ServerName, cliConf.NextProtos = "localhost", []string{"h2"}
	a, b := net.Pipe()
	srv := tls.Server(b, srvConf)
	go func() { _ = srv.Handshake() }()
	defer srv.Close()
	cli := tls.Client(a, cliConf)
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	c := New(cli)
	defer c.Close()
	if s := c.ConnectionState(); !s.HandshakeComplete || s.NegotiatedProtocol != "h2" {
		t.Fatalf("through the wrapper: complete %v, protocol %q; want the handshake's h2", s.HandshakeComplete, s.NegotiatedProtocol)
	}
}

// Concurrent 200-byte frames (64 × GOMAXPROCS writers) to a loopback TCP
// connection, written straight (under a lock, as an HTTP/2 client's write lock) and through a
// Conn: the system calls per frame are the difference.
func BenchmarkLoopbackFrames(b *testing.B) {
	for _, mode := range []string{"direct", "coalesced"} {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				s, err := ln.Accept()
				if err != nil {
					return
				}
				defer s.Close()
				buf := make([]byte, 256<<10)
				for {
					if _, err := s.Read(buf); err != nil {
						return
					}
				}
			}()
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			var w net.Conn = raw
			if mode == "coalesced" {
				w = New(raw)
			}
			defer w.Close()
			var mu sync.Mutex
			frame := bytes.Repeat([]byte("f"), 200)
			b.SetBytes(int64(len(frame)))
			b.SetParallelism(64)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					_, err := w.Write(frame)
					mu.Unlock()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
