package daemon

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/apns"
	"github.com/herald-push/herald/vendors/fcm"
	"github.com/herald-push/herald/vendors/huawei"
	"github.com/herald-push/herald/vendors/oppo"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/vivo"
	"github.com/herald-push/herald/vendors/xiaomi"
)

// pushRuntime is the set of vendor senders, and in simulator mode the
// simulators they talk to.
type pushRuntime struct {
	senders map[vendors.Kind]vendors.Sender
	trust   map[vendors.Kind]*vendorTrust // the configured vendors' clients (none in simulator mode)
	sims    *sim.Sims
	simSrv  *sim.Server
}

// rootsSetter is a vendor client whose trusted roots can change while it
// runs: for requests started after the change, its queue untouched.
type rootsSetter interface {
	SetRootCAs(*x509.CertPool)
}

var (
	_ rootsSetter = (*apns.Client)(nil)
	_ rootsSetter = (*fcm.Client)(nil)
	_ rootsSetter = (*huawei.Client)(nil)
	_ rootsSetter = (*xiaomi.Client)(nil)
	_ rootsSetter = (*oppo.Client)(nil)
	_ rootsSetter = (*vivo.Client)(nil)
)

// vendorTrust is what one configured vendor's client trusts, and the
// client to tell when a reload changes it.
type vendorTrust struct {
	ca     caFile
	client rootsSetter
}

// caFile is a vendor section's ca_file as read: its name, its content and
// the roots they make. The zero caFile is no ca_file: the system roots.
type caFile struct {
	name string
	pem  []byte
	pool *x509.CertPool // the system roots plus the file's certificates; nil = the system roots
}

// readCAFile reads sec's ca_file, if any; a file that cannot be read or
// holds no PEM certificate is an error.
func readCAFile(sec configs.Vendor, env Env) (caFile, error) {
	if sec.CAFile == "" {
		return caFile{}, nil
	}
	pem, err := env.ReadFile(sec.CAFile)
	if err != nil {
		return caFile{}, &configs.FieldError{Key: "ca_file", Msg: err.Error()}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return caFile{}, &configs.FieldError{Key: "ca_file", Msg: sec.CAFile + " holds no PEM certificate"}
	}
	return caFile{name: sec.CAFile, pem: pem, pool: pool}, nil
}

// tlsConfig is the client TLS configuration trusting f; nil = defaults.
func (f caFile) tlsConfig() *tls.Config {
	if f.pool == nil {
		return nil
	}
	return &tls.Config{RootCAs: f.pool, MinVersion: tls.VersionTLS12}
}

// caChange is a vendor's ca_file, read again by a reload, to apply.
type caChange struct {
	kind vendors.Kind
	ca   caFile
}

