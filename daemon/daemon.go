package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Env is what the daemon takes from its surroundings.
type Env struct {
	Logger   *slog.Logger
	Clock    actors.Clock                 // nil = wall clock
	Getenv   func(string) string          // nil = os.Getenv
	ReadFile func(string) ([]byte, error) // nil = os.ReadFile
	// LoadConfig re-reads the configuration for SIGHUP and
	// POST /v1/admin/reload; nil = not reloadable.
	LoadConfig func() (configs.Config, error)
	// FreeSpace measures the data directory's free space in bytes (tests
	// fake a nearly full disk); nil = statfs.
	FreeSpace func() (uint64, error)
}

// Daemon is one herald server.
type Daemon struct {
	cfg   configs.Config
	log   *slog.Logger
	clock actors.Clock
	auth  *authenticator
	tls   *apiTLS // nil = plain HTTP
	tlsAt tlsInfo // the certificate loaded at start (for the log)
	m     *metrics

	router  router
	metricH fasthttp.RequestHandler

	users    *actors.Users
	push     *pushRuntime
	store    *store.Store
	senders  *actors.Senders
	yield    *actors.Yield // fan-outs give way to chat traffic (messages.fanout_yield)
	dispatch *actors.Dispatcher
	calls    *actors.Calls
	composer *composer
	env      Env
	ready    atomic.Bool

	reloadMu sync.Mutex
	live     configs.Config // the running configuration, as reloads left it (under reloadMu)
	addr     atomic.Value   // string: the bound listen address
}

// New validates cfg and prepares a daemon; Run starts it.
func New(cfg configs.Config, env Env) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if env.Logger == nil {
		return nil, errors.New("daemon: Env.Logger is required")
	}
	if env.Clock == nil {
		env.Clock = actors.SystemClock{}
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.ReadFile == nil {
		env.ReadFile = os.ReadFile
	}
	auth, err := newAuthenticator(cfg.Auth.Keys, env.Getenv, env.ReadFile)
	if err != nil {
		return nil, err
	}
	apiTLS, tlsAt, err := newAPITLS(cfg.TLS, env.ReadFile)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	cfg = withSimulatorDefaults(cfg)
	d := &Daemon{cfg: cfg, live: cfg, log: env.Logger, clock: env.Clock, auth: auth, tls: apiTLS, tlsAt: tlsAt, env: env}
	d.m = newMetrics(func() float64 {
		if d.users == nil {
			return 0
		}
		return float64(d.users.Active())
	}, func() map[vendors.Kind]actors.SenderSnapshot {
		if d.senders == nil {
			return nil
		}
		return d.senders.Stats()
	}, d.space, d.pebbleStats, func() float64 { return d.yield.Share() })
	d.metricH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{}))
	d.routes()
	return d, nil
}

// space is the data directory's free space (zero before the store opens).
func (d *Daemon) space() store.Space {
	if d.store == nil {
		return store.Space{}
	}
	return d.store.Space()
}

func (d *Daemon) pebbleStats() (store.PebbleStats, bool) {
	if d.store == nil {
		return store.PebbleStats{}, false
	}
	return d.store.PebbleStats(), true
}

func (d *Daemon) routes() {
	r := &d.router
	r.add("GET", "/healthz", scopeNone, d.healthz)
	r.add("GET", "/readyz", scopeNone, d.readyz)
	r.add("GET", "/metrics", scopeNone, d.metrics)
	r.add("PUT", "/v1/users/:user_id/devices/:device_id", scopeIngest, d.putDevice)
	r.add("POST", "/v1/devices/batch", scopeIngest, d.postDeviceBatch)
	r.add("DELETE", "/v1/users/:user_id/devices/:device_id", scopeIngest, d.deleteDevice)
	r.add("POST", "/v1/users/:user_id/logout", scopeIngest, d.logout)
	r.add("PUT", "/v1/users/:user_id/badge", scopeIngest, d.putBadge)
	r.add("GET", "/v1/users/:user_id", scopeIngest, d.getUser)
	r.add("POST", "/v1/presence", scopeIngest, d.postPresence)
	r.add("POST", "/v1/push/test", scopeAdmin, d.pushTest)
	r.add("PUT", "/v1/groups/:group_id/members", scopeIngest, d.putGroupMembers)
	r.add("GET", "/v1/groups/:group_id/members", scopeIngest, d.getGroupMembers)
	r.add("DELETE", "/v1/groups/:group_id", scopeIngest, d.deleteGroup)
	r.add("POST", "/v1/messages", scopeIngest, d.postMessage)
	r.add("GET", "/v1/users/:user_id/inbox", scopeIngest, d.getInbox)
	r.add("POST", "/v1/users/:user_id/inbox/ack", scopeIngest, d.ackInbox)
	r.add("GET", "/v1/stats", scopeIngest, d.getStats)
	r.add("POST", "/v1/calls", scopeIngest, d.postCall)
	r.add("GET", "/v1/calls/:call_id", scopeIngest, d.getCall)
	r.add("POST", "/v1/calls/:call_id/cancel", scopeIngest, d.callAction(actors.ActionCancel))
	r.add("POST", "/v1/calls/:call_id/accept", scopeIngest, d.callAction(actors.ActionAccept))
	r.add("POST", "/v1/calls/:call_id/reject", scopeIngest, d.callAction(actors.ActionReject))
	r.add("POST", "/v1/calls/:call_id/end", scopeIngest, d.callAction(actors.ActionEnd))
	r.add("GET", "/v1/users/:user_id/calls", scopeIngest, d.getUserCalls)
	r.add("GET", "/v1/admin/dead-letters", scopeAdmin, d.getDeadLetters)
	r.add("POST", "/v1/admin/dead-letters/replay", scopeAdmin, d.replayDeadLetters)
	r.add("POST", "/v1/admin/reload", scopeAdmin, d.postReload)
}

