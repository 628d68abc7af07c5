package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon"
)

// Version is herald's release version.
const Version = "0.1.0-dev"

const usage = `herald — offline-push dispatcher daemon

Usage:
  herald serve [--config FILE] [--listen ADDR] [--data DIR] [--sim-listen ADDR]
  herald sim [--listen ADDR] [--out DIR] [--new-ca]
  herald push (--push-id VENDOR:TOKEN | --user-id ID) [--title T] [--content C]
              [--payload P] [--resources-id R] [--voip] [--server URL] [--key K] [--json]
  herald check-config FILE
  herald bench [--scenario fanout|peer|calls|mixed] [flags]   (herald bench --help)
  herald version

Without --config, serve runs on the built-in defaults (configs/herald.yaml):
API on 127.0.0.1:8080, Pebble data in ./herald-data, JSON logs on stderr. With
no vendor account configured it runs every vendor's simulator on --sim-listen
(default 127.0.0.1:8090) and sends there.

herald sim runs the simulators alone and writes DIR/herald-sim.yaml, a daemon
config pointing every vendor at them (default DIR: ./herald-sim). Their CA and
signing keys are kept in DIR across restarts; --new-ca replaces them.
herald push sends a test push through a running daemon (POST /v1/push/test).
`

// Main runs the herald command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCmd(args[1:], stderr)
	case "sim":
		return simCmd(args[1:], stderr)
	case "push":
		return pushCmd(args[1:], stdout, stderr)
	case "check-config":
		return checkConfigCmd(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "herald: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func versionString() string {
	s := fmt.Sprintf("herald %s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s += " commit " + kv.Value
			}
		}
	}
	return s
}

func checkConfigCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: herald check-config FILE")
		return 2
	}
	cfg, problems, err := configs.LoadPartial(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if reportProblems(stderr, args[0], append(problems, daemon.CheckConfig(cfg, daemon.Env{})...)) {
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration ok\n", args[0])
	return 0
}

// reportProblems writes one line per problem, "<source>: <key>: <what>",
// then how many there were; false when there were none.
func reportProblems(w io.Writer, source string, problems []configs.Problem) bool {
	for _, p := range problems {
		fmt.Fprintf(w, "%s: %s\n", source, p)
	}
	switch len(problems) {
	case 0:
		return false
	case 1:
		fmt.Fprintf(w, "%s: 1 problem\n", source)
	default:
		fmt.Fprintf(w, "%s: %d problems\n", source, len(problems))
	}
	return true
}

func serveCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (default: built-in defaults)")
	listen := fs.String("listen", "", "API listen address, overrides listen")
	data := fs.String("data", "", "data directory, overrides data_dir")
	simListen := fs.String("sim-listen", "", "vendor simulator address, overrides sim_listen")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the daemon's whole run to this file, complete once it has shut down (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	overrideFlags := func(cfg *configs.Config) {
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *data != "" {
			cfg.DataDir = *data
		}
		if *simListen != "" {
			cfg.SimListen = *simListen
		}
	}
	load := func() (configs.Config, error) {
		cfg := configs.Default()
		if *cfgPath != "" {
			var err error
			if cfg, err = configs.Load(*cfgPath); err != nil {
				return cfg, err
			}
		}
		overrideFlags(&cfg)
		return cfg, nil
	}
	// At start every problem is reported, as check-config does; a
	// reload (load alone) stops at the first the file has.
	cfg, problems, err := configs.Default(), []configs.Problem(nil), error(nil)
	source := "built-in defaults"
	if *cfgPath != "" {
		source = *cfgPath
		cfg, problems, err = configs.LoadPartial(*cfgPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	overrideFlags(&cfg)
	if reportProblems(stderr, source, append(problems, daemon.CheckConfig(cfg, daemon.Env{})...)) {
		fmt.Fprintln(stderr, "herald: not starting")
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	applyRuntime(cfg.Runtime, log)
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			log.Error("cannot start", "err", err)
			return 1
		}
		defer func() {
			if err := stopProfile(); err != nil {
				log.Error("--cpuprofile: writing the profile", "err", err)
			}
		}()
	}
	d, err := daemon.New(cfg, daemon.Env{Logger: log, LoadConfig: load, Version: Version})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			// A refused reload is logged once, by Reload itself, with
			// its reason; the running configuration stays.
			_, _ = d.Reload()
		}
	}()
	if *cfgPath == "" {
		log.Info("no --config given: running on built-in defaults")
	}
	if err := d.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("exiting on error", "err", err)
		return 1
	}
	return 0
}

// startCPUProfile starts profiling the process into path; the func it
// returns stops and closes the file.
func startCPUProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func newLogger(c configs.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func defaultLog() configs.Log { return configs.Default().Log }

// applyRuntime sets the Go runtime's memory policy for this process. Only
// serve calls it: the collector is the process's, not a Daemon's (tests run
// several daemons in one process).
func applyRuntime(r configs.Runtime, log *slog.Logger) {
	if r.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(r.MemoryLimit))
	}
	if r.GCPercent != 0 {
		debug.SetGCPercent(r.GCPercent)
	}
	if r.MemoryLimit > 0 || r.GCPercent != 0 {
		log.Info("go runtime memory policy", "gc_percent", r.GCPercent, "memory_limit", r.MemoryLimit.String())
	}
}