// rereadCAFiles reads the ca_file next names for every configured
// vendor's client, also when the name did not change (a rotated CA is why
// an operator reloads), and returns those whose name or content changed.
// Any file that cannot be used is an error, and then nothing is to apply.
func (p *pushRuntime) rereadCAFiles(next map[string]*configs.Vendor, env Env) ([]caChange, error) {
	var out []caChange
	var errs []error
	for _, k := range vendors.Kinds() {
		vt := p.trust[k]
		if vt == nil {
			continue
		}
		ca, err := readCAFile(*next[string(k)], env)
		if err != nil {
			errs = append(errs, fmt.Errorf("vendors.%s: %w", k, err))
			continue
		}
		if ca.name != vt.ca.name || !bytes.Equal(ca.pem, vt.ca.pem) {
			out = append(out, caChange{kind: k, ca: ca})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// setCA makes the vendor's client trust c.ca for requests started from now
// on; those in flight finish over their connections.
func (p *pushRuntime) setCA(c caChange) {
	vt := p.trust[c.kind]
	vt.client.SetRootCAs(c.ca.pool)
	vt.ca = c.ca
}

// close closes every vendor client that can be closed (stopping the
// APNs, FCM and Web request workers), then the simulators. It runs after
// the senders stopped, so no request is in flight.
func (p *pushRuntime) close() {
	if p == nil {
		return
	}
	for _, s := range p.senders {
		if c, ok := s.(io.Closer); ok {
			_ = c.Close()
		}
	}
	if p.simSrv != nil {
		_ = p.simSrv.Close()
		p.sims.Close()
	}
}

// startVendors builds the vendor senders, asking for arrival receipts as
// rs says. With no vendor account in the config it starts every simulator
// on sim_listen and points every vendor's real client at it.
func startVendors(cfg configs.Config, env Env, log *slog.Logger, rs receiptSetup, webhookKeys [][]byte) (*pushRuntime, error) {
	if cfg.SimulatorMode() {
		// The simulated vendors post receipts to herald's own listener;
		// with the API on TLS its certificate is the operator's, which
		// the simulators do not know (the receipt, not the TLS, is what
		// they stand in for).
		arrivals := simkit.ArrivalOptions{Delay: simReceiptDelay, Client: &http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
		sims, err := sim.New(sim.Options{Arrivals: arrivals, WebhookKeys: webhookKeys})
		if err != nil {
			return nil, err
		}
		srv, err := sims.Start(cfg.SimListen)
		if err != nil {
			sims.Close()
			return nil, err
		}
		fail := func(err error) (*pushRuntime, error) {
			_ = srv.Close()
			sims.Close()
			return nil, err
		}
		cc := sims.ClientConfigs(srv.URL)
		cc.APNs.MaxConcurrent, cc.FCM.MaxConcurrent, cc.Web.MaxConcurrent = clientRequestCap, clientRequestCap, clientRequestCap
		if rs.on() {
			sims.AskReceipts(&cc, rs.url, rs.huaweiUser, rs.huaweiKey)
			cc.Huawei.ReceiptID = rs.huaweiID
		}
		senders, err := cc.Senders()
		if err != nil {
			return fail(fmt.Errorf("daemon: simulator clients: %w", err))
		}
		caFile := filepath.Join(cfg.DataDir, "sim-ca.pem")
		if err := sims.CA.WriteFile(caFile); err != nil {
			return fail(err)
		}
		log.Warn("simulator mode: no vendor account configured, every vendor is simulated; pushes reach no phone",
			"simulators", srv.URL, "stats", srv.URL+"/sim/stats", "ca_file", caFile)
		return &pushRuntime{senders: senders, sims: sims, simSrv: srv}, nil
	}
	senders := map[vendors.Kind]vendors.Sender{}
	trust := map[vendors.Kind]*vendorTrust{}
	var errs []error
	for _, k := range vendors.Kinds() {
		sec := cfg.Vendors.ByName()[string(k)]
		if !sec.IsEnabled() || !sec.Configured() {
			log.Info("vendor not configured: its devices get no pushes", "vendor", k)
			continue
		}
		s, ca, err := realSender(k, *sec, env, rs)
		if err != nil {
			errs = append(errs, fmt.Errorf("vendors.%s: %w", k, err))
			continue
		}
		senders[k] = s
		if rs, ok := s.(rootsSetter); ok {
			trust[k] = &vendorTrust{ca: ca, client: rs}
		}
		log.Info("vendor ready", "vendor", k, "endpoint", endpointOrDefault(sec.Endpoint))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	return &pushRuntime{senders: senders, trust: trust}, nil
}

func endpointOrDefault(e string) string {
	if e == "" {
		return "vendor default"
	}
	return e
}

// account reads vendor account values, remembering the first error.
type account struct {
	sec configs.Vendor
	env Env
	err error
}

func (a *account) get(key string, required bool) string {
	if a.err != nil {
		return ""
	}
	v, ok, err := a.sec.AccountValue(key, a.env.Getenv, a.env.ReadFile)
	switch {
	case err != nil:
		a.err = err
	case !ok && required:
		a.err = fmt.Errorf("account.%s is required", key)
	}
	return v
}

// simReceiptDelay is how long after a push the simulated vendors post its
// arrival receipt in simulator mode (POST /sim/arrivals changes it).
const simReceiptDelay = time.Second

// clientRequestCap bounds the request workers of the per-token clients
// (APNs, FCM, Web). Their sender's limits.max_in_flight is the limit that
// applies (reloadable); workers start only as that much concurrency is
// used, so the cap only matters if a reload raises max_in_flight past it.
const clientRequestCap = 4096

// VendorClient builds vendor k's client from its config section as serve
// does: credentials, keys and ca_file read through env (Getenv and ReadFile
// are required).
func VendorClient(k vendors.Kind, sec configs.Vendor, env Env) (vendors.Sender, error) {
	s, _, err := realSender(k, sec, env, receiptSetup{})
	return s, err
}

// realSender builds vendor k's client from its section, trusting the
// system roots plus the section's ca_file, which it returns as read, and
// asking for arrival receipts as rs says.
func realSender(k vendors.Kind, sec configs.Vendor, env Env, rs receiptSetup) (vendors.Sender, caFile, error) {
	ca, err := readCAFile(sec, env)
	if err != nil {
		return nil, caFile{}, err
	}
	tlsConf := ca.tlsConfig()
	a := &account{sec: sec, env: env}
	var s vendors.Sender
	switch k {
	case vendors.APNs:
		c := apns.Config{Topic: a.get("topic", true), ProductionURL: sec.Endpoint,
			DevelopmentURL: a.get("development_endpoint", false), TLS: tlsConf, MaxConcurrent: clientRequestCap}
		if key := a.get("auth_key", false); key != "" {
			c.AuthKey, c.KeyID, c.TeamID = []byte(key), a.get("key_id", true), a.get("team_id", true)
		} else {
			c.Certificate = []byte(a.get("certificate", true))
			c.CertPassword = a.get("certificate_password", false)
		}
		if a.err == nil {
			s, err = apns.New(c)
		}
	case vendors.FCM, vendors.Web:
		c := fcm.Config{Kind: k, ProjectID: a.get("project_id", true), CredentialsJSON: []byte(a.get("credentials", true)),
			Endpoint: sec.Endpoint, TLS: tlsConf, MaxConcurrent: clientRequestCap}
		if a.err == nil {
			s, err = fcm.New(c)
		}
	case vendors.Huawei:
		c := huawei.Config{AppID: a.get("app_id", true), AppSecret: a.get("app_secret", true),
			AuthURL: a.get("auth_endpoint", false), PushURL: sec.Endpoint, TLS: tlsConf}
		if rs.on() {
			c.ReceiptID = rs.huaweiID
		}
		if a.err == nil {
			s, err = huawei.New(c)
		}
	case vendors.Xiaomi:
		c := xiaomi.Config{PackageName: a.get("package_name", true), AppSecret: a.get("app_secret", true),
			Endpoint: sec.Endpoint, TLS: tlsConf, ReceiptURL: rs.url(k)}
		if a.err == nil {
			s, err = xiaomi.New(c)
		}
	case vendors.OPPO:
		c := oppo.Config{AppKey: a.get("app_key", true), MasterSecret: a.get("master_secret", true),
			Endpoint: sec.Endpoint, TLS: tlsConf, ReceiptURL: rs.url(k)}
		if a.err == nil {
			s, err = oppo.New(c)
		}
	case vendors.Vivo:
		c := vivo.Config{AppID: a.get("app_id", true), AppKey: a.get("app_key", true), AppSecret: a.get("app_secret", true),
			Endpoint: sec.Endpoint, TLS: tlsConf, ReceiptURL: rs.url(k)}
		if a.err == nil {
			s, err = vivo.New(c)
		}
	default:
		return nil, caFile{}, fmt.Errorf("unknown vendor %q", k)
	}
	if a.err != nil {
		return nil, caFile{}, a.err
	}
	if err != nil {
		return nil, caFile{}, err
	}
	return s, ca, nil
}

// senderConfig converts a vendor section to the sender's limits.
func senderConfig(v *configs.Vendor) actors.SenderConfig {
	return actors.SenderConfig{
		QPS: v.Limits.QPS, Burst: v.Limits.Burst, MaxInFlight: v.Limits.MaxInFlight,
		BatchSize: v.Limits.BatchSize, BatchWait: v.Limits.BatchWait.Std(), DailyQuota: v.Limits.DailyQuota, MaxQueued: v.Limits.MaxQueued,
		MaxAttempts: v.Retry.MaxAttempts, InitialBackoff: v.Retry.InitialBackoff.Std(), MaxBackoff: v.Retry.MaxBackoff.Std(),
	}
}

// senderConfigs returns the sender limits of every vendor with a client.
func senderConfigs(cfg *configs.Config, clients map[vendors.Kind]vendors.Sender) map[vendors.Kind]actors.SenderConfig {
	out := map[vendors.Kind]actors.SenderConfig{}
	byName := cfg.Vendors.ByName()
	for k := range clients {
		out[k] = senderConfig(byName[string(k)])
	}
	return out
}
