package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/herald-push/herald/client"
)

// API is herald's Go client (package client) as the bench drives it: over
// a fixed pool of keep-alive connections (at most Conns are ever open, and
// a request waits for a free one: that wait is part of its latency), and
// without retries, so that every refusal is counted where it happened.
// Setup requests retry through setup().
type API = client.Client

// setupRetries is how often a setup request is retried (after 429, 503
// or a connection error): setup must not fail on a hiccup.
const setupRetries = 8

// NewAPI connects to herald at base (http:// or https://host:port) with at
// most conns connections; key, when set, is sent as a bearer token.
func NewAPI(base, key string, conns int) (*API, error) {
	c, err := client.New(base, client.Options{Key: key, MaxConns: max(conns, 1), Timeout: time.Minute,
		MaxRetries: -1, MinBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second, UserAgent: "herald-bench"})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return c, nil
}

// setup is api retrying, for setup requests.
func setup(api *API) *API { return api.WithRetries(setupRetries) }

// Device is one registration for POST /v1/devices/batch.
type Device = client.BatchDevice

// maxDeviceBatch and maxGroupChange are the API's per-request limits (the
// group limit is the default messages.max_group_change).
const (
	maxDeviceBatch = 1000
	maxGroupChange = 10000
)

// RegisterDevices binds devices through POST /v1/devices/batch, 1000 per
// request, with workers requests in flight. done, when set, hears how many
// devices each finished batch held.
func registerDevices(ctx context.Context, api *API, devs []Device, workers int, done func(n int)) error {
	var batches [][]Device
	for start := 0; start < len(devs); start += maxDeviceBatch {
		batches = append(batches, devs[start:min(start+maxDeviceBatch, len(devs))])
	}
	return parallel(ctx, len(batches), workers, func(i int) error {
		if _, err := setup(api).PutDevices(ctx, batches[i]); err != nil {
			return err
		}
		if done != nil {
			done(len(batches[i]))
		}
		return nil
	})
}

// AddGroupMembers puts users into group g, 10 000 per request.
func addGroupMembers(ctx context.Context, api *API, g string, users []string, workers int) error {
	var chunks [][]string
	for start := 0; start < len(users); start += maxGroupChange {
		chunks = append(chunks, users[start:min(start+maxGroupChange, len(users))])
	}
	return parallel(ctx, len(chunks), workers, func(i int) error {
		_, err := setup(api).ChangeGroup(ctx, g, chunks[i], nil)
		return err
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
type MessageAnswer = client.MessageResponse

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
