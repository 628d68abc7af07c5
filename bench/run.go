package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-push/herald/client"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

// Local is a herald daemon (and its simulators) the harness started in
// this process.
type Local struct {
	URL    string    // http://host:port of the API
	Sims   *sim.Sims // the in-process simulators
	SimURL string
	Stop   func() error // graceful stop; waits for the daemon to exit
	// PID is the daemon's process when it runs as a child process (0 =
	// this process): its first life's, when the crash scenario restarts it.
	PID int

	// child is the child daemon's process (nil in-process), which the
	// crash scenario kills and starts again.
	child *childProc
}

// StartLocalFunc starts a daemon on cfg (listen addresses and data dir set
// by the harness) in simulator mode and returns once it serves. The daemon
// package provides it (bench cannot import daemon: daemon imports bench for
// the `herald bench` command).
type StartLocalFunc func(cfg configs.Config, log *slog.Logger) (*Local, error)

// Options are one run's settings besides the scenario.
type Options struct {
	Scenario Scenario

	// External deployment; all empty = start a local daemon.
	Target string // herald's API URL
	Sim    string // the simulators' URL
	SimCA  string // CA certificate file for the simulators' TLS
	Key    string // API key (bearer)

	DaemonConfig string // local: herald config file replacing the scenario's daemon section
	DaemonLog    string // local: file for the daemon's logs ("" = errors to Progress' writer, or nowhere)
	// DaemonCPUProfile, with the child daemon, is passed to it as
	// `serve --cpuprofile`: a profile of its whole life.
	DaemonCPUProfile string
	DataDir          string // local: Pebble directory ("" = a temporary one, removed afterwards)

	// CPUProfile and MemProfile, when set, are files for pprof profiles of
	// the measured phase (setup and warm-up excluded): CPU, and allocations
	// (MemProfile holds the allocs profile at the end, MemProfile+".base"
	// the one at the start: go tool pprof -diff_base FILE.base FILE).
	CPUProfile, MemProfile string

	// Daemon is where the local daemon runs: DaemonChild (`herald serve`
	// as a child process, the simulators here) or DaemonInProcess; "" =
	// child for fanout when Herald is set, else in-process.
	Daemon string
	// Herald is the herald executable for DaemonChild (os.Executable of
	// the herald command) and WriteSimConfig writes the child's simulator
	// config; both come from the daemon package.
	Herald         string
	WriteSimConfig WriteSimConfigFunc
	// Floor is when the floor runs (FloorAuto, FloorOff, FloorBefore,
	// FloorAfter; "" = FloorAuto) and FloorNotifications how many
	// notifications it sends per vendor kind (0 = as many as herald sends
	// for that kind in the measured phase).
	Floor              string
	FloorNotifications int
	// RawServer is where the peer ramp's raw fasthttp server runs
	// (RawAuto, RawChild, RawInProcess, RawOff; "" = RawAuto).
	RawServer string

	StartLocal StartLocalFunc
	Version    string    // herald's version string, for the report
	Progress   io.Writer // live progress line (nil = none)
	Log        io.Writer // messages about the run (nil = none)
}

// runEnv is what a scenario works with.
type runEnv struct {
	sc   Scenario
	api  *API
	sims Sims
	run  string
	rep  *Report
	prog *progress
	tl   *Timeline
	log  io.Writer

	cpuProfile, memProfile string
	cpuFile                *os.File
	measuring              bool

	// The local daemon (nil with --target), its effective config, and
	// what the floor needs.
	loc         *Local
	cfg         configs.Config
	floor       string
	floorN      int
	writeSimCfg WriteSimConfigFunc
	pw          *procWatch
	selfCPU0    procCPU // the harness's own CPU when pw started
	// skipProc keeps the process measurement off: the crash scenario
	// kills the daemon, so no one process spans its measured phase.
	skipProc bool
	// What the peer ramp's raw server needs.
	rawMode string
	herald  string
}

func (e *runEnv) logf(format string, args ...any) {
	if e.log != nil {
		fmt.Fprintf(e.log, format+"\n", args...)
	}
}

