package fcm

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// Simulator defaults and knobs.
const (
	// DefaultSimProject is the project the simulator serves when
	// SimOptions.ProjectID is empty.
	DefaultSimProject = "herald-sim"
	// DefaultAuthTokenTTL is how long the simulator's access tokens last,
	// like Google's.
	DefaultAuthTokenTTL = time.Hour
	// PrefixOtherSender scripts a token registered to another project:
	// 403 SENDER_ID_MISMATCH.
	PrefixOtherSender = "othersender-"
	// receivedCap bounds the log of accepted messages.
	receivedCap = 10_000
)

// SimOptions configure a Simulator.
type SimOptions struct {
	// Kind is vendors.FCM (default) or vendors.Web; it is also the name
	// the simulator counts under in the Recorder ("fcm" or "web").
	Kind vendors.Kind
	// Limits are the QPS and daily quota the simulator enforces.
	Limits simkit.Limits
	// Now is the simulator's clock (token expiry, limits); nil = time.Now.
	Now func() time.Time
	// AuthTokenTTL is the lifetime of issued access tokens; 0 = 1 h.
	AuthTokenTTL time.Duration
	// ProjectID is the only project messages may be sent to;
	// "" = DefaultSimProject.
	ProjectID string
	// ServiceAccountKey is the service account's key, whose RS256
	// assertions the token endpoint accepts; nil = a new 2048-bit key.
	// Pass the same key to a restarted simulator and clients holding the
	// old service-account JSON keep working (its private_key_id is derived
	// from the key).
	ServiceAccountKey *rsa.PrivateKey
}

// Received is one accepted message, as the simulator saw it.
type Received struct {
	Token           string
	MessageID       string // data["message_id"]
	AndroidPriority string // "HIGH", "NORMAL" or "" (normalised from the wire's case)
	ChannelID       string // android.notification.channel_id
	WebUrgency      string // webpush.headers.Urgency
	DataOnly        bool   // no notification block anywhere
	Message         json.RawMessage
}

// Simulator speaks FCM HTTP v1 — POST /v1/projects/{project}/messages:send
// — and Google's OAuth2 JWT-bearer token endpoint — POST /token — relative
// to its base URL, over whatever server serves it (HTTP/2 + TLS in tests).
// Safe for concurrent use.
type Simulator struct {
	kind    vendors.Kind
	name    string // Recorder vendor name
	project string
	rec     *simkit.Recorder
	gate    *simkit.Gate
	now     func() time.Time
	ttl     time.Duration
	mux     *http.ServeMux
	seq     atomic.Uint64

	// The service account the simulator accepts.
	key    *rsa.PrivateKey
	keyPEM string
	keyID  string
	email  string

	mu        sync.Mutex
	limits    simkit.Limits
	tokens    map[string]issuedToken // access token → grant
	tokenURIs map[string]bool        // token_uri values handed out (JWT audiences)
	log       []Received             // ring of accepted messages
	logNext   int
}

type issuedToken struct {
	expiry time.Time
	scopes []string
}

// NewSimulator returns a simulator counting into rec, accepting
// opts.ServiceAccountKey (nil = a fresh RSA key).
func NewSimulator(rec *simkit.Recorder, opts SimOptions) *Simulator {
	if opts.Kind == "" {
		opts.Kind = vendors.FCM
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AuthTokenTTL <= 0 {
		opts.AuthTokenTTL = DefaultAuthTokenTTL
	}
	if opts.ProjectID == "" {
		opts.ProjectID = DefaultSimProject
	}
	key := opts.ServiceAccountKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			// crypto/rand does not fail on supported platforms.
			panic(fmt.Sprintf("fcm: simulator key: %v", err))
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(fmt.Sprintf("fcm: simulator key: %v", err))
	}
	// The key ID follows from the key, so the same key has the same ID in
	// every simulator given it.
	kid := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	s := &Simulator{
		kind:      opts.Kind,
		name:      string(opts.Kind),
		project:   opts.ProjectID,
		rec:       rec,
		gate:      simkit.NewGate(opts.Limits, opts.Now),
		now:       opts.Now,
		ttl:       opts.AuthTokenTTL,
		key:       key,
		keyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		keyID:     hex.EncodeToString(kid[:20]),
		email:     "herald-push@" + opts.ProjectID + ".iam.gserviceaccount.com",
		limits:    opts.Limits,
		tokens:    map[string]issuedToken{},
		tokenURIs: map[string]bool{},
	}
	rec.Ensure(s.name)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/token", postOnly(s.serveToken))
	s.mux.HandleFunc("/v1/projects/{project}/messages:send", postOnly(s.serveSend))
	s.mux.HandleFunc("/", s.serveNotFound)
	return s
}

// ServeHTTP serves the FCM and token endpoints.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetLimits changes the enforced QPS and daily quota.
func (s *Simulator) SetLimits(l simkit.Limits) {
	s.mu.Lock()
	s.limits = l
	s.mu.Unlock()
	s.gate.SetLimits(l)
}

// ProjectID is the project the simulator serves.
func (s *Simulator) ProjectID() string { return s.project }

// ClientConfig returns a client Config for this simulator mounted at
// baseURL: its project, a service-account key JSON whose token_uri is
// baseURL+"/token", Endpoint baseURL+"/v1", trusting tlsConf.
func (s *Simulator) ClientConfig(baseURL string, tlsConf *tls.Config) Config {
	base := strings.TrimRight(baseURL, "/")
	return Config{
		Kind:            s.kind,
		ProjectID:       s.project,
		CredentialsJSON: s.ServiceAccountJSON(base + "/token"),
		Endpoint:        base + "/v1",
		TLS:             tlsConf,
	}
}

// ServiceAccountJSON is a service-account key file the simulator accepts,
// pointing its token_uri at tokenURI.
func (s *Simulator) ServiceAccountJSON(tokenURI string) []byte {
	s.mu.Lock()
	s.tokenURIs[tokenURI] = true
	s.mu.Unlock()
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  s.project,
		"private_key_id":              s.keyID,
		"private_key":                 s.keyPEM,
		"client_email":                s.email,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

// Received returns the accepted messages still in the log (the last
// 10,000), oldest first.
func (s *Simulator) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, 0, len(s.log))
	if len(s.log) == receivedCap {
		out = append(out, s.log[s.logNext:]...)
		return append(out, s.log[:s.logNext]...)
	}
	return append(out, s.log...)
}

func (s *Simulator) record(r Received) {
	s.mu.Lock()
	if len(s.log) < receivedCap {
		s.log = append(s.log, r)
	} else {
		s.log[s.logNext] = r
		s.logNext = (s.logNext + 1) % receivedCap
	}
	s.mu.Unlock()
}

// postOnly answers other methods with 405 in Google's error shape.
func postOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeFault(w, fault{httpStatus: http.StatusMethodNotAllowed, status: "INVALID_ARGUMENT",
				message: "Method " + r.Method + " is not allowed; use POST."})
			return
		}
		h(w, r)
	}
}

func (s *Simulator) serveNotFound(w http.ResponseWriter, r *http.Request) {
	writeFault(w, fault{httpStatus: http.StatusNotFound, status: "NOT_FOUND",
		message: "The requested URL " + r.URL.Path + " was not found on this server."})
}
