package client

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Key is the API key, sent as "Authorization: Bearer <key>"; "" =
	// none (a daemon without auth.keys).
	Key string
	// MaxConns bounds the keep-alive connections to the daemon; a request
	// waits for a free one. Default 64.
	MaxConns int
	// Timeout bounds one attempt when the context has no deadline (with
	// one, the deadline bounds the whole call, retries included).
	// Default 30s.
	Timeout time.Duration
	// MaxRetries is how many times a call is tried again after a 429 or
	// 503 answer, or after a connection error where the call is safe to
	// repeat (see Client). Default 4; negative = never.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait before a retry: it doubles
	// from MinBackoff, with jitter, up to MaxBackoff; a longer
	// Retry-After is waited in full. Default 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// TLS is the client TLS configuration for an https:// daemon; nil =
	// the system roots.
	TLS *tls.Config
	// UserAgent is sent as User-Agent; default "herald-go-client".
	UserAgent string
}

// Client is a client of herald's HTTP API, safe for concurrent use.
//
// Every call takes a context: its deadline bounds the call including its
// retries, and cancelling it returns at once. A call is retried, with
// backoff and honouring Retry-After, after 429 (rate limited) and 503
// (overloaded or not ready), which herald answers before accepting
// anything. After a connection error (the request may or may not have
// been applied) only calls that are safe to repeat are retried: reads,
// PUT and DELETE, presence, device batches, logout, inbox acks, and
// SendMessage, which sets a message_id when the request has none, so a
// repeat is answered as a duplicate instead of being sent twice.
//
// Error answers are returned as *Error.
type Client struct {
	hc   *fasthttp.HostClient
	base string
	auth string
	o    Options

	jit *jitter

	wait func(ctx context.Context, d time.Duration) error // waits d before a retry (tests record it)
}

// New returns a client of the daemon at baseURL ("http://host:port" or
// "https://host:port", no path).
func New(baseURL string, o Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("herald client: base URL %q must be http://host:port or https://host:port", baseURL)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("herald client: base URL %q must not have a path or query", baseURL)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 4
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.UserAgent == "" {
		o.UserAgent = "herald-go-client"
	}
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	c := &Client{base: u.Scheme + "://" + u.Host, o: o, hc: &fasthttp.HostClient{
		Addr:                addr,
		IsTLS:               u.Scheme == "https",
		TLSConfig:           o.TLS,
		Name:                o.UserAgent,
		MaxConns:            o.MaxConns,
		MaxConnWaitTimeout:  o.Timeout,
		MaxIdleConnDuration: time.Minute,
		// An id's escaped '/' must stay %2F, not become another route.
		DisablePathNormalizing: true,
	}, jit: &jitter{rnd: rand.New(rand.NewChaCha8(seed))}, wait: sleep}
	if o.Key != "" {
		c.auth = "Bearer " + o.Key
	}
	return c, nil
}

// URL is the daemon's base URL.
func (c *Client) URL() string { return c.base }

// Close closes the idle connections (of every WithRetries copy too).
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Error is an error answer of the API.
type Error struct {
	Method, Path string
	Status       int           // the HTTP status
	Code         string        // the API's error code, e.g. CodeInvalidArgument; "" when the body was not the API's
	Message      string        // what went wrong
	Field        string        // the request field at fault, as a JSON path ("" = none)
	Vendor       string        // the vendor whose limit a push breaks ("" = none)
	RetryAfter   time.Duration // the answer's Retry-After (0 = none)
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// The API's error codes (daemon/API.md "Conventions").
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeUnauthenticated  = "unauthenticated"
	CodePermissionDenied = "permission_denied"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodePayloadTooLarge  = "payload_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeOverloaded       = "overloaded"
	CodeHeadersTooLarge  = "headers_too_large"
	CodeStorageFull      = "storage_full"
	CodeInternal         = "internal"
)

// ErrorCode is err's API error code, "" when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// StatusCode is err's HTTP status, 0 when err is not an *Error (no
// answer).
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// repeatable says whether a call may be sent again after a connection
// error, when it may or may not have been applied.
type repeatable bool

const (
	once   repeatable = false
	repeat repeatable = true
)

