package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/valyala/fasthttp"
)

// FuzzRawHTTP feeds arbitrary bytes, as one client connection would carry
// them, to the daemon's own fasthttp server and handler over a real store.
// For every input: no handler panics (its recover answers 500 and logs
// "handler panicked"), what comes back parses as HTTP responses, one per
// request served plus at most one for input fasthttp could not read (or
// nothing at all), and every 4xx/5xx carries the API's JSON error body.
// CI runs it briefly; for a longer run:
//
//	go test ./daemon -run '^$' -fuzz FuzzRawHTTP -fuzztime 10m
func FuzzRawHTTP(f *testing.F) {
	const key = "fuzz-key"
	logs := &panicLog{}
	s := startDaemon(f, func(c *configs.Config) {
		c.Auth.Keys = []configs.Key{{Name: "fuzz", Key: key, Scopes: []string{"ingest", "admin"}}}
	}, Env{Logger: slog.New(logs)})
	for _, seed := range rawHTTPSeeds("Authorization: Bearer " + key + "\r\n") {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		srv := s.d.api.HTTPServer()
		var methods []string // of the requests the handler served, in order
		handle := srv.Handler
		srv.Handler = func(rc *fasthttp.RequestCtx) {
			methods = append(methods, string(rc.Method()))
			handle(rc)
		}
		conn := &scriptedConn{in: bytes.NewReader(in)}
		_ = srv.ServeConn(conn) // an error only says the input ended in a broken request
		if p := logs.take(); len(p) > 0 {
			t.Fatalf("input %s: %s", snip(in), strings.Join(p, "\n"))
		}
		checkReplies(t, in, conn.out.Bytes(), methods)
	})
}

// checkReplies parses out as the answers to the served requests' methods
// (a HEAD answer has no body), then at most one error answer.
func checkReplies(t *testing.T, in, out []byte, methods []string) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(out))
	final := 0
	for {
		if _, err := br.Peek(1); err == io.EOF {
			break
		}
		req := &http.Request{Method: http.MethodGet}
		if final < len(methods) {
			req.Method = methods[final]
		}
		r, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("input %s: answer %d does not parse: %v\nanswers: %s", snip(in), final+1, err, snip(out))
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			t.Fatalf("input %s: answer %d: body: %v\nanswers: %s", snip(in), final+1, err, snip(out))
		}
		if r.StatusCode < 200 {
			continue // 100 Continue, then the answer itself
		}
		final++
		if r.StatusCode == http.StatusInternalServerError {
			t.Fatalf("input %s: 500 %s", snip(in), body)
		}
		if r.StatusCode >= 400 && req.Method != http.MethodHead {
			var e errBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
				t.Fatalf("input %s: %d without an API error body: %q", snip(in), r.StatusCode, body)
			}
		}
	}
	if final != len(methods) && final != len(methods)+1 {
		t.Fatalf("input %s: %d answers to %d requests served\nanswers: %s", snip(in), final, len(methods), snip(out))
	}
}

// rawHTTPSeeds are requests against the real routes, with and without the
// key (auth is the line "Authorization: Bearer …\r\n"), and the framings
// and headers the strict-input rules refuse.
func rawHTTPSeeds(auth string) []string {
	dev := `{"vendor":"fcm","token":"tok-1"}`
	msg := `{"message_id":"m1","from":"a","to":{"type":"peer","id":"u1"},"body":{"text":"hi"}}`
	req := func(method, path, headers, body string) string {
		if body != "" {
			headers += fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
		}
		return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n%s", method, path, headers, body)
	}
	var flood strings.Builder
	flood.WriteString("GET /healthz HTTP/1.1\r\nHost: x\r\n")
	for i := range 1000 {
		fmt.Fprintf(&flood, "X-H%d: v\r\n", i)
	}
	flood.WriteString("\r\n")
	return []string{
		req("GET", "/healthz", "", ""),
		req("GET", "/readyz", "", "") + req("HEAD", "/healthz", "", "") + req("GET", "/metrics", "Connection: close\r\n", ""),
		req("PUT", "/v1/users/u1/devices/d1", auth, dev),
		req("PUT", "/v1/users/u1/devices/d1", "", dev),
		req("PUT", "/v1/users/u1/devices/d1", "Authorization: Bearer nope\r\n", dev),
		req("PUT", "/v1/users/u1/devices/d1", auth, dev) + req("GET", "/v1/users/u1", auth, "") + req("DELETE", "/v1/users/u1/devices/d1", auth, ""),
		req("POST", "/v1/messages", auth, msg),
		req("POST", "/v1/presence", auth, `{"updates":[{"user_id":"u1","device_id":"d1","online":true,"ttl_s":90}]}`),
		req("PUT", "/v1/users/u1/badge", auth, `{"count":3}`),
		req("PUT", "/v1/groups/g1/members", auth, `{"add":["u1","u2"]}`),
		req("GET", "/v1/users/u1/inbox", auth, ""),
		req("GET", "/v1/admin/dead-letters?vendor=fcm", auth, ""),
		req("POST", "/v1/admin/reload", auth, ""),
		req("BREW", "/healthz", "", ""),
		req("GET", "/v1/nope", auth, ""),
		// Framing: both lengths (with a GET smuggled after the chunked
		// body), chunked alone, 100-continue, a body beyond the limit,
		// HTTP/1.0, no Host.
		"POST /v1/messages HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + req("GET", "/v1/users/u1", auth, ""),
		"PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: identity\r\nContent-Length: 32\r\n\r\n" + dev,
		fmt.Sprintf("PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", auth, len(dev), dev),
		fmt.Sprintf("PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n%s", auth, len(dev), dev),
		"PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{",
		"GET /healthz HTTP/1.0\r\n\r\n",
		"GET /healthz HTTP/1.1\r\n\r\n",
		flood.String(),
		// Bad escapes and ids.
		req("GET", "/v1/users/%zz", auth, ""),
		req("DELETE", "/v1/users/u1/devices/a%g1", auth, ""),
		req("GET", "/v1/users/%E2%82", auth, ""),
		req("GET", "/v1/users/%2E%2E", auth, ""),
		req("GET", "/v1/users/a%2Fb?x=%", auth, ""),
		"\x00\x01\r\n\r\n",
	}
}

// scriptedConn is a client connection that sends in and then nothing more
// (reads return io.EOF), keeping what the server writes. Server.ServeConn
// serves it in the caller's goroutine: nothing waits on a clock and nothing
// outlives the input.
type scriptedConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *scriptedConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *scriptedConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *scriptedConn) Close() error                { return nil }
func (c *scriptedConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
}
func (c *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// panicLog is the daemon's logger under the fuzz target: it keeps the
// "handler panicked" records (with their panic value and stack) and drops
// the rest.
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (l *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *panicLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *panicLog) WithGroup(string) slog.Handler            { return l }

func (l *panicLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "handler panicked") {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, "\n%s: %s", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.panics = append(l.panics, b.String())
	return nil
}

// take returns the panics logged since the last call.
func (l *panicLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.panics
	l.panics = nil
	return p
}

// snip quotes b, shortened to its ends when long.
func snip(b []byte) string {
	if len(b) <= 400 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q … %q (%d bytes)", b[:200], b[len(b)-200:], len(b))
}
