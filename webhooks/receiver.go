package webhooks

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// Receiver is a webhook endpoint for tests and the simulators: it
// verifies each delivery's signature with its keys (when it has any),
// answers 204 and counts the events by id and type. Switched down it
// answers 503 and counts nothing, as a receiver that is away would.
// GET on its path returns ReceiverStats; POST with a JSON
// ReceiverControl body to <path>/control switches it.
type Receiver struct {
	now       func() time.Time
	tolerance time.Duration

	mu       sync.Mutex
	keys     [][]byte
	down     bool
	seen     map[string]int // event id → deliveries
	events   []Event        // first delivery of each id, in arrival order (at most maxKeptEvents)
	requests int64
	refused  int64 // requests answered 503 while down
	badSig   int64
	byType   map[string]int64
}

// maxKeptEvents bounds the events a Receiver keeps whole (Events); the
// counts go on past it.
const maxKeptEvents = 100_000

// ReceiverStats is what a Receiver counted.
type ReceiverStats struct {
	Requests     int64            `json:"requests"`      // deliveries taken (verified, or unsigned with no keys set)
	Refused      int64            `json:"refused"`       // deliveries answered 503 while down
	BadSignature int64            `json:"bad_signature"` // deliveries refused with 401: signature or timestamp wrong
	Events       int64            `json:"events"`        // distinct event ids
	Duplicates   int64            `json:"duplicates"`    // events delivered again (at-least-once)
	ByType       map[string]int64 `json:"by_type"`       // distinct events by type
	Down         bool             `json:"down"`
	Verified     bool             `json:"verified"` // keys are set: signatures are checked
}

// ReceiverControl switches a Receiver: down (answer 503) and, when
// secrets is not null, the secrets it verifies with (empty = take
// unsigned deliveries unchecked).
type ReceiverControl struct {
	Down    *bool     `json:"down"`
	Secrets *[]string `json:"secrets"`
	Reset   bool      `json:"reset"` // forget what was counted
}

// NewReceiver returns a Receiver verifying with keys (none = unchecked)
// against now (nil = the wall clock).
func NewReceiver(keys [][]byte, now func() time.Time) *Receiver {
	if now == nil {
		now = time.Now
	}
	return &Receiver{now: now, keys: keys, seen: map[string]int{}, byType: map[string]int64{}}
}

// SetDown switches the receiver away (503) or back.
func (r *Receiver) SetDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// SetKeys replaces the keys deliveries are verified with.
func (r *Receiver) SetKeys(keys [][]byte) {
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
}

// Seen is how many times event id was delivered.
func (r *Receiver) Seen(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// Events returns the first delivery of every event, in arrival order.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Stats returns the counts.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ReceiverStats{Requests: r.requests, Refused: r.refused, BadSignature: r.badSig, Events: int64(len(r.seen)),
		ByType: map[string]int64{}, Down: r.down, Verified: len(r.keys) > 0}
	for _, n := range r.seen {
		s.Duplicates += int64(n - 1)
	}
	for t, n := range r.byType {
		s.ByType[t] = n
	}
	return s
}

func (r *Receiver) reset() {
	r.seen, r.events, r.byType = map[string]int{}, nil, map[string]int64{}
	r.requests, r.refused, r.badSig = 0, 0, 0
}

// ServeHTTP takes deliveries (POST), answers stats (GET) and control
// (POST …/control).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case req.Method == http.MethodGet:
		_ = json.NewEncoder(w).Encode(r.Stats())
	case req.Method == http.MethodPost && len(req.URL.Path) >= 8 && req.URL.Path[len(req.URL.Path)-8:] == "/control":
		r.control(w, req)
	case req.Method == http.MethodPost:
		r.take(w, req)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, `{"error":"method_not_allowed"}`, http.StatusMethodNotAllowed)
	}
}

func (r *Receiver) control(w http.ResponseWriter, req *http.Request) {
	var c ReceiverControl
	if err := json.NewDecoder(io.LimitReader(req.Body, 64<<10)).Decode(&c); err != nil {
		http.Error(w, `{"error":"invalid_json"}`, http.StatusBadRequest)
		return
	}
	var keys [][]byte
	if c.Secrets != nil {
		for _, s := range *c.Secrets {
			k, err := ParseSecret(s)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_field", "field": "secrets", "message": err.Error()})
				return
			}
			keys = append(keys, k)
		}
	}
	r.mu.Lock()
	if c.Down != nil {
		r.down = *c.Down
	}
	if c.Secrets != nil {
		r.keys = keys
	}
	if c.Reset {
		r.reset()
	}
	r.mu.Unlock()
	_ = json.NewEncoder(w).Encode(r.Stats())
}

func (r *Receiver) take(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 32<<20))
	if err != nil {
		http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
		return
	}
	if len(r.keys) > 0 {
		err := Verify(r.keys, req.Header.Get(HeaderID), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, r.now(), r.tolerance)
		if err != nil {
			r.badSig++
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad_signature", "message": err.Error()})
			return
		}
	}
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil {
		http.Error(w, `{"error":"invalid_json"}`, http.StatusBadRequest)
		return
	}
	r.requests++
	for _, e := range d.Events {
		if r.seen[e.ID] == 0 {
			if len(r.events) < maxKeptEvents {
				r.events = append(r.events, e)
			}
			r.byType[e.Type]++
		}
		r.seen[e.ID]++
	}
	w.WriteHeader(http.StatusNoContent)
}
