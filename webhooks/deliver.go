package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Endpoint is one receiver of herald's events.
type Endpoint struct {
	Name    string   // unique; names it in the store, the admin API, logs and metrics (never the URL)
	URL     string   // http(s); events are POSTed here
	Events  []string // the event types it takes (store.EventTypes)
	Keys    [][]byte // signing keys (ParseSecret); each signs every delivery, so two are valid during a rotation
	Timeout time.Duration
	// Client posts to this endpoint (its own roots, say); nil =
	// Options.Client.
	Client *http.Client
}

// Options configures a Dispatcher. Store, Clock, Log and Endpoints are
// required; zero values of the rest take the defaults given.
type Options struct {
	Store     *store.Store
	Clock     clock.Clock
	Log       *slog.Logger
	Endpoints []Endpoint
	// Client posts the deliveries of endpoints without their own; nil =
	// NoRedirects(nil).
	Client *http.Client
	// Vendors are the vendors whose rows message.completed counts.
	Vendors       []string
	BatchMax      int           // events per request; default 100
	MaxAttempts   int           // failed deliveries of an event before it is dead-lettered; default 20
	MinBackoff    time.Duration // wait after the first failure, doubled after each; default 1s
	MaxBackoff    time.Duration // the wait's cap; default 10m
	SweepInterval time.Duration // how often settled messages are looked for (message.completed, receipt.delivered); default 1s
	ReceiptDelay  time.Duration // receipts of a message gathered into one receipt.delivered; default 10s
	// Jitter returns a number in [0, 1): a wait is scaled by 0.5 + Jitter()/2
	// (nil = math/rand/v2).
	Jitter func() float64
}

// Dispatcher delivers the store's webhook events to their endpoints: one
// loop per endpoint takes the oldest events (at most BatchMax) and POSTs
// them in one signed request; a 2xx answer removes them, anything else
// is retried with exponential backoff and jitter (each try takes the
// oldest events again), and an event that has failed MaxAttempts
// deliveries is dead-lettered (listable and replayable per endpoint).
// Events stay in Pebble until delivered, so neither a crash nor a
// receiver down for hours loses one.
type Dispatcher struct {
	o     Options
	eps   []*endpoint
	byN   map[string]*endpoint
	stop  chan struct{}
	wg    sync.WaitGroup
	sweep func()

	descs []*prometheus.Desc
}

type endpoint struct {
	Endpoint
	kick chan struct{}

	mu sync.Mutex
	st EndpointStats
}

// EndpointStats is one endpoint's delivery state.
type EndpointStats struct {
	Name          string     `json:"name"`
	Events        []string   `json:"events"`
	Delivered     int64      `json:"delivered"`       // events delivered (a 2xx answer) since start
	Requests      int64      `json:"requests"`        // deliveries tried since start
	Failures      int64      `json:"failures"`        // deliveries that failed since start
	DeadLettered  int64      `json:"dead_lettered"`   // events dead-lettered since start
	Failing       int        `json:"failing"`         // failed deliveries in a row (0 = healthy)
	LastError     string     `json:"last_error"`      // the last failure's reason
	LastSuccess   *time.Time `json:"last_success"`    // null = none since start
	NextAttemptAt *time.Time `json:"next_attempt_at"` // while failing: when the batch is tried again; else null
}