// Addr is the address the API listens on once Run has started it.
func (d *Daemon) Addr() string {
	s, _ := d.addr.Load().(string)
	return s
}

// Run opens the store, starts the actors and serves the API until ctx is
// done, then stops gracefully: stop accepting, let in-flight requests finish
// (up to shutdown.timeout), stop the actors, close Pebble.
func (d *Daemon) Run(ctx context.Context) error {
	st, err := store.Open(d.cfg.DataDir, store.Options{Logger: d.log, ObserveWrite: d.m.observeStoreWrite, CacheSize: int64(d.cfg.CacheSize),
		MemTableSize: uint64(d.cfg.MemTable), MinFree: uint64(d.cfg.MinFree), WALMinSyncInterval: d.cfg.WALSync.Std(), FreeSpace: d.env.FreeSpace, Now: d.clock.Now})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			d.log.Error("closing store", "err", err)
		}
	}()
	d.push, err = startVendors(d.cfg, d.env, d.log)
	if err != nil {
		return err
	}
	defer d.push.close()
	alog := d.log.With("component", "actor")
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return alog }))
	defer sys.Shutdown()
	d.users, err = actors.NewUsers(sys, &actors.Deps{Store: st, Clock: d.clock, Logger: d.log}, actors.UsersConfig{
		Shards:         d.cfg.Users.Shards,
		IdleTimeout:    d.cfg.Users.IdleTimeout.Std(),
		SweepInterval:  d.cfg.Users.EffectiveSweepInterval(),
		RequestTimeout: d.cfg.Limits.RequestTimeout.Std(),
	})
	if err != nil {
		return err
	}
	defer d.users.Stop()
	d.store = st
	d.composer = newComposer(st, d.clock, d.cfg.Resources)
	d.yield = actors.NewYield(d.cfg.Messages.FanoutYield.Std())
	d.senders, err = actors.NewSenders(sys, actors.SenderDeps{
		Store: st, Users: d.users, Composer: d.composer, Clock: d.clock, Logger: d.log,
		ObserveBatch: d.m.observeBatch, Yield: d.yield,
	}, d.push.senders, senderConfigs(&d.cfg, d.push.senders))
	if err != nil {
		return err
	}
	defer d.senders.Stop()
	if d.cfg.Messages.FanoutYield > 0 {
		defer d.startYield(d.yield)()
	}
	d.dispatch = actors.NewDispatcher(st, d.users, d.senders, d.clock, d.log, actors.DispatchConfig{
		ChunkSize: d.cfg.Messages.ChunkSize, MaxJobs: d.cfg.Messages.MaxJobs, InboxCap: int64(d.cfg.Inbox.MaxPerUser),
		OnInboxDropped: func(n int64) { d.m.inboxDropped.Add(float64(n)) },
		Yield:          d.yield,
	})
	defer d.dispatch.Stop()
	if err := d.dispatch.Resume(); err != nil {
		return fmt.Errorf("daemon: resuming unfinished work: %w", err)
	}
	d.calls = actors.NewCalls(sys, st, d.users, d.senders, d.clock, d.log, 0)
	defer d.calls.Stop()
	if err := d.calls.Resume(); err != nil {
		return fmt.Errorf("daemon: resuming ringing calls: %w", err)
	}
	hk := d.startHousekeeping()
	defer hk()

	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("daemon: listen: %w", err)
	}
	scheme := "http"
	if d.tls != nil {
		ln = d.tls.listener(ln)
		scheme = "https"
		d.log.Info("tls: certificate loaded", d.tlsAt.attrs()...)
	}
	srv := d.server()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	d.addr.Store(ln.Addr().String())
	d.ready.Store(true)
	if d.auth.enabled() {
		d.log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "data_dir", d.cfg.DataDir, "auth_keys", len(d.auth.keys))
	} else {
		d.log.Warn("listening without API keys: loopback only, every request is trusted", "addr", ln.Addr().String(), "data_dir", d.cfg.DataDir)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		d.ready.Store(false)
		return fmt.Errorf("daemon: serve: %w", err)
	}
	d.ready.Store(false)
	d.log.Info("shutting down: draining requests", "timeout", d.cfg.Shutdown.Timeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.Shutdown.Timeout.Std())
	defer cancel()
	if err := srv.ShutdownWithContext(sctx); err != nil {
		d.log.Warn("requests still open at shutdown timeout", "err", err)
	}
	// Stop in dependency order: fan-outs, then senders (they unbind through
	// the user actors), then the user actors; deferred calls are no-ops now.
	d.dispatch.Stop()
	d.calls.Stop()
	d.senders.Stop()
	d.users.Stop()
	d.log.Info("stopped")
	return nil
}

