// Package sim runs every vendor simulator on one TLS listener: APNs and FCM
// over HTTP/2, the REST vendors over HTTPS. It backs `herald sim`, the
// daemon's simulator mode, the tests and the bench harness.
//
// Each simulator is mounted under its vendor name: https://ADDR/apns,
// /fcm, /web, /huawei, /xiaomi, /oppo, /vivo. The receipt counters are at
// GET /sim/stats, POST /sim/reset zeroes them, POST /sim/limits sets a
// vendor's QPS and daily quota: {"vendor":"huawei","qps":200,"daily_quota":0},
// and POST /sim/outage takes a vendor down and up again:
// {"vendor":"apns","down":true} (while down, its simulator answers every
// request with the vendor's transient failure before doing any work; GET
// /sim/outage says which are down and how many requests each refused).
//
// Huawei, Xiaomi, OPPO and vivo post arrival receipts for the pushes that
// ask for one (simkit.Arrivals): GET /sim/arrivals counts them per vendor
// (posted, lost, failed, pending) and POST /sim/arrivals sets their delay
// and loss rate: {"delay_ms":2000,"loss":0.05}.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/apns"
	"github.com/herald-push/herald/vendors/fcm"
	"github.com/herald-push/herald/vendors/huawei"
	"github.com/herald-push/herald/vendors/oppo"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/vivo"
	"github.com/herald-push/herald/vendors/xiaomi"
	"github.com/herald-push/herald/webhooks"
)

// Options configure the simulators.
type Options struct {
	Limits map[vendors.Kind]simkit.Limits // per vendor; missing = unlimited
	Now    func() time.Time               // nil = wall clock
	// CA certifies the simulators' TLS (Start) and is what ClientConfigs
	// trust; nil = a new CA. `herald sim` passes the CA it keeps in its
	// --out directory.
	CA *simkit.CA
	// Keys are the APNs, FCM and Web simulators' signing keys; nil = new
	// ones. `herald sim` passes the keys it keeps beside its CA.
	Keys *Keys
	// Arrivals configure the arrival receipts the simulators post (delay,
	// loss, the client posting them).
	Arrivals simkit.ArrivalOptions
	// WebhookKeys are the keys the test webhook receiver (/sim/webhooks)
	// verifies deliveries with; none = it takes them unchecked until
	// POST /sim/webhooks/control sets secrets.
	WebhookKeys [][]byte
}

// limiter is what every simulator offers for changing its limits.
type limiter interface{ SetLimits(simkit.Limits) }

// Sims is the set of all vendor simulators sharing one Recorder.
type Sims struct {
	Recorder *simkit.Recorder
	// Outage is every simulator's down switch (POST /sim/outage).
	Outage *simkit.Outage
	CA     *simkit.CA
	APNs   *apns.Simulator
	FCM    *fcm.Simulator
	Web    *fcm.Simulator
	Huawei *huawei.Simulator
	Xiaomi *xiaomi.Simulator
	OPPO   *oppo.Simulator
	Vivo   *vivo.Simulator
	// Arrivals posts the Huawei, Xiaomi, OPPO and vivo simulators'
	// arrival receipts (GET/POST /sim/arrivals); Close stops it.
	Arrivals *simkit.Arrivals
	// Webhooks is a receiver for herald's webhook deliveries
	// (POST /sim/webhooks; GET counts them, POST /sim/webhooks/control
	// switches it down or sets its secrets).
	Webhooks *webhooks.Receiver

	limiters map[vendors.Kind]limiter
	mux      *http.ServeMux
}