// Run runs one scenario and returns its report. The report is returned
// (with Error set and Passed false) also when the run fails part way.
func Run(ctx context.Context, o Options) (*Report, error) {
	sc := o.Scenario
	rep := &Report{Schema: ReportSchemaID, Scenario: sc.Name, Description: sc.Description, StartedAt: time.Now().UTC().Truncate(time.Millisecond),
		Herald: o.Version, Machine: ThisMachine(), Params: sc, Metrics: []Metric{}, Latencies: []LatencyReport{},
		Vendors: []VendorResult{}, Floor: []FloorResult{}, Failures: []string{}, Notes: []string{}, Timeline: TimelineReport{Series: []SeriesReport{}}}
	began := time.Now()
	err := run(ctx, o, rep)
	rep.WallSeconds = round3(time.Since(began).Seconds())
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Passed = err == nil && rep.Totals.Lost == 0 && len(rep.Failures) == 0
	return rep, err
}

func run(ctx context.Context, o Options, rep *Report) (err error) {
	sc := o.Scenario
	if err := sc.Validate(); err != nil {
		return err
	}
	var (
		api  *API
		sims Sims
	)
	var (
		loc *Local
		cfg configs.Config
	)
	if o.DaemonCPUProfile != "" && o.Target != "" {
		return errors.New("bench: --daemon-cpuprofile profiles the child daemon the harness starts itself, not --target")
	}
	if sc.Name == "crash" && o.Target != "" {
		return errors.New("bench: the crash scenario kills -9 and restarts the daemon: it needs the child daemon the harness starts itself, not --target")
	}
	if o.Target == "" {
		if o.Sim != "" {
			return errors.New("bench: --sim needs --target (without --target the harness starts its own daemon and simulators)")
		}
		mode := o.Daemon
		if mode == "" {
			mode = DaemonInProcess
			if (sc.Name == "fanout" || sc.Name == "memory" || sc.Name == "outage" || sc.Name == "overload" || sc.Name == "crash" || sc.Name == "soak" || sc.Ramp != "") &&
				o.Herald != "" && o.WriteSimConfig != nil {
				mode = DaemonChild
			}
		}
		if o.DaemonCPUProfile != "" && mode != DaemonChild {
			return fmt.Errorf("bench: --daemon-cpuprofile profiles the child daemon: it needs --daemon child, not %s (--cpuprofile profiles this process)", mode)
		}
		if sc.Name == "crash" && mode != DaemonChild {
			return fmt.Errorf("bench: the crash scenario kills -9 and restarts the daemon: it needs --daemon child (herald serve as its own process, run as `herald bench`), not %s", mode)
		}
		if cfg, err = sc.DaemonConfig(o.DaemonConfig); err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		switch mode {
		case DaemonChild:
			base, err := sc.daemonYAML(o.DaemonConfig)
			if err != nil {
				return err
			}
			if loc, err = childDaemon(o, base, dir); err != nil {
				return err
			}
			// The effective config: limits for the floor come from it.
			if c, err := configs.Load(filepath.Join(dir, "herald-bench.yaml")); err == nil {
				cfg = c
			}
		case DaemonInProcess:
			if o.StartLocal == nil {
				return errors.New("bench: no way to start a local daemon")
			}
			cfg.Listen, cfg.SimListen = "127.0.0.1:0", "127.0.0.1:0"
			cfg.DataDir = filepath.Join(dir, "data")
			if o.DataDir != "" {
				cfg.DataDir = o.DataDir
			}
			log, closeLog, err := daemonLogger(o, cfg.Log)
			if err != nil {
				return err
			}
			defer closeLog()
			if loc, err = o.StartLocal(cfg, log); err != nil {
				return fmt.Errorf("bench: starting the daemon: %w", err)
			}
		default:
			return fmt.Errorf("bench: --daemon %q: want %s or %s", mode, DaemonChild, DaemonInProcess)
		}
		defer func() {
			if err := loc.Stop(); err != nil && o.Log != nil {
				fmt.Fprintf(o.Log, "bench: stopping the daemon: %v\n", err)
			}
		}()
		sims = LocalSims{S: loc.Sims, Loc: loc.SimURL}
		if api, err = NewAPI(loc.URL, "", sc.Conns); err != nil {
			return err
		}
		rep.Target = Target{Mode: "local", URL: loc.URL, SimURL: loc.SimURL, Conns: sc.Conns, Daemon: mode}
	} else {
		if o.Sim == "" {
			return errors.New("bench: --target needs --sim: notifications are counted at the simulators")
		}
		if api, err = NewAPI(o.Target, o.Key, sc.Conns); err != nil {
			return err
		}
		if sims, err = NewRemoteSims(o.Sim, o.SimCA); err != nil {
			return err
		}
		rep.Target = Target{Mode: "external", URL: api.URL(), SimURL: sims.URL(), Conns: sc.Conns, Daemon: "external"}
	}
	defer api.Close()
	if err := waitReady(ctx, api); err != nil {
		return err
	}
	if _, err := sims.Stats(ctx); err != nil {
		return err
	}
	e := &runEnv{sc: sc, api: api, sims: sims, run: newRunID(), rep: rep, tl: NewTimeline(time.Now()), log: o.Log,
		cpuProfile: o.CPUProfile, memProfile: o.MemProfile, loc: loc, cfg: cfg, floorN: o.FloorNotifications, writeSimCfg: o.WriteSimConfig,
		rawMode: o.RawServer, herald: o.Herald}
	if e.floor, err = floorMode(o.Floor, sc, loc); err != nil {
		return err
	}
	e.prog = startProgress(o.Progress, sc.Name)
	defer e.prog.stop()
	defer func() {
		if perr := e.endMeasure(); perr != nil && err == nil {
			err = perr
		}
	}()
	switch sc.Name {
	case "fanout":
		err = runFanout(ctx, e)
	case "peer":
		err = runPeer(ctx, e)
	case "calls":
		err = runCalls(ctx, e)
	case "mixed":
		err = runMixed(ctx, e)
	case "memory":
		err = runMemory(ctx, e)
	case "outage":
		err = runOutage(ctx, e)
	case "overload":
		err = runOverload(ctx, e)
	case "crash":
		err = runCrash(ctx, e)
	case "soak":
		err = runSoak(ctx, e)
	default:
		err = fmt.Errorf("bench: unknown scenario %q", sc.Name)
	}
	return err
}

