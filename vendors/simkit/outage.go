package simkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// Outage switches vendors' simulators down and up again: while a vendor
// is down, every request to its simulator (send and auth endpoints alike)
// is answered with that vendor's transient failure before the simulator
// does any work — nothing is counted as received, accepted or rejected in
// the Recorder; the Outage counts it as refused instead. Safe for
// concurrent use; the check on each request is one atomic load.
type Outage struct {
	mu      sync.Mutex
	vendors map[string]*outageState
}

type outageState struct {
	down    atomic.Bool
	refused atomic.Int64
}

// OutageStatus is one vendor's switch and the requests refused while it
// was down (over the simulator's life: a caller takes differences).
type OutageStatus struct {
	Down    bool  `json:"down"`
	Refused int64 `json:"refused"`
}

// OutageResponse is the body of GET /sim/outage.
type OutageResponse struct {
	Vendors map[string]OutageStatus `json:"vendors"`
}

// OutageRequest is the body of POST /sim/outage.
type OutageRequest struct {
	Vendor string `json:"vendor"`
	Down   bool   `json:"down"`
}

// NewOutage returns an Outage with every vendor up.
func NewOutage() *Outage { return &Outage{vendors: map[string]*outageState{}} }

func (o *Outage) state(vendor string) *outageState {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.vendors[vendor]
	if s == nil {
		s = &outageState{}
		o.vendors[vendor] = s
	}
	return s
}

// Guard puts h behind vendor's switch: while the vendor is down, transient
// answers the request (the vendor's own transient failure: 503, UNAVAILABLE
// or its documented "busy" code) and h never sees it.
func (o *Outage) Guard(vendor string, transient http.HandlerFunc, h http.Handler) http.Handler {
	s := o.state(vendor)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			s.refused.Add(1)
			transient(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Set takes vendor down (true) or brings it back (false). Only vendors
// with a guarded simulator are known.
func (o *Outage) Set(vendor string, down bool) error {
	o.mu.Lock()
	s := o.vendors[vendor]
	o.mu.Unlock()
	if s == nil {
		return fmt.Errorf("simkit: outage: unknown vendor %q", vendor)
	}
	s.down.Store(down)
	return nil
}

// Status returns every guarded vendor's switch and refused count.
func (o *Outage) Status() map[string]OutageStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]OutageStatus, len(o.vendors))
	for k, s := range o.vendors {
		out[k] = OutageStatus{Down: s.down.Load(), Refused: s.refused.Load()}
	}
	return out
}

// Handler serves GET /sim/outage (every vendor's OutageStatus) and POST
// /sim/outage {"vendor":"apns","down":true} (204; 400 for an unknown
// vendor or a malformed body).
func (o *Outage) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sim/outage", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(OutageResponse{Vendors: o.Status()})
	})
	mux.HandleFunc("POST /sim/outage", func(w http.ResponseWriter, r *http.Request) {
		var req OutageRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad outage request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := o.Set(req.Vendor, req.Down); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
