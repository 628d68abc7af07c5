package xiaomi

import (
	"cmp"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// Simulator defaults: the credentials and channel it accepts unless
// SimOptions say otherwise.
const (
	SimAppSecret   = "sim-xiaomi-app-secret"
	SimPackageName = "com.herald.sim"
	SimChannelID   = "herald-private"
	// DefaultSimLogSize is how many requests Received keeps by default.
	DefaultSimLogSize = 10000
)

// maxSimBody bounds a request body the simulator reads.
const maxSimBody = 4 << 20

// vendorName is the simulator's name in the Recorder.
const vendorName = string(vendors.Xiaomi)

// SimOptions configure a Simulator.
type SimOptions struct {
	Limits simkit.Limits    // QPS (10027 past it) and daily quota (10034 once spent)
	Now    func() time.Time // clock for the limits; nil = time.Now
	// AppSecret is the secret it accepts; "" = SimAppSecret.
	AppSecret string
	// PackageName is the app's package; "" = SimPackageName.
	PackageName string
	// Channels, when set, are the only extra.channel_id values accepted
	// (others get 27001); empty = any non-empty channel id.
	Channels []string
	// LogSize is how many requests Received keeps; 0 = DefaultSimLogSize,
	// negative = none. A /v3/message/regid entry holds its request's form
	// (a 1000-regid request is ~60 KB); a MultiPath entry only its
	// targets' ids and message ids (~100 B a target), not its form, whose
	// messages field runs to megabytes, unless KeepMultiForm. Long load
	// runs may want fewer.
	LogSize int
	// Arrivals posts the arrival receipts of accepted messages that carry
	// extra.callback (to that URL); nil posts none.
	Arrivals *simkit.Arrivals
	// KeepMultiForm keeps each MultiPath request's form in its Received
	// entry, for a test that compares the messages as sent; false = the
	// entry's Form is nil.
	KeepMultiForm bool
}

// Received is one authenticated send request the simulator parsed,
// whatever it answered. Treat it as read-only.
type Received struct {
	RegIDs      []string   // the targets, in request order
	MessageID   string     // extra.message_id, else payload's "message_id"; "" for MultiPath
	ChannelID   string     // extra.channel_id; "" for MultiPath
	PassThrough bool       // false for MultiPath
	Form        url.Values // the form as sent; for MultiPath only with SimOptions.KeepMultiForm
	// Messages is, for a MultiPath request, each target's message in
	// request order (as RegIDs); nil for SendPath. It is nil too when the
	// messages did not decode.
	Messages []ReceivedMessage
}

// ReceivedMessage is one target's message of a MultiPath request.
type ReceivedMessage struct {
	RegID       string
	MessageID   string // extra.message_id, else payload's "message_id"
	ChannelID   string // extra.channel_id
	PassThrough bool
}

// Simulator speaks MiPush's send API. It is an http.Handler serving, relative
// to its base URL:
//
//	POST /v3/message/regid          (and its single-package twin /v2/message/regid)
//	POST /v2/multi_messages/regids  (a message per target, MultiPath)
//
// Safe for concurrent use.
type Simulator struct {
	rec       *simkit.Recorder
	gate      *simkit.Gate
	secret    string
	pkg       string
	channels  map[string]bool
	keepMulti bool
	arrivals  *simkit.Arrivals
	now       func() time.Time
	seq       atomic.Uint64
	decoders  sync.Pool // of *simDecoder, for MultiPath

	mu   sync.Mutex
	log  []Received // ring of at most logSize entries
	next int        // index of the oldest entry once the ring is full
	size int
}

// NewSimulator returns a Simulator counting into rec.
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	s := &Simulator{
		rec:       rec,
		gate:      simkit.NewGate(opts.Limits, opts.Now),
		secret:    cmp.Or(opts.AppSecret, SimAppSecret),
		pkg:       cmp.Or(opts.PackageName, SimPackageName),
		size:      opts.LogSize,
		keepMulti: opts.KeepMultiForm,
		arrivals:  opts.Arrivals,
		now:       opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.size == 0 {
		s.size = DefaultSimLogSize
	}
	if len(opts.Channels) > 0 {
		s.channels = make(map[string]bool, len(opts.Channels))
		for _, ch := range opts.Channels {
			s.channels[ch] = true
		}
	}
	s.decoders.New = func() any { return newSimDecoder() }
	rec.Ensure(vendorName)
	return s
}

// SetLimits changes the QPS and daily-quota limits.
func (s *Simulator) SetLimits(l simkit.Limits) { s.gate.SetLimits(l) }

// ClientConfig returns a client Config that talks to this simulator
// mounted at baseURL with the credentials it accepts, trusting tlsConf.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	ch := SimChannelID
	if len(s.channels) > 0 {
		ch = slices.Min(slices.Collect(maps.Keys(s.channels))) // deterministic
	}
	return Config{AppSecret: s.secret, PackageName: s.pkg, ChannelID: ch, Endpoint: baseURL, TLS: tlsConf}
}

