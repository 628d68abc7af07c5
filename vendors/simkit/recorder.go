package simkit

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Stats are one vendor's receipt counters.
type Stats struct {
	Requests      int64 `json:"requests"`      // HTTP requests to send endpoints (auth calls excluded)
	Notifications int64 `json:"notifications"` // (notification, token) pairs accepted
	Unique        int64 `json:"unique"`        // distinct (message_id, token) pairs accepted
	Duplicates    int64 `json:"duplicates"`    // accepted pairs seen before
	Rejected      int64 `json:"rejected"`      // pairs answered with a failure (script, limit, quota, bad request)
}

// Receipt is one accepted notification, for latency measurement.
type Receipt struct {
	MessageID string
	Token     string
	At        time.Time
}

type vendorStats struct {
	Stats
	seen map[string]struct{}
}

// Recorder counts what the simulators received. Safe for concurrent use.
type Recorder struct {
	now     func() time.Time
	mu      sync.Mutex
	vendors map[string]*vendorStats
	// onReceipt, when set, sees every accepted notification.
	onReceipt func(vendor string, r Receipt)
}

// NewRecorder returns an empty Recorder. now may be nil (wall clock).
func NewRecorder(now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{now: now, vendors: map[string]*vendorStats{}}
}

// OnReceipt registers fn to see every accepted notification (nil clears).
func (r *Recorder) OnReceipt(fn func(vendor string, rc Receipt)) {
	r.mu.Lock()
	r.onReceipt = fn
	r.mu.Unlock()
}

func (r *Recorder) get(vendor string) *vendorStats {
	v := r.vendors[vendor]
	if v == nil {
		v = &vendorStats{seen: map[string]struct{}{}}
		r.vendors[vendor] = v
	}
	return v
}

// Request counts one HTTP request to a send endpoint.
func (r *Recorder) Request(vendor string) {
	r.mu.Lock()
	r.get(vendor).Requests++
	r.mu.Unlock()
}

// Accepted counts one notification accepted for token. messageID is the
// "message_id" from the notification's custom data ("" when absent, which
// still counts as a notification but never as unique).
func (r *Recorder) Accepted(vendor, messageID, token string) {
	r.mu.Lock()
	v := r.get(vendor)
	v.Notifications++
	if messageID != "" {
		k := messageID + "\x00" + token
		if _, dup := v.seen[k]; dup {
			v.Duplicates++
		} else {
			v.seen[k] = struct{}{}
			v.Unique++
		}
	}
	fn := r.onReceipt
	r.mu.Unlock()
	if fn != nil {
		fn(vendor, Receipt{MessageID: messageID, Token: token, At: r.now()})
	}
}

// Rejected counts n notifications answered with a failure.
func (r *Recorder) Rejected(vendor string, n int) {
	r.mu.Lock()
	r.get(vendor).Rejected += int64(n)
	r.mu.Unlock()
}

// Snapshot returns every vendor's counters.
func (r *Recorder) Snapshot() map[string]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Stats, len(r.vendors))
	for k, v := range r.vendors {
		out[k] = v.Stats
	}
	return out
}

// Reset zeroes every counter and forgets every pair seen.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.vendors = map[string]*vendorStats{}
	r.mu.Unlock()
}

// Ensure makes vendors appear in snapshots even before any traffic.
func (r *Recorder) Ensure(vendors ...string) {
	r.mu.Lock()
	for _, v := range vendors {
		r.get(v)
	}
	r.mu.Unlock()
}

// StatsResponse is the body of GET /sim/stats.
type StatsResponse struct {
	Vendors map[string]Stats `json:"vendors"`
}

// Handler serves GET /sim/stats and POST /sim/reset.
func (r *Recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(StatsResponse{Vendors: r.Snapshot()})
	})
	mux.HandleFunc("POST /sim/reset", func(w http.ResponseWriter, _ *http.Request) {
		r.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// Vendors lists the vendors with counters, sorted.
func (r *Recorder) Vendors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.vendors))
	for k := range r.vendors {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
