package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/webhooks"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Env is what the daemon takes from its surroundings.
type Env struct {
	Logger   *slog.Logger
	Clock    actors.Clock                 // time for the store, actors, push and the daemon's tickers; nil = clock.System
	Getenv   func(string) string          // nil = os.Getenv
	ReadFile func(string) ([]byte, error) // nil = os.ReadFile
	// LoadConfig re-reads the configuration for SIGHUP and
	// POST /v1/admin/reload; nil = not reloadable.
	LoadConfig func() (configs.Config, error)
	// FreeSpace measures the data directory's free space in bytes (tests
	// fake a nearly full disk); nil = statfs.
	FreeSpace func() (uint64, error)
	// Version is herald's version for herald_build_info; "" = "unknown".
	Version string
}

// Daemon is one herald server.
type Daemon struct {
	cfg   configs.Config
	log   *slog.Logger
	clock actors.Clock
	auth  *api.Auth
	tls   *apiTLS // nil = plain HTTP
	tlsAt tlsInfo // the certificate loaded at start (for the log)
	m     *metrics

	metricH fasthttp.RequestHandler
	api     *api.Server

	users    *actors.Users
	push     *pushRuntime
	store    *store.Store
	senders  *actors.Senders
	yield    *actors.Yield // fan-outs give way to chat traffic (messages.fanout_yield)
	dispatch *actors.Dispatcher
	calls    *actors.Calls
	composer *push.Composer
	env      Env
	ready    atomic.Bool

	reloadMu sync.Mutex
	live     configs.Config // the running configuration, as reloads left it (under reloadMu)
	addr     atomic.Value   // string: the bound listen address
	receipts receiptSetup   // how receipts are asked for and checked (set by Run)
	hooks    []webhookEndpoint
	webhooks *webhooks.Dispatcher // nil = no endpoints configured
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
		env.Clock = clock.System{}
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.ReadFile == nil {
		env.ReadFile = os.ReadFile
	}
	auth, err := api.NewAuth(cfg.Auth.Keys, env.Getenv, env.ReadFile)
	if err != nil {
		return nil, err
	}
	apiTLS, tlsAt, err := newAPITLS(cfg.TLS, env.ReadFile)
	if err != nil {
		return nil, err
	}
	hooks, err := webhookEndpoints(cfg.Webhooks, env.Getenv, env.ReadFile)
	if err != nil {
		return nil, err
	}
	cfg = withSimulatorDefaults(cfg)
	d := &Daemon{cfg: cfg, live: cfg, log: env.Logger, clock: env.Clock, auth: auth, tls: apiTLS, tlsAt: tlsAt, env: env, hooks: hooks}
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
	d.m.reg.MustRegister(buildInfo(env.Version))
	d.metricH = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{}))
	return d, nil
}

// liveLimits is each vendor's limits in the running configuration.
func (d *Daemon) liveLimits() map[vendors.Kind]configs.VendorLimits {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	out := map[vendors.Kind]configs.VendorLimits{}
	for name, v := range d.live.Vendors.ByName() {
		out[vendors.Kind(name)] = v.Limits
	}
	return out
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

// Addr is the address the API listens on once Run has started it.
func (d *Daemon) Addr() string {
	s, _ := d.addr.Load().(string)
	return s
}

// Run opens the store, starts the actors and serves the API until ctx is
// done, then stops gracefully: stop accepting, let in-flight requests finish
// (up to shutdown.timeout), stop the actors, close Pebble.
func (d *Daemon) Run(ctx context.Context) error {
	// Bound first: the receipt URLs the vendor clients are built with
	// name the bound address in simulator mode. Connections wait in the
	// backlog until serving starts.
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("daemon: listen: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	if d.tls != nil {
		ln = d.tls.listener(ln)
		scheme = "https"
		d.log.Info("tls: certificate loaded", d.tlsAt.attrs()...)
	}
	rs, err := newReceiptSetup(d.cfg, d.env, scheme, ln.Addr().String())
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	d.receipts = rs
	if rs.on() {
		d.log.Info("arrival receipts on: huawei, xiaomi, oppo and vivo post them to herald", "url", rs.url("{vendor}"))
	}
	st, err := store.Open(d.cfg.DataDir, store.Options{Logger: d.log, Receipts: rs.on(), ObserveWrite: d.m.observeStoreWrite, CacheSize: int64(d.cfg.CacheSize),
		MemTableSize: uint64(d.cfg.MemTable), MinFree: uint64(d.cfg.MinFree), WALMinSyncInterval: d.cfg.WALSync.Std(), FreeSpace: d.env.FreeSpace, Now: d.clock.Now})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			d.log.Error("closing store", "err", err)
		}
	}()
	d.push, err = startVendors(d.cfg, d.env, d.log, rs, webhookKeys(d.hooks))
	if err != nil {
		return err
	}
	defer d.push.close()
	var simCA []byte
	if d.push.sims != nil {
		simCA = d.push.sims.CA.CertPEM()
	}
	wh, stopWebhooks, err := d.startWebhooks(st, simCA)
	if err != nil {
		return err
	}
	defer stopWebhooks()
	d.webhooks = wh
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
	d.composer = push.NewComposer(st, d.clock, d.cfg.Resources)
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
	d.calls = actors.NewCalls(sys, st, d.users, d.senders, d.clock, d.log)
	defer d.calls.Stop()
	if err := d.calls.Resume(); err != nil {
		return fmt.Errorf("daemon: resuming ringing calls: %w", err)
	}
	hk := d.startHousekeeping()
	defer hk()

	d.api, err = api.New(api.Deps{Config: d.cfg, Log: d.log, Clock: d.clock, Auth: d.auth, Store: st, Users: d.users, Calls: d.calls,
		Dispatch: d.dispatch, Senders: d.senders, Yield: d.yield, Composer: d.composer, Vendors: d.push.senders,
		Receipts: rs.receiptVendors(d.push.senders, d.clock), Webhooks: wh, Limits: d.liveLimits, Reload: d.Reload, Metrics: d.metricH, Ready: d.ready.Load, ObserveRequest: d.m.observeRequest})
	if err != nil {
		return err
	}
	srv := d.api.HTTPServer()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	d.addr.Store(ln.Addr().String())
	d.ready.Store(true)
	if d.auth.Enabled() {
		d.log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "data_dir", d.cfg.DataDir, "auth_keys", d.auth.Keys())
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
	if _, ok := cfg.Resources[push.DefaultResource]; ok {
		return cfg
	}
	res := maps.Clone(cfg.Resources)
	if res == nil {
		res = map[string]configs.Resource{}
	}
	res[push.DefaultResource] = push.SimulatorDefaultResource()
	cfg.Resources = res
	return cfg
}
