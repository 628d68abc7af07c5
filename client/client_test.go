package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
)

// script is a server answering each request with the next of its
// answers (the last one repeats), recording the requests.
type script struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	bodies  []string
	paths   []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.paths = append(s.paths, r.Method+" "+r.RequestURI)
	a := s.answers[min(len(s.bodies), len(s.answers))-1]
	s.mu.Unlock()
	a(w)
}

func (s *script) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func status(code int, retryAfter string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

const overloadedBody = `{"error":{"code":"overloaded","message":"busy"}}`

// newTestClient is a client of the script's server whose waits before a
// retry are recorded, not slept.
func newTestClient(t *testing.T, s *script, o Options) (*Client, *[]time.Duration) {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var waits []time.Duration
	c.wait = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return c, &waits
}

// A 503 with Retry-After is retried after at least Retry-After, a 429
// too; then the 2xx answer is decoded.
func TestRetryHonoursRetryAfter(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){
		status(503, "3", overloadedBody),
		status(429, "", `{"error":{"code":"overloaded","message":"slow down","vendor":"huawei"}}`),
		status(200, "", `{"message_id":"m1","recipients":1}`),
	}}
	c, waits := newTestClient(t, s, Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	ans, err := c.SendMessage(t.Context(), MessageRequest{MessageID: "m1", From: "a", To: &MessageTo{Type: "peer", ID: "b"}})
	if err != nil || ans.MessageID != "m1" || ans.Recipients != 1 {
		t.Fatalf("answer %+v, %v", ans, err)
	}
	if s.requests() != 3 || len(*waits) != 2 {
		t.Fatalf("%d requests, waits %v; want 3 and 2", s.requests(), *waits)
	}
	if w := (*waits)[0]; w != 3*time.Second {
		t.Fatalf("first wait %v; want Retry-After's 3s", w)
	}
	if w := (*waits)[1]; w < 100*time.Millisecond || w > 200*time.Millisecond {
		t.Fatalf("second wait %v; want the backoff of attempt 2 (100ms doubled, jittered ×0.5–1)", w)
	}
}

// Retries stop at MaxRetries; the last answer is the error, typed.
func TestRetriesBoundedAndErrorTyped(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(503, "1", overloadedBody)}}
	c, waits := newTestClient(t, s, Options{MaxRetries: 2})
	_, err := c.Stats(t.Context())
	var e *Error
	if !errors.As(err, &e) || e.Status != 503 || e.Code != CodeOverloaded || e.Message != "busy" || e.RetryAfter != time.Second {
		t.Fatalf("error %#v", err)
	}
	if s.requests() != 3 || len(*waits) != 2 {
		t.Fatalf("%d requests, %d waits; want 3 and 2", s.requests(), len(*waits))
	}
	s = &script{answers: []func(http.ResponseWriter){status(503, "", overloadedBody)}}
	c, _ = newTestClient(t, s, Options{MaxRetries: -1})
	if _, err := c.Stats(t.Context()); StatusCode(err) != 503 || s.requests() != 1 {
		t.Fatalf("MaxRetries -1: %v after %d requests; want one 503", err, s.requests())
	}
}

// A Retry-After longer than the context's time left is not waited: the
// caller gets the answer at once.
func TestRetryAfterPastTheDeadlineReturns(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(503, "30", overloadedBody)}}
	c, waits := newTestClient(t, s, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.Stats(ctx); StatusCode(err) != 503 || len(*waits) != 0 || s.requests() != 1 {
		t.Fatalf("err %v, waits %v, %d requests; want the 503 without waiting", err, *waits, s.requests())
	}
}

// Other 4xx are not retried and carry the field.
func TestInvalidArgumentNotRetried(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(400, "", `{"error":{"code":"invalid_argument","message":"bad","field":"to.id"}}`)}}
	c, _ := newTestClient(t, s, Options{})
	_, err := c.SendMessage(t.Context(), MessageRequest{})
	var e *Error
	if !errors.As(err, &e) || e.Field != "to.id" || ErrorCode(err) != CodeInvalidArgument || s.requests() != 1 {
		t.Fatalf("err %#v after %d requests", err, s.requests())
	}
}

