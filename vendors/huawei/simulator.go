package huawei

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// Simulator credentials when SimOptions leaves them empty.
const (
	SimAppID     = "104401234"
	SimAppSecret = "c2ltdWxhdG9yLWFwcC1zZWNyZXQ="
)

// maxReceived bounds the simulator's log of accepted sends.
const maxReceived = 10000

var vendorName = string(vendors.Huawei)

// SimOptions configure a Simulator.
type SimOptions struct {
	Limits       simkit.Limits
	Now          func() time.Time // nil = time.Now; drives token expiry and the Gate
	AuthTokenTTL time.Duration    // access-token lifetime; 0 = 1h
	AppID        string           // accepted client_id; "" = SimAppID
	AppSecret    string           // accepted client_secret; "" = SimAppSecret
	// Arrivals posts the arrival receipts of accepted pushes that carry
	// android.bi_tag to Receipt.URL; nil posts none.
	Arrivals *simkit.Arrivals
	Receipt  SimReceipt
}

// SimReceipt is the receipt configuration of the simulated app (on
// Huawei's side it is set in AppGallery Connect, not in the push): the
// URL receipts go to and, when both are set, the callback user name and
// key the X-HUAWEI-CALLBACK-ID header is signed with.
type SimReceipt struct {
	URL, User, Key string
}

// Received is one accepted send as the simulator saw it.
type Received struct {
	Tokens    []string // the accepted tokens
	MessageID string   // "message_id" of the custom data (android.data over message.data)
	Category  string   // android.category
	Urgency   string   // android.urgency
	ChannelID string   // android.notification.channel_id
	DataOnly  bool     // no message.notification and no android.notification
	Message   json.RawMessage
}

// Simulator speaks Huawei Push Kit's token and push APIs. It is an
// http.Handler serving Huawei's paths relative to its base URL.
type Simulator struct {
	rec       *simkit.Recorder
	gate      *simkit.Gate
	now       func() time.Time
	ttl       time.Duration
	appID     string
	appSecret string
	mux       *http.ServeMux
	seq       atomic.Uint64
	arrivals  *simkit.Arrivals

	mu      sync.Mutex
	receipt SimReceipt
	tokens  map[string]time.Time // access token → expiry
	log     []Received           // ring buffer of accepted sends
	next    int                  // ring position once full
}

// NewSimulator returns a Simulator counting into rec (nil = a private one).
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if rec == nil {
		rec = simkit.NewRecorder(opts.Now)
	}
	if opts.AuthTokenTTL <= 0 {
		opts.AuthTokenTTL = time.Hour
	}
	if opts.AppID == "" {
		opts.AppID = SimAppID
	}
	if opts.AppSecret == "" {
		opts.AppSecret = SimAppSecret
	}
	s := &Simulator{
		rec:       rec,
		gate:      simkit.NewGate(opts.Limits, opts.Now),
		now:       opts.Now,
		ttl:       opts.AuthTokenTTL,
		appID:     opts.AppID,
		appSecret: opts.AppSecret,
		tokens:    map[string]time.Time{},
		arrivals:  opts.Arrivals,
		receipt:   opts.Receipt,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v3/token", s.serveToken)
	mux.HandleFunc("POST /oauth2/v2/token", s.serveToken)
	mux.HandleFunc("POST /v1/{appId}/messages:send", s.serveSend)
	s.mux = mux
	return s
}

// SetReceipt changes the app's receipt configuration for pushes accepted
// from now on.
func (s *Simulator) SetReceipt(r SimReceipt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipt = r
}

// ServeHTTP serves the token and push endpoints.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetLimits changes the QPS and daily quota.
func (s *Simulator) SetLimits(l simkit.Limits) { s.gate.SetLimits(l) }

// ClientConfig returns a client Config reaching this simulator mounted at
// baseURL with the credentials it accepts, trusting tlsConf.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	return Config{
		AppID:     s.appID,
		AppSecret: s.appSecret,
		AuthURL:   baseURL + "/oauth2/v3/token",
		PushURL:   baseURL,
		TLS:       tlsConf,
	}
}

// Received returns the accepted sends still in the log (at most the last
// 10 000), oldest first.
func (s *Simulator) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.log))
	out = append(out, s.log[s.next:]...)
	out = append(out, s.log[:s.next]...)
	return out
}

func (s *Simulator) record(r Received) {
	s.mu.Lock()
	if len(s.log) < maxReceived {
		s.log = append(s.log, r)
	} else {
		s.log[s.next] = r
		s.next = (s.next + 1) % maxReceived
	}
	s.mu.Unlock()
}

// requestID mimics Huawei's numeric requestId.
func (s *Simulator) requestID() string {
	return strconv.FormatInt(s.now().UnixMilli(), 10) + strconv.FormatUint(100000+s.seq.Add(1)%900000, 10)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