func (d *Daemon) server() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       d.handle,
		ErrorHandler:                  d.handleParseError,
		Name:                          "herald",
		MaxRequestBodySize:            int(d.cfg.Limits.MaxBodyBytes),
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  30 * time.Second,
		IdleTimeout:                   2 * time.Minute,
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         false,
		DisableHeaderNamesNormalizing: false,
		// Without it fasthttp logs the bytes of a request it cannot parse,
		// Authorization header included.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{d.log.With("component", "fasthttp")},
	}
}

// handle is the single fasthttp handler: refuse ambiguous framing, route,
// authenticate, dispatch, record metrics.
func (d *Daemon) handle(rc *fasthttp.RequestCtx) {
	if e := checkFraming(&rc.Request.Header); e != nil {
		writeError(rc, e)
		rc.SetConnectionClose() // what follows on the connection is not to be trusted
		d.m.observeRequest("unparsed", e.Status, 0)
		return
	}
	start := time.Now()
	name := "unmatched"
	defer func() {
		// A bug in one handler must cost one request, not the daemon
		// (fasthttp does not recover): 500, and the stack in the log.
		if p := recover(); p != nil {
			d.log.Error("handler panicked; answered 500", "route", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(rc, internalError())
			d.m.observeRequest(name, fasthttp.StatusInternalServerError, time.Since(start))
		}
	}()
	rt, p, e := d.router.match(string(rc.Method()), rc.URI().PathOriginal())
	if e == nil {
		name = rt.name
		if _, e = d.auth.check(rc, rt.scope); e == nil {
			e = rt.handler(rc, p)
		}
	}
	if e != nil {
		writeError(rc, e)
	}
	d.m.observeRequest(name, rc.Response.StatusCode(), time.Since(start))
}

// handleParseError answers requests fasthttp could not read: an oversize
// body gets 413, anything else 400, both as API error bodies.
func (d *Daemon) handleParseError(rc *fasthttp.RequestCtx, err error) {
	var e *apiError
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = &apiError{Status: fasthttp.StatusRequestEntityTooLarge, Code: codePayloadTooLarge,
			Message: fmt.Sprintf("request body exceeds %s", d.cfg.Limits.MaxBodyBytes)}
	case errors.As(err, &small):
		e = &apiError{Status: fasthttp.StatusRequestHeaderFieldsTooLarge, Code: codeHeadersTooLarge,
			Message: "request headers are too large"}
	default:
		e = invalid("", "malformed HTTP request")
	}
	writeError(rc, e)
	d.m.observeRequest("unparsed", e.Status, 0)
}

func (d *Daemon) healthz(rc *fasthttp.RequestCtx, _ params) *apiError {
	writeJSON(rc, fasthttp.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (d *Daemon) readyz(rc *fasthttp.RequestCtx, _ params) *apiError {
	if !d.ready.Load() {
		return &apiError{Status: fasthttp.StatusServiceUnavailable, Code: codeOverloaded, Message: "not ready", RetryAfter: 1}
	}
	writeJSON(rc, fasthttp.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (d *Daemon) metrics(rc *fasthttp.RequestCtx, _ params) *apiError {
	d.metricH(rc)
	return nil
}

type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) { l.log.Warn(fmt.Sprintf(format, args...)) }

// Simulators returns the in-process vendor simulators in simulator mode
// (nil otherwise) and the URL they are served at.
func (d *Daemon) Simulators() (*sim.Sims, string) {
	if d.push == nil || d.push.sims == nil {
		return nil, ""
	}
	return d.push.sims, d.push.simSrv.URL
}

// withSimulatorDefaults adds the simulator "default" push resource in
// simulator mode when the config has none.
func withSimulatorDefaults(cfg configs.Config) configs.Config {
	if !cfg.SimulatorMode() {
		return cfg
	}
	if _, ok := cfg.Resources[defaultResource]; ok {
		return cfg
	}
	res := maps.Clone(cfg.Resources)
	if res == nil {
		res = map[string]configs.Resource{}
	}
	res[defaultResource] = simulatorDefaultResource()
	cfg.Resources = res
	return cfg
}