// New checks o and returns a Dispatcher; Start begins delivering.
func New(o Options) (*Dispatcher, error) {
	if o.Store == nil || o.Clock == nil || o.Log == nil {
		return nil, errors.New("webhooks: Options.Store, Clock and Log are required")
	}
	if o.BatchMax <= 0 {
		o.BatchMax = 100
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Second
	}
	if o.ReceiptDelay <= 0 {
		o.ReceiptDelay = 10 * time.Second
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Client == nil {
		o.Client = NoRedirects(nil)
	}
	d := &Dispatcher{o: o, byN: map[string]*endpoint{}, stop: make(chan struct{})}
	for _, e := range o.Endpoints {
		if e.Name == "" || d.byN[e.Name] != nil {
			return nil, fmt.Errorf("webhooks: endpoint name %q is empty or repeated", e.Name)
		}
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("webhooks: endpoint %q: url must be http(s) with a host", e.Name)
		}
		if e.Timeout <= 0 {
			e.Timeout = 10 * time.Second
		}
		if e.Client == nil {
			e.Client = o.Client
		}
		ep := &endpoint{Endpoint: e, kick: make(chan struct{}, 1)}
		ep.st.Name, ep.st.Events = e.Name, e.Events
		d.eps = append(d.eps, ep)
		d.byN[e.Name] = ep
	}
	d.descs = []*prometheus.Desc{
		prometheus.NewDesc("herald_webhook_events_total", "Webhook events by endpoint and result (delivered, dead_lettered).", []string{"endpoint", "result"}, nil),
		prometheus.NewDesc("herald_webhook_requests_total", "Webhook deliveries by endpoint and result (ok, failed).", []string{"endpoint", "result"}, nil),
		prometheus.NewDesc("herald_webhook_failing", "Failed webhook deliveries in a row per endpoint (0 = healthy).", []string{"endpoint"}, nil),
	}
	return d, nil
}

// rescanEvery is how often an endpoint's loop reads its events from the
// oldest again, to find one whose batch committed behind its cursor.
const rescanEvery = 5 * time.Second