// New builds every simulator, with opts.CA for their TLS and opts.Keys as
// their signing keys (new ones for either that is nil).
func New(opts Options) (*Sims, error) {
	ca := opts.CA
	if ca == nil {
		var err error
		if ca, err = simkit.NewCA(); err != nil {
			return nil, err
		}
	}
	keys := opts.Keys
	if keys == nil {
		keys = &Keys{} // each simulator makes its own
	}
	rec := simkit.NewRecorder(opts.Now)
	var names []string
	for _, k := range vendors.Kinds() {
		names = append(names, string(k))
	}
	rec.Ensure(names...)
	l := func(k vendors.Kind) simkit.Limits { return opts.Limits[k] }
	arr := simkit.NewArrivals(opts.Arrivals)
	s := &Sims{
		Recorder: rec,
		Outage:   simkit.NewOutage(),
		CA:       ca,
		Arrivals: arr,
		Webhooks: webhooks.NewReceiver(opts.WebhookKeys, opts.Now),
		APNs:     apns.NewSimulator(rec, apns.SimOptions{Limits: l(vendors.APNs), Now: opts.Now, SigningKey: keys.APNs}),
		FCM:      fcm.NewSimulator(rec, fcm.SimOptions{Kind: vendors.FCM, Limits: l(vendors.FCM), Now: opts.Now, ServiceAccountKey: keys.FCM}),
		Web:      fcm.NewSimulator(rec, fcm.SimOptions{Kind: vendors.Web, Limits: l(vendors.Web), Now: opts.Now, ServiceAccountKey: keys.Web}),
		Huawei:   huawei.NewSimulator(rec, huawei.SimOptions{Limits: l(vendors.Huawei), Now: opts.Now, Arrivals: arr}),
		Xiaomi:   xiaomi.NewSimulator(rec, xiaomi.SimOptions{Limits: l(vendors.Xiaomi), Now: opts.Now, Arrivals: arr}),
		OPPO:     oppo.NewSimulator(rec, oppo.SimOptions{Limits: l(vendors.OPPO), Now: opts.Now, Arrivals: arr}),
		Vivo:     vivo.NewSimulator(rec, vivo.SimOptions{Limits: l(vendors.Vivo), Now: opts.Now, Arrivals: arr}),
	}
	s.limiters = map[vendors.Kind]limiter{
		vendors.APNs: s.APNs, vendors.FCM: s.FCM, vendors.Web: s.Web, vendors.Huawei: s.Huawei,
		vendors.Xiaomi: s.Xiaomi, vendors.OPPO: s.OPPO, vendors.Vivo: s.Vivo,
	}
	mux := http.NewServeMux()
	mount := func(k vendors.Kind, h http.Handler) {
		p := "/" + string(k)
		mux.Handle(p+"/", s.Outage.Guard(string(k), transientAnswers[k], http.StripPrefix(p, h)))
	}
	mount(vendors.APNs, s.APNs)
	mount(vendors.FCM, s.FCM)
	mount(vendors.Web, s.Web)
	mount(vendors.Huawei, s.Huawei)
	mount(vendors.Xiaomi, s.Xiaomi)
	mount(vendors.OPPO, s.OPPO)
	mount(vendors.Vivo, s.Vivo)
	mux.Handle("/sim/stats", rec.Handler())
	mux.Handle("/sim/reset", rec.Handler())
	mux.Handle("/sim/receipts", rec.Handler())
	mux.HandleFunc("POST /sim/limits", s.setLimits)
	mux.Handle("/sim/outage", s.Outage.Handler())
	mux.Handle("/sim/arrivals", arr.Handler())
	mux.Handle("/sim/webhooks", s.Webhooks)
	mux.Handle("/sim/webhooks/control", s.Webhooks)
	s.mux = mux
	return s, nil
}

// Close stops posting arrival receipts: those still waiting for their
// delay are counted failed. Serving (Server.Close) is apart.
func (s *Sims) Close() { s.Arrivals.Close() }

// Handler serves every simulator and the /sim control endpoints.
func (s *Sims) Handler() http.Handler { return s.mux }

// SetLimits changes one vendor simulator's QPS and daily quota.
func (s *Sims) SetLimits(k vendors.Kind, l simkit.Limits) error {
	lim, ok := s.limiters[k]
	if !ok {
		return fmt.Errorf("sim: unknown vendor %q", k)
	}
	lim.SetLimits(l)
	return nil
}

type limitsRequest struct {
	Vendor     string  `json:"vendor"`
	QPS        float64 `json:"qps"`
	DailyQuota int64   `json:"daily_quota"`
}

