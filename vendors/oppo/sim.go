package oppo

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
	"github.com/herald-push/herald/vendors/simkit"
)

// Credentials the simulator accepts unless SimOptions names others.
const (
	SimAppKey       = "sim-oppo-app-key"
	SimMasterSecret = "sim-oppo-master-secret"
)

const (
	vendorName      = string(vendors.OPPO) // the Recorder's vendor name
	maxReceived     = 10000                // Received log length
	maxSimBody      = 16 << 20             // largest request body the simulator reads
	timestampWindow = 10 * time.Minute     // auth timestamp tolerance
	maxSimTokens    = 10000                // live auth tokens kept
)

// SimOptions configure a Simulator.
type SimOptions struct {
	Limits       simkit.Limits    // QPS (answered with -2) and daily quota (answered with 33)
	Now          func() time.Time // nil = time.Now
	AuthTokenTTL time.Duration    // lifetime of issued auth tokens; 0 = 24h
	AppKey       string           // accepted app_key; "" = SimAppKey
	MasterSecret string           // accepted master secret; "" = SimMasterSecret
	// Arrivals posts the arrival receipts of accepted messages that carry
	// call_back_url (to that URL); nil posts none.
	Arrivals *simkit.Arrivals
}

// Received is one message the simulator accepted, newest last.
type Received struct {
	RegID       string
	MessageID   string // "message_id" from action_parameters
	ChannelID   string
	Category    string
	NotifyLevel int
}

// Simulator speaks OPPO Push's server API. It is an http.Handler serving
// the real paths relative to its base URL.
type Simulator struct {
	rec    *simkit.Recorder
	gate   *simkit.Gate
	now    func() time.Time
	ttl    time.Duration
	appKey string
	secret string

	arrivals *simkit.Arrivals
	decoders sync.Pool // of *simDecoder

	mu        sync.Mutex
	tokens    map[string]time.Time // auth_token → expiry
	seq       uint64               // messageId counter
	log       []Received           // ring of the last maxReceived
	logNext   int
	authCalls int
}

// NewSimulator returns a simulator counting into rec (nil = a private one).
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if rec == nil {
		rec = simkit.NewRecorder(opts.Now)
	}
	if opts.AuthTokenTTL <= 0 {
		opts.AuthTokenTTL = tokenLifetime
	}
	if opts.AppKey == "" {
		opts.AppKey = SimAppKey
	}
	if opts.MasterSecret == "" {
		opts.MasterSecret = SimMasterSecret
	}
	return &Simulator{
		rec:    rec,
		gate:   simkit.NewGate(opts.Limits, opts.Now),
		now:    opts.Now,
		ttl:    opts.AuthTokenTTL,
		appKey: opts.AppKey,
		secret: opts.MasterSecret,
		tokens: map[string]time.Time{},

		arrivals: opts.Arrivals,
	}
}

// ServeHTTP serves POST /server/v1/auth, /server/v1/message/notification/unicast
// and /server/v1/message/notification/unicast_batch.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case pathAuth:
		s.serveAuth(w, r)
	case pathUnicast:
		s.serveSend(w, r, false)
	case pathBatch:
		s.serveSend(w, r, true)
	default:
		http.NotFound(w, r)
	}
}

// SetLimits changes the QPS limit and daily quota.
func (s *Simulator) SetLimits(l simkit.Limits) { s.gate.SetLimits(l) }

// ClientConfig returns a client Config for this simulator mounted at
// baseURL, with the credentials it accepts, trusting tlsConf.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	return Config{AppKey: s.appKey, MasterSecret: s.secret, Endpoint: baseURL, TLS: tlsConf}
}

// Received returns the last accepted messages (at most 10 000), oldest first.
func (s *Simulator) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.log))
	if len(s.log) == maxReceived {
		out = append(out, s.log[s.logNext:]...)
		return append(out, s.log[:s.logNext]...)
	}
	return append(out, s.log...)
}

// record appends to the Received ring; s.mu is held.
func (s *Simulator) record(rc Received) {
	if len(s.log) < maxReceived {
		s.log = append(s.log, rc)
	} else {
		s.log[s.logNext] = rc
		s.logNext = (s.logNext + 1) % maxReceived
	}
}

// simReply is OPPO's answer envelope.
type simReply struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// reply writes an OPPO answer; OPPO answers HTTP 200 with the outcome in code.
func reply(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(simReply{Code: code, Message: msg, Data: data})
}

// replyBatch writes the successful unicast_batch answer, byte for byte
// what reply writes with items for data, without reflection.
func replyBatch(w http.ResponseWriter, items []simBatchItem) {
	b := make([]byte, 0, 64+len(items)*120)
	b = append(b, `{"code":0,"message":"Success","data":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = wire.AppendJSONString(append(b, `{"messageId":`...), it.MessageID)
		b = wire.AppendJSONString(append(b, `,"registrationId":`...), it.RegistrationID)
		if it.ErrorCode != 0 {
			b = strconv.AppendInt(append(b, `,"errorCode":`...), int64(it.ErrorCode), 10)
		}
		if it.ErrorMessage != "" {
			b = wire.AppendJSONString(append(b, `,"errorMessage":`...), it.ErrorMessage)
		}
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
}

// replyCode answers code with OPPO's own text for it plus detail.
func replyCode(w http.ResponseWriter, code int, detail string) {
	_, text := describe(code)
	reply(w, code, reason(text, detail), nil)
}
