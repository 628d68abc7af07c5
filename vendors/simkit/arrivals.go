package simkit

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// ArrivalOptions configure the arrival receipts the simulators post.
type ArrivalOptions struct {
	// Delay is how long after accepting a push its receipt is posted (a
	// real vendor's takes seconds: the device must answer first).
	Delay time.Duration
	// Loss is the fraction of delivered tokens whose receipt is never
	// posted (0 to 1), as a device that never answers; counted as lost.
	Loss float64
	// Seed seeds the loss draw, so a run is repeatable; 0 = 1.
	Seed uint64
	// Client posts the receipts; nil = a client with a 10 s timeout.
	Client *http.Client
}

// ArrivalStats are one vendor's arrival-receipt counters, in tokens.
type ArrivalStats struct {
	Posted  int64 `json:"posted"`  // tokens in receipts the receiver answered 2xx
	Lost    int64 `json:"lost"`    // tokens whose receipt was dropped on purpose (Loss)
	Failed  int64 `json:"failed"`  // tokens in receipts the receiver refused or never answered, after every retry
	Pending int64 `json:"pending"` // tokens waiting for their delay or in a request now
}

// Arrivals posts the vendors' arrival receipts: each simulator hands it the
// tokens it accepted and how to build its vendor's receipt request; after
// the delay, the tokens not lost are posted. A nil *Arrivals posts nothing.
// Safe for concurrent use.
type Arrivals struct {
	client *http.Client

	mu     sync.Mutex
	delay  time.Duration
	loss   float64
	rng    *rand.Rand
	stats  map[string]*ArrivalStats
	timers map[*time.Timer]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewArrivals returns an Arrivals posting per opts.
func NewArrivals(opts ArrivalOptions) *Arrivals {
	c := opts.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	a := &Arrivals{client: c, rng: rand.New(rand.NewPCG(seed, seed)), stats: map[string]*ArrivalStats{},
		timers: map[*time.Timer]struct{}{}}
	a.Set(opts.Delay, opts.Loss)
	return a
}

// Set changes the delay and loss rate of receipts posted from now on.
func (a *Arrivals) Set(delay time.Duration, loss float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delay = max(delay, 0)
	a.loss = min(max(loss, 0), 1)
}

// BuildReceipt makes one receipt request for tokens (a vendor's own URL,
// body and headers); it is called again for every retry.
type BuildReceipt func(tokens []string) (*http.Request, error)

// Post reports that vendor accepted a push for tokens whose receipt goes
// to the URL build puts in its requests: after the delay, every token not
// lost is posted, at most perRequest tokens to a request (0 = all in one).
func (a *Arrivals) Post(vendor string, tokens []string, perRequest int, build BuildReceipt) {
	if a == nil || len(tokens) == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.get(vendor)
	if a.closed {
		st.Failed += int64(len(tokens))
		return
	}
	kept := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if a.loss > 0 && a.rng.Float64() < a.loss {
			st.Lost++
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		return
	}
	st.Pending += int64(len(kept))
	if perRequest <= 0 {
		perRequest = len(kept)
	}
	a.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(a.delay, func() {
		defer a.wg.Done()
		a.mu.Lock()
		delete(a.timers, t)
		a.mu.Unlock()
		for len(kept) > 0 {
			n := min(perRequest, len(kept))
			a.deliver(vendor, kept[:n], build)
			kept = kept[n:]
		}
	})
	a.timers[t] = struct{}{}
}

// receiptRetries is how many times a refused receipt is posted again
// (the vendors retry a receiver that does not answer 200).
const receiptRetries = 5

// deliver posts one receipt request, retried with a growing pause.
func (a *Arrivals) deliver(vendor string, tokens []string, build BuildReceipt) {
	pause := 200 * time.Millisecond
	var ok bool
	for try := 0; try <= receiptRetries && !ok; try++ {
		if try > 0 {
			time.Sleep(pause) // a simulated vendor's retry pause, off any test's clock
			pause *= 2
		}
		ok = a.postOnce(tokens, build) == nil
		a.mu.Lock()
		closed := a.closed
		a.mu.Unlock()
		if closed {
			break
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.get(vendor)
	st.Pending -= int64(len(tokens))
	if ok {
		st.Posted += int64(len(tokens))
	} else {
		st.Failed += int64(len(tokens))
	}
}

func (a *Arrivals) postOnce(tokens []string, build BuildReceipt) error {
	req, err := build(tokens)
	if err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receipt answered %d", resp.StatusCode)
	}
	return nil
}

func (a *Arrivals) get(vendor string) *ArrivalStats {
	st, ok := a.stats[vendor]
	if !ok {
		st = &ArrivalStats{}
		a.stats[vendor] = st
	}
	return st
}

// Stats copies every vendor's counters.
func (a *Arrivals) Stats() map[string]ArrivalStats {
	out := map[string]ArrivalStats{}
	if a == nil {
		return out
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, v := range a.stats {
		out[k] = *v
	}
	return out
}

// Close drops the receipts still waiting for their delay (counted as
// failed) and waits for the requests in flight.
func (a *Arrivals) Close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	for t := range a.timers {
		if t.Stop() {
			a.wg.Done()
		}
	}
	a.timers = map[*time.Timer]struct{}{}
	a.mu.Unlock()
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range a.stats {
		st.Failed += st.Pending
		st.Pending = 0
	}
}

// arrivalSettings is a POST /sim/arrivals body; an absent field keeps its
// value.
type arrivalSettings struct {
	DelayMs *int64   `json:"delay_ms"`
	Loss    *float64 `json:"loss"`
}

// Handler serves GET /sim/arrivals (every vendor's ArrivalStats, and the
// delay and loss in force) and POST /sim/arrivals {"delay_ms":N,"loss":F}
// (either may be left out).
func (a *Arrivals) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/arrivals", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		delay, loss := a.delay, a.loss
		a.mu.Unlock()
		stats := a.Stats()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			DelayMs int64                   `json:"delay_ms"`
			Loss    float64                 `json:"loss"`
			Vendors map[string]ArrivalStats `json:"vendors"`
		}{delay.Milliseconds(), loss, stats})
	})
	mux.HandleFunc("POST /sim/arrivals", func(w http.ResponseWriter, r *http.Request) {
		var s arrivalSettings
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<12)).Decode(&s); err != nil || (s.DelayMs != nil && *s.DelayMs < 0) ||
			(s.Loss != nil && (*s.Loss < 0 || *s.Loss > 1)) {
			http.Error(w, `{"error":"want {\"delay_ms\":N>=0,\"loss\":0..1}"}`, http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		delay, loss := a.delay, a.loss
		a.mu.Unlock()
		if s.DelayMs != nil {
			delay = time.Duration(*s.DelayMs) * time.Millisecond
		}
		if s.Loss != nil {
			loss = *s.Loss
		}
		a.Set(delay, loss)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