func (s *Sims) setLimits(w http.ResponseWriter, r *http.Request) {
	var req limitsRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad limits request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.QPS < 0 || req.DailyQuota < 0 {
		http.Error(w, "qps and daily_quota must be >= 0", http.StatusBadRequest)
		return
	}
	if err := s.SetLimits(vendors.Kind(req.Vendor), simkit.Limits{QPS: req.QPS, DailyQuota: req.DailyQuota}); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Configs are client configs that reach the simulators.
type Configs struct {
	APNs   apns.Config
	FCM    fcm.Config
	Web    fcm.Config
	Huawei huawei.Config
	Xiaomi xiaomi.Config
	OPPO   oppo.Config
	Vivo   vivo.Config
}

// ClientConfigs returns the real clients' configs for simulators served at
// baseURL (https://host:port), trusting this CA.
func (s *Sims) ClientConfigs(baseURL string) Configs {
	tlsConf := s.CA.ClientTLS()
	return Configs{
		APNs:   s.APNs.ClientConfig(baseURL+"/apns", tlsConf),
		FCM:    s.FCM.ClientConfig(baseURL+"/fcm", tlsConf),
		Web:    s.Web.ClientConfig(baseURL+"/web", tlsConf),
		Huawei: s.Huawei.ClientConfig(baseURL+"/huawei", tlsConf),
		Xiaomi: s.Xiaomi.ClientConfig(baseURL+"/xiaomi", tlsConf),
		OPPO:   s.OPPO.ClientConfig(baseURL+"/oppo", tlsConf),
		Vivo:   s.Vivo.ClientConfig(baseURL+"/vivo", tlsConf),
	}
}

// AskReceipts makes the clients ask for arrival receipts posted to
// urlOf(vendor) (herald's POST /v1/receipts/{vendor}), and the Huawei
// simulator post its receipts there, signed for huaweiUser with
// huaweiKey (Huawei's receipt URL and callback key are set in the app's
// console, not in the push).
func (s *Sims) AskReceipts(c *Configs, urlOf func(vendors.Kind) string, huaweiUser, huaweiKey string) {
	c.Xiaomi.ReceiptURL = urlOf(vendors.Xiaomi)
	c.OPPO.ReceiptURL = urlOf(vendors.OPPO)
	c.Vivo.ReceiptURL = urlOf(vendors.Vivo)
	s.Huawei.SetReceipt(huawei.SimReceipt{URL: urlOf(vendors.Huawei), User: huaweiUser, Key: huaweiKey})
}

// Sender builds the real client of kind k from these configs.
func (c Configs) Sender(k vendors.Kind) (vendors.Sender, error) {
	switch k {
	case vendors.APNs:
		return apns.New(c.APNs)
	case vendors.FCM:
		return fcm.New(c.FCM)
	case vendors.Web:
		return fcm.New(c.Web)
	case vendors.Huawei:
		return huawei.New(c.Huawei)
	case vendors.Xiaomi:
		return xiaomi.New(c.Xiaomi)
	case vendors.OPPO:
		return oppo.New(c.OPPO)
	case vendors.Vivo:
		return vivo.New(c.Vivo)
	}
	return nil, fmt.Errorf("unknown vendor %q", k)
}

// Senders builds the real vendor clients pointed at simulators served at
// baseURL. maxConcurrent, when > 0, is the APNs, FCM and Web clients'
// MaxConcurrent (their request workers).
func (s *Sims) Senders(baseURL string, maxConcurrent int) (map[vendors.Kind]vendors.Sender, error) {
	c := s.ClientConfigs(baseURL)
	c.APNs.MaxConcurrent, c.FCM.MaxConcurrent, c.Web.MaxConcurrent = maxConcurrent, maxConcurrent, maxConcurrent
	return c.Senders()
}

// Senders builds every vendor's real client from these configs.
func (c Configs) Senders() (map[vendors.Kind]vendors.Sender, error) {
	out := map[vendors.Kind]vendors.Sender{}
	var errs []error
	for _, k := range vendors.Kinds() {
		snd, err := c.Sender(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		out[k] = snd
	}
	return out, errors.Join(errs...)
}

// Server is the simulators served on a TLS listener.
type Server struct {
	URL string // https://host:port
	srv *http.Server
	ln  net.Listener

	done chan struct{} // closed when serving ends
	err  error         // why; written before done is closed
}

// Start serves the simulators on addr (host:port; port 0 picks one) over
// TLS with HTTP/2, with a new certificate from the Sims' CA.
func (s *Sims) Start(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen address: %w", err)
	}
	tlsConf, err := s.CA.ServerTLS(host)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen: %w", err)
	}
	srv := &http.Server{Handler: s.mux, TLSConfig: tlsConf, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog()}
	out := &Server{URL: "https://" + ln.Addr().String(), srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if !errors.Is(err, http.ErrServerClosed) {
			out.err = fmt.Errorf("sim: serve %s: %w", out.URL, err)
		}
		close(out.done)
	}()
	return out, nil
}

// Done is closed when the server stops serving: after Close, or on an
// error (Err).
func (srv *Server) Done() <-chan struct{} { return srv.done }

// Err is the error serving ended with: nil while serving and after Close.
func (srv *Server) Err() error {
	select {
	case <-srv.done:
		return srv.err
	default:
		return nil
	}
}

// Close stops the server, letting requests in flight finish for up to 5 s.
func (srv *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.srv.Shutdown(ctx); err != nil {
		return srv.srv.Close()
	}
	return nil
}