// NoRedirects is a client for deliveries over rt (nil = a clone of
// http.DefaultTransport): it never follows a redirect, so a signed
// delivery goes only where it was configured to (a 3xx is a failure).
func NoRedirects(rt http.RoundTripper) *http.Client {
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Routes is which event types each endpoint takes, for
// store.SetWebhookRoutes.
func (d *Dispatcher) Routes() map[string][]string {
	r := map[string][]string{}
	for _, ep := range d.eps {
		r[ep.Name] = ep.Events
	}
	return r
}

// Start sets the store's routes and starts the endpoint loops and the
// watch sweep.
func (d *Dispatcher) Start() {
	d.o.Store.SetWebhookRoutes(d.Routes())
	for _, ep := range d.eps {
		d.wg.Add(1)
		go d.run(ep)
		ep.kick <- struct{}{} // look at what a previous run left
	}
	d.wg.Add(1)
	go d.relay()
	d.sweep = clock.Every(d.o.Clock, d.o.SweepInterval, d.Sweep)
}

// Stop ends delivery; a request in flight is abandoned (its events stay
// queued). Events keep being written to the store until its routes are
// cleared or it closes.
func (d *Dispatcher) Stop() {
	select {
	case <-d.stop:
		return
	default:
	}
	close(d.stop)
	if d.sweep != nil {
		d.sweep()
	}
	d.wg.Wait()
}

// relay passes the store's wake-up to every endpoint loop.
func (d *Dispatcher) relay() {
	defer d.wg.Done()
	for {
		select {
		case <-d.stop:
			return
		case <-d.o.Store.WebhookKick():
			for _, ep := range d.eps {
				select {
				case ep.kick <- struct{}{}:
				default:
				}
			}
		}
	}
}

// Sweep writes the events that wait on messages settling (the sweep runs
// every SweepInterval; tests call it after advancing their clock).
func (d *Dispatcher) Sweep() {
	for {
		_, more, err := d.o.Store.SweepWatches(d.o.Vendors, d.o.ReceiptDelay, 1000)
		if err != nil {
			if !errors.Is(err, store.ErrClosed) {
				d.o.Log.Error("webhook watch sweep failed", "err", err)
			}
			return
		}
		if !more {
			return
		}
		select {
		case <-d.stop:
			return
		default:
		}
	}
}

func (d *Dispatcher) run(ep *endpoint) {
	defer d.wg.Done()
	log := d.o.Log.With("endpoint", ep.Name)
	// The loop reads on after the last event delivered (cursor) rather
	// than from the oldest: the events delivered before leave tombstones
	// that a read from the oldest would step over every time. An event
	// whose batch committed late can sit behind the cursor, so the read
	// goes back to the oldest when it finds nothing and at least every
	// rescanEvery.
	cursor := ""
	lastFull := d.o.Clock.Now()
	for {
		from := cursor
		if from != "" && d.o.Clock.Now().Sub(lastFull) >= rescanEvery {
			from = ""
		}
		evs, err := d.o.Store.WebhookPending(ep.Name, from, d.o.BatchMax)
		if errors.Is(err, store.ErrClosed) {
			return
		}
		if err != nil {
			log.Error("reading webhook events failed", "err", err)
			if !d.wait(d.o.MaxBackoff) {
				return
			}
			continue
		}
		if from == "" {
			lastFull = d.o.Clock.Now()
		}
		if len(evs) == 0 {
			if from != "" {
				cursor = "" // nothing after the cursor: look behind it once
				continue
			}
			cursor = ""
			select {
			case <-d.stop:
				return
			case <-ep.kick:
			}
			continue
		}
		derr := d.deliver(ep, evs)
		select {
		case <-d.stop:
			return // abandoned by Stop: not an attempt of the events
		default:
		}
		ep.mu.Lock()
		ep.st.Requests++
		if derr == nil {
			ep.st.Delivered += int64(len(evs))
			now := d.o.Clock.Now()
			ep.st.Failing, ep.st.LastSuccess, ep.st.NextAttemptAt = 0, &now, nil
			ep.mu.Unlock()
			if err := d.o.Store.WebhookDelivered(ep.Name, evs); err != nil && !errors.Is(err, store.ErrClosed) {
				log.Error("removing delivered webhook events failed (they will be delivered again)", "err", err)
			}
			cursor = evs[len(evs)-1].ID
			continue
		}
		reason := derr.Error()
		var dead, retry []store.HookEvent
		most := int64(0) // the batch's most attempts: the wait follows it, so a restart does not shorten it
		for _, e := range evs {
			e.Attempts++
			e.LastError = reason
			most = max(most, e.Attempts)
			if e.Attempts >= int64(d.o.MaxAttempts) {
				dead = append(dead, e)
			} else {
				retry = append(retry, e)
			}
		}
		ep.st.Failures++
		ep.st.Failing++
		ep.st.LastError = reason
		failing := ep.st.Failing
		wait := d.backoff(int(max(most, int64(failing))))
		next := d.o.Clock.Now().Add(wait)
		ep.st.NextAttemptAt = &next
		ep.mu.Unlock()
		stored := true // the attempts are recorded: without that, waiting is the only way to bound the retries
		if len(dead) > 0 {
			if err := d.o.Store.WebhookDeadLetter(ep.Name, dead); err != nil {
				if errors.Is(err, store.ErrClosed) {
					return
				}
				stored = false
				log.Error("dead-lettering webhook events failed", "err", err)
			} else {
				ep.mu.Lock()
				ep.st.DeadLettered += int64(len(dead))
				ep.mu.Unlock()
				log.Warn("webhook events dead-lettered", "events", len(dead), "attempts", dead[0].Attempts, "reason", reason)
			}
		}
		if len(retry) > 0 {
			if err := d.o.Store.WebhookFailed(ep.Name, retry); err != nil {
				if errors.Is(err, store.ErrClosed) {
					return
				}
				stored = false
				log.Error("recording webhook attempts failed", "err", err)
			}
		}
		if failing == 1 || failing%10 == 0 {
			log.Warn("webhook delivery failed; retrying", "events", len(evs), "failing", failing, "retry_in", wait.String(), "reason", reason)
		}
		if stored && len(dead) == len(evs) {
			continue // what failed is dead: go on with the next events at once
		}
		if !d.wait(wait) {
			return
		}
	}
}

// backoff is the wait after the n-th failure in a row: MinBackoff
// doubled n-1 times, capped at MaxBackoff, scaled into [1/2, 1) by jitter.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.o.MinBackoff
	for i := 1; i < n && w < d.o.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.o.MaxBackoff)
	return time.Duration(float64(w) * (0.5 + d.o.Jitter()/2))
}

