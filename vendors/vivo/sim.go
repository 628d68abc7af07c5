package vivo

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// Simulator credentials when SimOptions leaves them empty.
const (
	SimAppID     = "100001"
	SimAppKey    = "sim-vivo-app-key"
	SimAppSecret = "sim-vivo-app-secret"
)

// receivedLimit bounds the Received log and the saved list payloads.
const receivedLimit = 10000

// SimOptions configure a Simulator.
type SimOptions struct {
	Limits simkit.Limits
	// Now is the simulator's clock (auth timestamps, token expiry, QPS and
	// quota); nil = time.Now.
	Now func() time.Time
	// AuthTokenTTL is how long an issued authToken is accepted; 0 = 24 h.
	AuthTokenTTL time.Duration
	// AppID, AppKey and AppSecret are the one app the simulator knows;
	// "" = SimAppID, SimAppKey, SimAppSecret.
	AppID, AppKey, AppSecret string
	// Arrivals posts the arrival receipts of accepted single pushes that
	// carry extra.callback (to that URL); nil posts none.
	Arrivals *simkit.Arrivals
}

// Received is one accepted send request, as the simulator saw it.
type Received struct {
	RegIDs         []string // the accepted targets
	MessageID      string   // clientCustomMap["message_id"]
	Category       string
	Classification int
	Payload        json.RawMessage // the message body (send or saveListPayload)
}

// Simulator speaks vivo Push's wire protocol: /message/auth,
// /message/send, /message/saveListPayload and /message/pushToList,
// relative to wherever it is mounted. Safe for concurrent use.
type Simulator struct {
	rec    *simkit.Recorder
	gate   *simkit.Gate
	now    func() time.Time
	ttl    time.Duration
	appID  string
	appKey string
	secret string

	arrivals *simkit.Arrivals

	authCalls atomic.Int64
	nextID    atomic.Int64

	mu       sync.Mutex
	tokens   map[string]time.Time // authToken → expiry
	tasks    map[string]savedTask // taskId → saved list payload
	taskIDs  []string             // insertion order, for eviction
	received []Received           // ring of the last receivedLimit
	recvNext int
}

type savedTask struct {
	msg     wireMessage
	payload json.RawMessage
}

// NewSimulator returns a simulator counting into rec.
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	s := &Simulator{
		rec:    rec,
		now:    opts.Now,
		ttl:    opts.AuthTokenTTL,
		appID:  opts.AppID,
		appKey: opts.AppKey,
		secret: opts.AppSecret,
		tokens: map[string]time.Time{},
		tasks:  map[string]savedTask{},

		arrivals: opts.Arrivals,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = 24 * time.Hour
	}
	if s.appID == "" {
		s.appID = SimAppID
	}
	if s.appKey == "" {
		s.appKey = SimAppKey
	}
	if s.secret == "" {
		s.secret = SimAppSecret
	}
	s.gate = simkit.NewGate(opts.Limits, s.now)
	s.nextID.Store(50000000)
	rec.Ensure(vendorName)
	return s
}

// ServeHTTP routes vivo's paths.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case pathAuth:
		s.serveAuth(w, r)
	case pathSend:
		s.serveSend(w, r)
	case pathSaveList:
		s.serveSaveList(w, r)
	case pathPushToList:
		s.servePushToList(w, r)
	default:
		http.NotFound(w, r)
	}
}

// SetLimits changes the QPS and daily quota.
func (s *Simulator) SetLimits(l simkit.Limits) { s.gate.SetLimits(l) }

// ClientConfig returns a client Config for this simulator mounted at
// baseURL, trusting tlsConf, on the simulator's clock.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	return Config{
		AppID:     s.appID,
		AppKey:    s.appKey,
		AppSecret: s.secret,
		Endpoint:  baseURL,
		TLS:       tlsConf,
		Now:       s.now,
	}
}

// AuthCalls is how many /message/auth requests the simulator answered.
func (s *Simulator) AuthCalls() int64 { return s.authCalls.Load() }

// Received returns the last (up to 10 000) accepted send requests, oldest
// first.
func (s *Simulator) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.received))
	if len(s.received) == receivedLimit {
		out = append(out, s.received[s.recvNext:]...)
		out = append(out, s.received[:s.recvNext]...)
		return out
	}
	return append(out, s.received...)
}

func (s *Simulator) logReceived(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) < receivedLimit {
		s.received = append(s.received, r)
		return
	}
	s.received[s.recvNext] = r
	s.recvNext = (s.recvNext + 1) % receivedLimit
}

func (s *Simulator) newID() string { return strconv.FormatInt(s.nextID.Add(1), 10) }

// reply writes a vivo business answer (always HTTP 200).
func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(body)
}

type simAnswer struct {
	Result       int           `json:"result"`
	Desc         string        `json:"desc"`
	TaskID       string        `json:"taskId,omitempty"`
	AuthToken    string        `json:"authToken,omitempty"`
	InvalidUser  *simInvalid   `json:"invalidUser,omitempty"`
	InvalidUsers *[]simInvalid `json:"invalidUsers,omitempty"`
}

type simInvalid struct {
	Status int    `json:"status"`
	UserID string `json:"userid"`
}

func fail(w http.ResponseWriter, code int, desc string) {
	reply(w, simAnswer{Result: code, Desc: desc})
}

// serverError is vivo's documented transient answer.
func serverError(w http.ResponseWriter) {
	http.Error(w, "Internet server error!", http.StatusInternalServerError)
}
