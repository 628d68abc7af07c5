package apns

import (
	"crypto/ecdsa"
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
	"github.com/herald-push/herald/vendors/simkit"
)

// Vendor is the name the simulator counts under in the simkit.Recorder.
const Vendor = string(vendors.APNs)

// Simulator defaults.
const (
	DefaultSimTopic     = "com.herald.sim"
	DefaultSimKeyID     = "SIMKEY0001"
	DefaultSimTeamID    = "SIMTEAM001"
	DefaultAuthTokenTTL = time.Hour // APNs refuses provider tokens older than this
	receivedCap         = 10000     // entries kept by Received
	devTokenPrefix      = "dev-"    // tokens that belong to the development environment
	pathDevice          = "/3/device/"
)

// SimOptions configure a Simulator.
type SimOptions struct {
	Limits simkit.Limits    // QPS and daily quota; over either → 429 TooManyRequests
	Now    func() time.Time // nil = time.Now
	// AuthTokenTTL is how old a provider JWT's "iat" may be before the
	// simulator answers 403 ExpiredProviderToken; 0 = 1h (APNs).
	AuthTokenTTL time.Duration
	Topic        string // the app bundle ID; "" = DefaultSimTopic
	KeyID        string // the .p8 key ID; "" = DefaultSimKeyID
	TeamID       string // the team ID; "" = DefaultSimTeamID
	// SigningKey is the provider key (.p8) whose ES256 JWTs the simulator
	// accepts; nil = a new P-256 key. Pass the same key to a restarted
	// simulator and clients holding the old .p8 keep working.
	SigningKey *ecdsa.PrivateKey
}

// Simulator speaks the APNs provider API for both environments under one
// handler:
//
//	POST /production/3/device/{token}
//	POST /development/3/device/{token}
//
// Tokens starting with "dev-" belong to development; every other token
// belongs to production; the wrong environment answers 400 BadDeviceToken.
// Requests authenticate with a provider JWT signed by the simulator's own
// ES256 key (ClientConfig hands it out) or, when the TLS server asked for
// one, any client certificate. Safe for concurrent use.
type Simulator struct {
	rec   *simkit.Recorder
	gate  *simkit.Gate
	now   func() time.Time
	opts  SimOptions
	auth  *simAuth
	log   *receivedLog
	nowFn func() time.Time // opts.Now as given, for ClientConfig
}

// NewSimulator returns a Simulator counting into rec (nil = a private
// Recorder) accepting opts.SigningKey (nil = a freshly generated one).
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if rec == nil {
		rec = simkit.NewRecorder(now)
	}
	if opts.AuthTokenTTL <= 0 {
		opts.AuthTokenTTL = DefaultAuthTokenTTL
	}
	if opts.Topic == "" {
		opts.Topic = DefaultSimTopic
	}
	if opts.KeyID == "" {
		opts.KeyID = DefaultSimKeyID
	}
	if opts.TeamID == "" {
		opts.TeamID = DefaultSimTeamID
	}
	return &Simulator{
		rec:   rec,
		gate:  simkit.NewGate(opts.Limits, now),
		now:   now,
		opts:  opts,
		auth:  newSimAuth(opts.SigningKey, opts.KeyID, opts.TeamID, opts.AuthTokenTTL),
		log:   newReceivedLog(receivedCap),
		nowFn: opts.Now,
	}
}

// SetLimits changes the QPS and daily quota.
func (s *Simulator) SetLimits(l simkit.Limits) { s.gate.SetLimits(l) }

// ClientConfig returns a token-auth client Config for this simulator mounted
// at baseURL (ProductionURL = baseURL+"/production", DevelopmentURL =
// baseURL+"/development"), trusting tlsConf, on the simulator's clock.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	base := strings.TrimRight(baseURL, "/")
	return Config{
		Topic:          s.opts.Topic,
		AuthKey:        s.auth.p8(),
		KeyID:          s.opts.KeyID,
		TeamID:         s.opts.TeamID,
		ProductionURL:  base + "/" + EnvProduction,
		DevelopmentURL: base + "/" + EnvDevelopment,
		TLS:            tlsConf,
		Now:            s.nowFn,
	}
}

// ServeHTTP answers one push the way APNs would.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, token, ok := splitPath(r.URL.Path)
	if !ok {
		s.answer(w, r, http.StatusNotFound, "BadPath", false)
		return
	}
	s.rec.Request(Vendor)
	p, status, reason := s.check(r, token)
	if status != 0 {
		s.answer(w, r, status, reason, true)
		return
	}
	switch owner := tokenEnv(token); {
	case !s.gate.AllowRequest():
		s.answer(w, r, http.StatusTooManyRequests, "TooManyRequests", true)
		return
	case owner != env:
		s.answer(w, r, http.StatusBadRequest, "BadDeviceToken", true)
		return
	}
	switch simkit.Script(strings.TrimPrefix(token, devTokenPrefix)) {
	case simkit.Unregistered:
		s.answer(w, r, http.StatusGone, "Unregistered", true)
		return
	case simkit.Unavailable:
		s.answer(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", true)
		return
	}
	if !s.gate.TakeQuota(1) {
		s.answer(w, r, http.StatusTooManyRequests, "TooManyRequests", true)
		return
	}
	p.Env = env
	s.log.add(p)
	s.rec.Accepted(Vendor, p.MessageID, token)
	w.Header().Set("apns-id", answerID(r))
	if env == EnvDevelopment {
		w.Header().Set("apns-unique-id", newUUID())
	}
	w.WriteHeader(http.StatusOK)
}

// answer writes an APNs error: apns-id header, {"reason"} body, plus
// "timestamp" (ms) with 410. counted says the request reached a send
// endpoint, so its token counts as rejected.
func (s *Simulator) answer(w http.ResponseWriter, r *http.Request, status int, reason string, counted bool) {
	if counted {
		s.rec.Rejected(Vendor, 1)
	}
	h := w.Header()
	h.Set("apns-id", answerID(r))
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b := append(make([]byte, 0, 64), `{"reason":`...)
	b = wire.AppendJSONString(b, reason)
	if status == http.StatusGone {
		b = append(b, `,"timestamp":`...)
		b = appendInt(b, s.now().UnixMilli())
	}
	_, _ = w.Write(append(b, '}'))
}

// splitPath parses /{env}/3/device/{token}; token may be empty (the caller
// answers MissingDeviceToken).
func splitPath(path string) (env, token string, ok bool) {
	env, rest, found := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !found || (env != EnvProduction && env != EnvDevelopment) {
		return "", "", false
	}
	token, found = strings.CutPrefix("/"+rest, pathDevice)
	if !found || strings.Contains(token, "/") {
		return "", "", false
	}
	return env, token, true
}

// tokenEnv is the environment a simulated token belongs to.
func tokenEnv(token string) string {
	if strings.HasPrefix(token, devTokenPrefix) {
		return EnvDevelopment
	}
	return EnvProduction
}