// wait waits w on the clock; false when stopped meanwhile.
func (d *Dispatcher) wait(w time.Duration) bool {
	t := d.o.Clock.NewTimer(w)
	defer t.Stop()
	select {
	case <-d.stop:
		return false
	case <-t.C():
		return true
	}
}

// Delivery is the body of a webhook request.
type Delivery struct {
	Events []Event `json:"events"`
}

// Event is one event in a delivery. ID is the same on every delivery of
// it (deduplicate on it); Timestamp is when the change happened.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Body returns a delivery's body and its webhook-id: the id is made of
// the events' ids, so a batch retried as it was carries the same one.
func Body(evs []store.HookEvent) (body []byte, id string, err error) {
	del := Delivery{Events: make([]Event, len(evs))}
	h := sha256.New()
	for i, e := range evs {
		del.Events[i] = Event{ID: e.ID, Type: e.Type, Timestamp: time.UnixMilli(e.At).UTC(), Data: e.Data}
		h.Write([]byte(e.ID))
	}
	body, err = json.Marshal(del)
	return body, "msg_" + hex.EncodeToString(h.Sum(nil)[:16]), err
}

// deliver POSTs evs to ep; nil when it answered 2xx.
func (d *Dispatcher) deliver(ep *endpoint, evs []store.HookEvent) error {
	body, id, err := Body(evs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ep.Timeout)
	defer cancel()
	go func() {
		select {
		case <-d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad url")
	}
	ts := d.o.Clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald-webhooks")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if len(ep.Keys) > 0 {
		req.Header.Set(HeaderSignature, Sign(ep.Keys, id, ts, body))
	}
	resp, err := ep.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its text repeats the URL, which may hold a secret
			err = ue.Err
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Has reports whether name is a configured endpoint.
func (d *Dispatcher) Has(name string) bool { return d.byN[name] != nil }

// Names lists the endpoints in config order.
func (d *Dispatcher) Names() []string {
	out := make([]string, len(d.eps))
	for i, ep := range d.eps {
		out[i] = ep.Name
	}
	return out
}

// Stats returns every endpoint's delivery state, in config order.
func (d *Dispatcher) Stats() []EndpointStats {
	out := make([]EndpointStats, len(d.eps))
	for i, ep := range d.eps {
		ep.mu.Lock()
		out[i] = ep.st
		out[i].Events = slices.Clone(ep.st.Events)
		ep.mu.Unlock()
	}
	return out
}

// Describe implements prometheus.Collector.
func (d *Dispatcher) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range d.descs {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (d *Dispatcher) Collect(ch chan<- prometheus.Metric) {
	for _, s := range d.Stats() {
		ch <- prometheus.MustNewConstMetric(d.descs[0], prometheus.CounterValue, float64(s.Delivered), s.Name, "delivered")
		ch <- prometheus.MustNewConstMetric(d.descs[0], prometheus.CounterValue, float64(s.DeadLettered), s.Name, "dead_lettered")
		ch <- prometheus.MustNewConstMetric(d.descs[1], prometheus.CounterValue, float64(s.Requests-s.Failures), s.Name, "ok")
		ch <- prometheus.MustNewConstMetric(d.descs[1], prometheus.CounterValue, float64(s.Failures), s.Name, "failed")
		ch <- prometheus.MustNewConstMetric(d.descs[2], prometheus.GaugeValue, float64(s.Failing), s.Name)
	}
}