// call sends method path with in (nil = no body; []byte = the body as
// is) and decodes a 2xx answer into out (nil = ignore it).
func (c *Client) call(ctx context.Context, rep repeatable, method, path string, in, out any) error {
	var body []byte
	switch b := in.(type) {
	case nil:
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, path, body, out)
		if err == nil {
			return nil
		}
		var ae *Error
		retryable := errors.As(err, &ae) && (ae.Status == fasthttp.StatusTooManyRequests || ae.Status == fasthttp.StatusServiceUnavailable) ||
			ae == nil && bool(rep) && ctx.Err() == nil
		if !retryable || attempt >= c.o.MaxRetries {
			return err
		}
		wait := c.backoff(attempt)
		if ae != nil && ae.RetryAfter > wait {
			wait = ae.RetryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err // the answer would come after the caller stops waiting
		}
		if werr := c.wait(ctx, wait); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the wait before retry attempt+1: MinBackoff doubled per
// attempt, at most MaxBackoff, times a jitter in [0.5, 1).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.MaxBackoff
	if attempt < 30 {
		d = min(c.o.MinBackoff<<attempt, c.o.MaxBackoff)
	}
	return time.Duration(float64(d) * c.jit.between(0.5, 1))
}

// jitter is a random source shared by a client and its WithRetries copies.
type jitter struct {
	mu  sync.Mutex
	rnd *rand.Rand
}

// between is a random number in [lo, hi).
func (j *jitter) between(lo, hi float64) float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return lo + j.rnd.Float64()*(hi-lo)
}

// WithRetries is a client sharing c's connections that retries a call up
// to n times (negative = never), e.g. a load generator's client that
// counts every refusal, with a retrying one for its setup.
func (c *Client) WithRetries(n int) *Client {
	cp := *c
	cp.o.MaxRetries = n
	if n == 0 {
		cp.o.MaxRetries = -1
	}
	return &cp
}

// once is one attempt.
func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI(c.base + path)
	req.Header.SetMethod(method)
	req.Header.SetUserAgent(c.o.UserAgent)
	if c.auth != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, c.auth)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.o.Timeout)
	}
	if ctx.Done() == nil { // never cancelled: no goroutine needed
		err := c.hc.DoDeadline(req, resp, deadline)
		return c.finish(req, resp, err, method, path, out)
	}
	done := make(chan error, 1)
	go func() { done <- c.hc.DoDeadline(req, resp, deadline) }()
	select {
	case err := <-done:
		return c.finish(req, resp, err, method, path, out)
	case <-ctx.Done():
		go func() { // the request still owns req and resp until it returns
			<-done
			fasthttp.ReleaseRequest(req)
			fasthttp.ReleaseResponse(resp)
		}()
		return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
	}
}

// finish reads the answer of one attempt and releases req and resp.
func (c *Client) finish(req *fasthttp.Request, resp *fasthttp.Response, err error, method, path string, out any) error {
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return answerError(method, path, status, resp)
	}
	if out == nil || status == fasthttp.StatusNoContent {
		return nil
	}
	switch o := out.(type) {
	case *[]byte:
		*o = append((*o)[:0], resp.Body()...)
		return nil
	default:
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return fmt.Errorf("%s %s: %d answer is not the expected JSON: %w", method, path, status, err)
		}
		return nil
	}
}

func answerError(method, path string, status int, resp *fasthttp.Response) *Error {
	e := &Error{Method: method, Path: path, Status: status}
	if ra := string(resp.Header.Peek(fasthttp.HeaderRetryAfter)); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil && secs > 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if at, err := time.Parse(time.RFC1123, ra); err == nil {
			e.RetryAfter = max(time.Until(at), 0)
		}
	}
	var body ErrorResponse
	if err := json.Unmarshal(resp.Body(), &body); err == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field, e.Vendor = body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Vendor
		return e
	}
	msg := strings.TrimSpace(string(resp.Body()))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	e.Message = msg
	return e
}

// NewMessageID is a fresh random message id ("m" and 24 hex digits).
func NewMessageID() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return "m" + hex.EncodeToString(b[:])
}

func esc(s string) string { return url.PathEscape(s) }