// SendMessage without a message_id sets one, and every retry sends the
// same id: the daemon answers a repeat as a duplicate.
func TestSendMessageSetsOneIDForItsRetries(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(503, "", overloadedBody), status(200, "", `{"message_id":"x"}`)}}
	c, _ := newTestClient(t, s, Options{})
	if _, err := c.SendMessage(t.Context(), MessageRequest{From: "a"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range s.bodies {
		var m MessageRequest
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.MessageID)
	}
	if len(ids) != 2 || ids[0] == "" || ids[0] != ids[1] || len(ids[0]) != 25 {
		t.Fatalf("message ids %q; want one generated id sent twice", ids)
	}
}

// flakyListener closes the first n connections as soon as they are
// accepted: the client sees a connection error, not an answer.
type flakyListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		drop := l.n > 0
		l.n--
		l.mu.Unlock()
		if !drop {
			return c, nil
		}
		_ = c.Close()
	}
}

// After a connection error only calls safe to repeat are retried: a
// message send (by its message_id) is, a call invitation is not.
func TestConnectionErrorRetriesOnlyRepeatableCalls(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(200, "", `{"message_id":"m","call_id":"c"}`)}}
	start := func(drops int) (*Client, *[]time.Duration) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(s)
		srv.Listener = &flakyListener{Listener: ln, n: drops}
		srv.Start()
		t.Cleanup(srv.Close)
		c, err := New(srv.URL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		var waits []time.Duration
		c.wait = func(context.Context, time.Duration) error { waits = append(waits, 0); return nil }
		return c, &waits
	}
	c, waits := start(1)
	if _, err := c.SendMessage(t.Context(), MessageRequest{From: "a"}); err != nil || len(*waits) != 1 {
		t.Fatalf("message after a dropped connection: %v, %d retries; want success after 1", err, len(*waits))
	}
	c, waits = start(1)
	if _, err := c.InviteCall(t.Context(), CallRequest{Inviter: "a"}); err == nil || StatusCode(err) != 0 || len(*waits) != 0 {
		t.Fatalf("call after a dropped connection: %v, %d retries; want the connection error, no retry", err, len(*waits))
	}
}

// Cancelling the context returns at once, while the request still waits
// for its answer.
func TestCancelReturnsWhileTheRequestWaits(t *testing.T) {
	release := make(chan struct{})
	s := &script{answers: []func(http.ResponseWriter){func(w http.ResponseWriter) { <-release; status(200, "", `{}`)(w) }}}
	c, _ := newTestClient(t, s, Options{})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { _, err := c.Stats(ctx); errc <- err }()
	testutil.WaitFor(t, 10*time.Second, func() bool { return s.requests() == 1 }, "the request at the server")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want context.Canceled", err)
	}
}

// Paging and path parameters are escaped.
func TestPathsAndQueries(t *testing.T) {
	s := &script{answers: []func(http.ResponseWriter){status(200, "", `{}`)}}
	c, _ := newTestClient(t, s, Options{})
	ctx := t.Context()
	_, _ = c.GroupMembers(ctx, "a/b c", Page{After: "u 1", Limit: 5})
	_, _ = c.DeadLetters(ctx, "", Page{})
	_, _ = c.DeadLetters(ctx, "fcm", Page{Limit: 2})
	_, _ = c.Inbox(ctx, "u", 7, 0)
	want := []string{"GET /v1/groups/a%2Fb%20c/members?after=u+1&limit=5", "GET /v1/admin/dead-letters",
		"GET /v1/admin/dead-letters?limit=2&vendor=fcm", "GET /v1/users/u/inbox?after=7"}
	for i, w := range want {
		if s.paths[i] != w {
			t.Errorf("request %d: %s; want %s", i, s.paths[i], w)
		}
	}
}