// Received returns the logged requests, oldest first.
func (s *Simulator) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.log))
	out = append(out, s.log[s.next:]...)
	return append(out, s.log[:s.next]...)
}

func (s *Simulator) remember(r Received) {
	if s.size < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) < s.size {
		s.log = append(s.log, r)
		return
	}
	s.log[s.next] = r
	s.next = (s.next + 1) % s.size
}

// ServeHTTP serves the MiPush send API.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case SendPath, "/v2/message/regid", MultiPath:
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == MultiPath {
		s.serveMulti(w, r)
		return
	}
	s.rec.Request(vendorName)
	form, formErr := readForm(w, r)
	regIDs := splitRegIDs(form.Get("registration_id"))
	if r.Header.Get("Authorization") != "key="+s.secret {
		s.fail(w, len(regIDs), simErr(CodeAuthFailed, "Authentication failed for the appSecret", "认证失败"))
		return
	}
	if formErr != nil {
		s.fail(w, len(regIDs), formErr)
		return
	}
	req, params := s.parseSimRequest(form, regIDs)
	s.remember(req)
	if !s.gate.AllowRequest() {
		s.fail(w, len(regIDs), simErr(CodeTooOften, "API called too often", "调用频率超出限制"))
		return
	}
	if e := s.check(req, &params); e != nil {
		s.fail(w, len(regIDs), e)
		return
	}
	good, msgID := s.deliver(w, req.RegIDs, func(int) string { return req.MessageID })
	s.postReceipts(msgID, req.RegIDs, good, func(int) *simParams { return &params })
}

// deliver answers a valid request to regIDs, target i getting the message
// messageID(i): scripted tokens, quota, acceptance. It returns the indexes
// of the accepted targets and the MiPush message id it answered (none when
// it refused the request).
func (s *Simulator) deliver(w http.ResponseWriter, regIDs []string, messageID func(i int) string) (accepted []int, msgID string) {
	good := make([]int, 0, len(regIDs))
	var bad []string
	for i, id := range regIDs {
		switch simkit.Script(id) {
		case simkit.Unavailable:
			// MiPush has no per-target transient status: a busy backend
			// fails the whole request.
			s.fail(w, len(regIDs), simErr(CodeSystemBusy, "System busy, please retry later", "系统繁忙"))
			return nil, ""
		case simkit.Unregistered:
			bad = append(bad, id)
		default:
			good = append(good, i)
		}
	}
	if len(good) == 0 {
		s.fail(w, len(regIDs), simErr(CodeSendFailed, "No valid targets!", "发送消息失败"))
		return nil, ""
	}
	if !s.gate.TakeQuota(len(good)) {
		s.fail(w, len(regIDs), simErr(CodeDailyQuota, "Too many messages sent today", "当日推送总量超出限制"))
		return nil, ""
	}
	for _, i := range good {
		s.rec.Accepted(vendorName, messageID(i), regIDs[i])
	}
	if len(bad) > 0 {
		s.rec.Rejected(vendorName, len(bad))
	}
	seq := s.seq.Add(1)
	msgID = fmt.Sprintf("ssm%018d", seq)
	writeJSON(w, simOK{
		Result:      "ok",
		TraceID:     fmt.Sprintf("Xsm%018d", seq),
		Code:        CodeOK,
		Description: "成功",
		Info:        fmt.Sprintf("Received push messages for %d REGID", len(regIDs)),
		Data:        simOKData{ID: msgID, BadRegIDs: strings.Join(bad, ",")},
	})
	return good, msgID
}

// simOK is the success answer.
type simOK struct {
	Result      string    `json:"result"`
	TraceID     string    `json:"trace_id"`
	Code        int       `json:"code"`
	Data        simOKData `json:"data"`
	Description string    `json:"description"`
	Info        string    `json:"info"`
}

type simOKData struct {
	ID        string `json:"id"`
	BadRegIDs string `json:"bad_regids,omitempty"`
}

// simError is an error answer.
type simError struct {
	Result      string `json:"result"`
	Code        int    `json:"code"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
	TraceID     string `json:"trace_id"`
}

func simErr(code int, reason, desc string) *simError {
	return &simError{Result: "error", Code: code, Reason: reason, Description: desc}
}

// fail answers e for a request of n targets, all counted as rejected.
func (s *Simulator) fail(w http.ResponseWriter, n int, e *simError) {
	if n > 0 {
		s.rec.Rejected(vendorName, n)
	}
	e.TraceID = fmt.Sprintf("Xsm%018d", s.seq.Add(1))
	writeJSON(w, e)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// readForm reads a form body; the error is MiPush's answer to a malformed
// one. A body of another content type yields an empty form (and so a
// missing-parameter answer), as the real API does not read it.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *simError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSimBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return url.Values{}, simErr(CodeIllegalParam, "request body too large", "非法参数")
		}
		return url.Values{}, simErr(CodeIllegalParam, "unreadable request body", "非法参数")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return url.Values{}, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}, simErr(CodeIllegalParam, "malformed form body", "非法参数")
	}
	return form, nil
}

func splitRegIDs(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return strings.Split(v, ",")
}