func daemonLogger(o Options, lc configs.Log) (*slog.Logger, func(), error) {
	if o.DaemonLog == "" {
		w := io.Discard
		if o.Log != nil {
			w = o.Log
		}
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelError})), func() {}, nil
	}
	f, err := os.Create(o.DaemonLog)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: --daemon-log: %w", err)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(lc.Level))
	return slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: level})), func() { f.Close() }, nil
}

func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// waitReady polls GET /readyz for up to 30 s.
func waitReady(ctx context.Context, api *API) error {
	return waitReadyEvery(ctx, api, 30*time.Second, 100*time.Millisecond)
}

// waitReadyEvery polls GET /readyz every poll for up to timeout.
func waitReadyEvery(ctx context.Context, api *API, timeout, poll time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := api.Ready(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: herald is not ready: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// heraldVendor is one vendor's line of GET /v1/stats.
type heraldVendor struct {
	Sent    int64 `json:"sent"`
	Failed  int64 `json:"failed"`
	Retried int64 `json:"retried"`
	Dead    int64 `json:"dead"`
	// Breaker is the vendor's circuit breaker (closed, open, half_open;
	// "" = not reported) and BreakerOpened the times it opened.
	Breaker       string `json:"breaker"`
	BreakerOpened int64  `json:"breaker_opened"`
}

// heraldStats reads GET /v1/stats (nil when unavailable).
func (e *runEnv) heraldStats() map[string]heraldVendor {
	var out struct {
		Vendors map[string]heraldVendor `json:"vendors"`
	}
	if err := e.api.Do(context.Background(), true, "GET", "/v1/stats", nil, &out); err != nil {
		return nil
	}
	return out.Vendors
}

// waitHeraldSent waits (up to 5 s) until herald's own sent counters have
// grown by want since base: the simulators count a notification before
// herald hears the answer, so without this a warm-up's last sends would
// leak into the measured phase's herald columns.
func (e *runEnv) waitHeraldSent(base map[string]heraldVendor, want int64) {
	if base == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var sent int64
		for _, v := range diffHerald(e.heraldStats(), base) {
			sent += v.Sent
		}
		if sent >= want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func diffHerald(after, before map[string]heraldVendor) map[string]heraldVendor {
	out := map[string]heraldVendor{}
	for k, a := range after {
		b := before[k]
		out[k] = heraldVendor{Sent: a.Sent - b.Sent, Failed: a.Failed - b.Failed, Retried: a.Retried - b.Retried, Dead: a.Dead - b.Dead,
			Breaker: a.Breaker, BreakerOpened: a.BreakerOpened - b.BreakerOpened}
	}
	return out
}

// message is a POST /v1/messages body.
type message struct {
	MessageID string         `json:"message_id"`
	From      string         `json:"from"`
	To        messageTo      `json:"to"`
	Body      map[string]any `json:"body,omitempty"`
	Push      *messagePush   `json:"push,omitempty"`
}

type messageTo struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type messagePush struct {
	Title   string `json:"title"`
	Content string `json:"content"`
}

// sendMessage posts a message with a push and returns the answer.
func (e *runEnv) sendMessage(id, from, toType, to string) (MessageAnswer, error) {
	return postMessage(e.api, id, from, toType, to)
}

// postMessage posts a message with a push through api (herald's, or the
// raw server's for the ramp's baseline: the same request either way).
func postMessage(api *API, id, from, toType, to string) (MessageAnswer, error) {
	ans, _, _, err := postMessageStatus(api, id, from, toType, to)
	return ans, err
}

// postMessageStatus is postMessage that also returns the HTTP status of
// an error answer (0 = none) and whether it had a Retry-After header.
func postMessageStatus(api *API, id, from, toType, to string) (MessageAnswer, int, bool, error) {
	body, err := json.Marshal(map[string]string{"text": "herald bench " + id})
	if err != nil {
		return MessageAnswer{}, 0, false, err
	}
	ans, err := api.SendMessage(context.Background(), client.MessageRequest{MessageID: id, From: from, To: &client.MessageTo{Type: toType, ID: to},
		Body: body, Push: &client.MessagePush{Title: "herald bench", Content: "message " + id}})
	var ae *client.Error
	retryAfter := errors.As(err, &ae) && ae.RetryAfter > 0
	return ans, client.StatusCode(err), retryAfter, err
}

// waitCounted polls the simulators until the unique notifications since
// base reach want, or timeout passes. It feeds the progress line and, when
// series >= 0, counts new unique notifications into that timeline series.
// It returns the last stats and when the count was reached (zero time on
// timeout).
func (e *runEnv) waitCounted(ctx context.Context, base map[string]simkit.Stats, want int64, timeout time.Duration, series int) (map[string]simkit.Stats, time.Time, error) {
	deadline := time.Now().Add(timeout)
	prev := e.prog.counted.Load()
	poll := 20 * time.Millisecond
	if _, remote := e.sims.(*RemoteSims); remote {
		poll = 100 * time.Millisecond
	}
	for {
		st, err := e.sims.Stats(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		now := time.Now()
		got := sumStats(diffStats(st, base)).Unique
		e.prog.counted.Store(got)
		if series >= 0 && got > prev {
			e.tl.Add(series, now, got-prev)
		}
		prev = got
		if got >= want {
			return st, now, nil
		}
		if now.After(deadline) {
			return st, time.Time{}, nil
		}
		select {
		case <-ctx.Done():
			return st, time.Time{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// baseline takes the simulators' and herald's counters before a measured
// phase; without receipts it also opens the polled throughput series.
func (e *runEnv) baseline(ctx context.Context, receipts bool) (map[string]simkit.Stats, map[string]heraldVendor, int, error) {
	base, err := e.sims.Stats(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	pollSeries := -1
	if !receipts {
		pollSeries = e.tl.Series("notifications_counted", "notifications/s")
	}
	return base, e.heraldStats(), pollSeries, nil
}

// awaitCounted waits until the simulators counted want notifications beyond base
// (noting a timeout in the report), ends the daemon's process measurement
// there, then lets late duplicates settle. done is when the last expected
// notification was counted (now, on a timeout).
func (e *runEnv) awaitCounted(ctx context.Context, base map[string]simkit.Stats, want int64, series int) (time.Time, map[string]simkit.Stats, error) {
	done, err := e.countedOrTimeout(ctx, base, want, series)
	if err != nil {
		return time.Time{}, nil, err
	}
	e.stopProc()
	final, err := e.settle(ctx)
	return done, final, err
}

// countedOrTimeout waits the scenario's timeout until the simulators
// counted want notifications beyond base and returns when the last was
// counted; on a timeout it notes it in the report and returns now.
func (e *runEnv) countedOrTimeout(ctx context.Context, base map[string]simkit.Stats, want int64, series int) (time.Time, error) {
	_, done, err := e.waitCounted(ctx, base, want, e.sc.Timeout.Std(), series)
	if err != nil {
		return time.Time{}, err
	}
	if done.IsZero() {
		e.rep.note("timed out after %s waiting for the simulators to count all %d notifications", e.sc.Timeout, want)
		done = time.Now()
	}
	return done, nil
}

// settle waits the scenario's settle time for late duplicates and returns
// the final stats.
func (e *runEnv) settle(ctx context.Context) (map[string]simkit.Stats, error) {
	e.prog.phase("settle")
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(e.sc.Settle.Std()):
	}
	return e.sims.Stats(ctx)
}

// watch installs the tracker's receipt hook; without receipts it notes what
// cannot be measured and returns a no-op stop.
func (e *runEnv) watch(tr *tracker, without string) (stop func(), ok bool, err error) {
	stop, err = e.sims.Watch(tr.onReceipt)
	if errors.Is(err, ErrNoReceipts) {
		e.rep.note("the simulators at %s do not serve GET /sim/receipts: %s", e.sims.URL(), without)
		return func() {}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return stop, true, nil
}

// watchBaseline is watch then baseline, for a run that counts at the
// simulators from here on: the caller defers stop (a no-op without
// receipts). If the baseline fails, the hook is already stopped.
func (e *runEnv) watchBaseline(ctx context.Context, tr *tracker, without string) (stop func(), receipts bool,
	base map[string]simkit.Stats, heraldBase map[string]heraldVendor, pollSeries int, err error) {
	stop, receipts, err = e.watch(tr, without)
	if err != nil {
		return nil, false, nil, nil, 0, err
	}
	base, heraldBase, pollSeries, err = e.baseline(ctx, receipts)
	if err != nil {
		stop()
		return nil, false, nil, nil, 0, err
	}
	return stop, receipts, base, heraldBase, pollSeries, nil
}

// finish fills the totals, the timeline and the lost/duplicates notes.
func (e *runEnv) finish(final, base map[string]simkit.Stats, expected map[string]int64, heraldBase map[string]heraldVendor, end time.Time) {
	if err := e.endMeasure(); err != nil {
		e.rep.note("profiles: %v", err)
	}
	e.rep.fillTotals(diffStats(final, base), expected, diffHerald(e.heraldStats(), heraldBase))
	e.rep.Process.perNotification(e.rep.Totals.Unique)
	e.rep.Timeline = e.tl.Rates(end, 200)
	t := e.rep.Totals
	if t.Lost > 0 {
		e.rep.note("LOST %d of %d notifications: they never reached the simulators", t.Lost, t.Expected)
	}
	if t.Duplicates > 0 {
		e.rep.note("%d duplicate notifications (at-least-once delivery re-sent them)", t.Duplicates)
	}
	if t.Rejected > 0 {
		e.rep.note("the simulators rejected %d notifications (limits, quotas or bad requests)", t.Rejected)
	}
}

// loadNotes reports a load's failures.
func (e *runEnv) loadNotes(r *LoadResult) {
	if r.Errors > 0 {
		e.rep.note("%s: %d of %d requests failed, e.g. %s", r.Name, r.Errors, r.Sent, strings.Join(r.FirstErrs, " | "))
	}
}
