package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// API is a client of herald's HTTP API over a fixed pool of keep-alive
// connections: at most Conns are ever open, and a request waits for a free
// one (that wait is part of its latency). It is safe for concurrent use.
type API struct {
	hc    *fasthttp.HostClient
	base  string
	auth  string
	conns int
}

// NewAPI connects to herald at base (http:// or https://host:port) with at
// most conns connections; key, when set, is sent as a bearer token.
func NewAPI(base, key string, conns int) (*API, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bench: target %q must be http://host:port or https://host:port", base)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("bench: target %q must not have a path", base)
	}
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	conns = max(conns, 1)
	a := &API{base: u.Scheme + "://" + u.Host, conns: conns, hc: &fasthttp.HostClient{
		Addr:                addr,
		IsTLS:               u.Scheme == "https",
		Name:                "herald-bench",
		MaxConns:            conns,
		MaxConnWaitTimeout:  time.Minute,
		MaxIdleConnDuration: time.Minute,
		ReadTimeout:         time.Minute,
		WriteTimeout:        time.Minute,
	}}
	if key != "" {
		a.auth = "Bearer " + key
	}
	return a, nil
}

// URL is the base URL the client talks to.
func (a *API) URL() string { return a.base }

// Close drops idle connections.
func (a *API) Close() { a.hc.CloseIdleConnections() }

// Do sends one request with a JSON body (nil = none) and returns the status
// and, when out is non-nil and the status is 2xx, decodes the answer into it.
// A non-2xx status is returned with an error holding the answer's text.
func (a *API) Do(method, path string, body []byte, out any) (int, error) {
	code, _, err := a.DoRetryAfter(method, path, body, out)
	return code, err
}

// DoRetryAfter is Do that also returns the answer's Retry-After header
// ("" when absent).
func (a *API) DoRetryAfter(method, path string, body []byte, out any) (int, string, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(a.base + path)
	req.Header.SetMethod(method)
	if a.auth != "" {
		req.Header.Set("Authorization", a.auth)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	if err := a.hc.Do(req, resp); err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	code := resp.StatusCode()
	retryAfter := string(resp.Header.Peek(fasthttp.HeaderRetryAfter))
	if code < 200 || code > 299 {
		msg := strings.TrimSpace(string(resp.Body()))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return code, retryAfter, fmt.Errorf("%s %s: %d %s", method, path, code, msg)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return code, retryAfter, fmt.Errorf("%s %s: bad answer: %w", method, path, err)
		}
	}
	return code, retryAfter, nil
}

// Text GETs path and returns the answer's body (2xx only).
func (a *API) Text(path string) ([]byte, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(a.base + path)
	if a.auth != "" {
		req.Header.Set("Authorization", a.auth)
	}
	if err := a.hc.Do(req, resp); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if code := resp.StatusCode(); code < 200 || code > 299 {
		return nil, fmt.Errorf("GET %s: %d", path, code)
	}
	return append([]byte(nil), resp.Body()...), nil
}

// doRetry sends an idempotent request, retrying 503 and connection errors
// a few times with a short backoff (setup must not fail on a hiccup).
func (a *API) doRetry(ctx context.Context, method, path string, body []byte, out any) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var code int
		code, err = a.Do(method, path, body, out)
		if err == nil {
			return nil
		}
		if code != 0 && code != fasthttp.StatusServiceUnavailable && code != fasthttp.StatusTooManyRequests {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
		}
	}
	return err
}

// Device is one registration for POST /v1/devices/batch.
type Device struct {
	UserID    string `json:"user_id"`
	DeviceID  string `json:"device_id"`
	Vendor    string `json:"vendor"`
	Token     string `json:"token"`
	VoIPToken string `json:"voip_token,omitempty"`
}

// maxDeviceBatch and maxGroupChange are the API's per-request limits (the
// group limit is the default messages.max_group_change).
const (
	maxDeviceBatch = 1000
	maxGroupChange = 10000
)

// RegisterDevices binds devices through POST /v1/devices/batch, 1000 per
// request, with workers requests in flight. done, when set, hears how many
// devices each finished batch held.
func (a *API) RegisterDevices(ctx context.Context, devs []Device, workers int, done func(n int)) error {
	var batches [][]Device
	for start := 0; start < len(devs); start += maxDeviceBatch {
		batches = append(batches, devs[start:min(start+maxDeviceBatch, len(devs))])
	}
	return parallel(ctx, len(batches), workers, func(i int) error {
		body, err := json.Marshal(map[string][]Device{"devices": batches[i]})
		if err != nil {
			return err
		}
		if err := a.doRetry(ctx, "POST", "/v1/devices/batch", body, nil); err != nil {
			return err
		}
		if done != nil {
			done(len(batches[i]))
		}
		return nil
	})
}

// AddGroupMembers puts users into group g, 10 000 per request.
func (a *API) AddGroupMembers(ctx context.Context, g string, users []string, workers int) error {
	var chunks [][]string
	for start := 0; start < len(users); start += maxGroupChange {
		chunks = append(chunks, users[start:min(start+maxGroupChange, len(users))])
	}
	return parallel(ctx, len(chunks), workers, func(i int) error {
		body, err := json.Marshal(map[string][]string{"add": chunks[i]})
		if err != nil {
			return err
		}
		return a.doRetry(ctx, "PUT", "/v1/groups/"+url.PathEscape(g)+"/members", body, nil)
	})
}

// PresenceUpdate is one item of POST /v1/presence.
type PresenceUpdate struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	Online   bool   `json:"online"`
	TTLS     int    `json:"ttl_s,omitempty"`
}

// MessageAnswer is the answer to POST /v1/messages.
type MessageAnswer struct {
	MessageID  string `json:"message_id"`
	Recipients int64  `json:"recipients"`
	Online     *int64 `json:"online"`
	Offline    *int64 `json:"offline"`
	Duplicate  bool   `json:"duplicate"`
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error
// (the rest of the work is skipped after one).
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}
