package simkit

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
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
	// log, once armed (EnableReceiptLog, GET /sim/receipts), keeps the
	// latest accepted notifications for pollers; nil = not kept.
	log *receiptLog
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
	var at time.Time
	if r.log != nil {
		at = r.now()
		r.log.add(vendor, messageID, token, at)
	}
	r.mu.Unlock()
	if fn != nil {
		if at.IsZero() {
			at = r.now()
		}
		fn(vendor, Receipt{MessageID: messageID, Token: token, At: at})
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

// Reset zeroes every counter and forgets every pair seen; vendors already
// known stay listed (with zeros).
func (r *Recorder) Reset() {
	r.mu.Lock()
	for k := range r.vendors {
		r.vendors[k] = &vendorStats{seen: map[string]struct{}{}}
	}
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

// Handler serves GET /sim/stats, POST /sim/reset and GET /sim/receipts.
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
	mux.HandleFunc("GET /sim/receipts", r.serveReceipts)
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

// ReceiptLogSize is how many of the latest accepted notifications the
// receipt log keeps (GET /sim/receipts); older ones are counted as dropped.
const ReceiptLogSize = 1 << 18

// MaxReceiptsPerRequest bounds one GET /sim/receipts answer.
const MaxReceiptsPerRequest = 20000

// LoggedReceipt is one entry of the receipt log: an accepted notification
// with its sequence number (1, 2, … in arrival order) and arrival time.
type LoggedReceipt struct {
	Seq        uint64 `json:"seq"`
	Vendor     string `json:"vendor"`
	MessageID  string `json:"message_id"`
	Token      string `json:"token"`
	AtUnixNano int64  `json:"at_unix_ns"`
}

// ReceiptsResponse is the body of GET /sim/receipts.
type ReceiptsResponse struct {
	Receipts []LoggedReceipt `json:"receipts"`
	// Next is the seq to pass as after in the next request.
	Next uint64 `json:"next"`
	// Last is the newest seq logged so far: a poller that wants only what
	// arrives from now on starts after it.
	Last uint64 `json:"last"`
	// Dropped counts receipts after the requested seq that had already
	// fallen off the log (it keeps the latest ReceiptLogSize).
	Dropped uint64 `json:"dropped"`
}

// receiptLog is a ring of the latest receipts.
type receiptLog struct {
	ring []LoggedReceipt
	last uint64 // seq of the newest entry; 0 = none yet
}

func (l *receiptLog) add(vendor, messageID, token string, at time.Time) {
	l.last++
	l.ring[l.last%uint64(len(l.ring))] = LoggedReceipt{Seq: l.last, Vendor: vendor, MessageID: messageID,
		Token: token, AtUnixNano: at.UnixNano()}
}

// EnableReceiptLog starts keeping accepted notifications for Receipts (a
// no-op when already kept). Only notifications accepted afterwards are kept.
func (r *Recorder) EnableReceiptLog() {
	r.mu.Lock()
	if r.log == nil {
		r.log = &receiptLog{ring: make([]LoggedReceipt, ReceiptLogSize)}
	}
	r.mu.Unlock()
}

// Receipts returns up to limit logged receipts with seq > after, oldest
// first, the seq to ask after next, and how many wanted receipts had fallen
// off the log. It arms the log on first use (see EnableReceiptLog). Reset
// does not clear the log.
func (r *Recorder) Receipts(after uint64, limit int) (out []LoggedReceipt, next, dropped uint64) {
	out, next, dropped, _ = r.receipts(after, limit)
	return out, next, dropped
}

func (r *Recorder) receipts(after uint64, limit int) (out []LoggedReceipt, next, dropped, last uint64) {
	r.EnableReceiptLog()
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.log
	size := uint64(len(l.ring))
	first := uint64(1) // oldest seq still in the ring
	if l.last > size {
		first = l.last - size + 1
	}
	start := after + 1
	if start < first {
		dropped = first - start
		start = first
	}
	next = max(after, start-1)
	for seq := start; seq <= l.last && len(out) < limit; seq++ {
		out = append(out, l.ring[seq%size])
		next = seq
	}
	return out, next, dropped, l.last
}

// serveReceipts answers GET /sim/receipts?after=SEQ&limit=N (limit 1 to
// MaxReceiptsPerRequest, default 1000). The first request arms the log: a
// poller asks once with after=0 before its traffic starts and then follows
// next.
func (r *Recorder) serveReceipts(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	after, limit := uint64(0), 1000
	if s := q.Get("after"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			http.Error(w, "after must be a sequence number", http.StatusBadRequest)
			return
		}
		after = v
	}
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > MaxReceiptsPerRequest {
			http.Error(w, "limit must be 1 to "+strconv.Itoa(MaxReceiptsPerRequest), http.StatusBadRequest)
			return
		}
		limit = v
	}
	rs, next, dropped, last := r.receipts(after, limit)
	if rs == nil {
		rs = []LoggedReceipt{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ReceiptsResponse{Receipts: rs, Next: next, Last: last, Dropped: dropped})
}
