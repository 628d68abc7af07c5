package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Env is what `herald bench` takes from the herald command.
type Env struct {
	Stdout, Stderr io.Writer
	// StartLocal starts a daemon in this process (see StartLocalFunc).
	StartLocal StartLocalFunc
	// Herald is the herald executable and WriteSimConfig writes a daemon
	// config for simulators: with both, the local daemon can run as a
	// child process (`herald serve`, --daemon child).
	Herald         string
	WriteSimConfig WriteSimConfigFunc
	// Version is herald's version string, recorded in every report.
	Version string
	// Progress, when set, gets the live progress line (the herald command
	// passes stderr when it is a terminal).
	Progress io.Writer
}

const usageHead = `herald bench — load harness: drives herald end to end and counts every
notification at the vendor simulators.

Usage:
  herald bench [--scenario NAME | --scenario-file FILE] [scenario flags]
               [--json FILE] [--html FILE] [--cpuprofile FILE] [--memprofile FILE]
               [--target URL --sim URL [--sim-ca FILE] [--key K]]

Scenarios (configs/bench/NAME.yaml, built in; flags override their keys):
  fanout  one group message to N offline users (default 100000): wall time
          from the 2xx to the last notification, notifications/s, lost, duplicates
  peer    peer messages to offline users at an open-loop rate: ingress
          throughput, accept and ingress-to-simulator latency p50/p99/p99.9
  calls   call invitations while a fan-out runs: ring latency (reports
          "calls API not available" when herald has no POST /v1/calls)
          (--ramp FROM:TO:xF: steps of rate to find the knee, herald's and a
          raw fasthttp server's answering the same POST without work)
  mixed   presence churn + peer + group traffic together
  memory  register --users (default 1000000), make --active-users active,
          fan out to --group-size: the daemon's RSS, heap and live user
          actors over time and per phase
  outage  a fan-out to --users (default 100000) while --outage-vendor's
          simulator is down for --outage (5m) from --outage-after: lost and
          dead letters (must be 0), duplicates, the requests the down vendor
          got against the circuit breaker's bound, breaker transitions
  overload peer messages at --rate, 10x what the vendors take: 503s with
          Retry-After, every 2xx delivered, the daemon's peak RSS
  crash   kill -9 the child daemon --kills (10) times at random moments
          (from --seed) of a fan-out to --users plus peer messages at
          --rate, restarting it on the same config and port: lost (must be
          0), duplicates per vendor, restart times, refused requests
  soak    the mixed traffic for --duration (30m): the daemon's RSS and
          goroutines every --sample-every must stay flat (last third's max
          within --rss-tolerance / --goroutine-tolerance of the first's)

Without --target the harness starts herald itself (the real serve code path
over loopback, a temporary Pebble directory) with its simulators: for fanout
(and memory, outage, overload, crash, soak, and peer with --ramp) as a
child process (herald serve, --daemon child; crash needs it) so that its
CPU and RSS are the daemon's alone, otherwise in this process (--daemon
inprocess). With
--target URL it drives that deployment and counts at --sim URL (herald sim,
or a daemon in simulator mode; --sim-ca is the CA that herald sim wrote,
--key an API key with the ingest scope, also read from HERALD_BENCH_KEY).

Exit status: 0 when nothing was lost and every check passed, 1 when anything
was lost, a check failed (dead letters, a bound) or the run failed, 2 for
bad usage.

Example: go run . bench --scenario fanout --users 100000 --json fanout.json --html fanout.html

Flags:
`

// Main runs `herald bench` and returns the exit code.
func Main(args []string, env Env) int {
	stderr := env.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	stdout := env.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	if len(args) > 0 && args[0] == RawServerCommand {
		return rawServerMain(args[1:], stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	name := fs.String("scenario", "fanout", "scenario: "+strings.Join(Scenarios, ", "))
	file := fs.String("scenario-file", "", "scenario file instead of the built-in configs/bench/NAME.yaml")
	var o Options
	fs.StringVar(&o.Target, "target", "", "herald API URL of an external deployment (default: start one in this process)")
	fs.StringVar(&o.Sim, "sim", "", "simulators URL (https://host:port) of the external deployment")
	fs.StringVar(&o.SimCA, "sim-ca", "", "CA certificate (PEM) of the external simulators, e.g. DIR/ca.pem from herald sim --out DIR")
	fs.StringVar(&o.Key, "key", os.Getenv("HERALD_BENCH_KEY"), "API key for --target (default $HERALD_BENCH_KEY)")
	fs.StringVar(&o.DaemonConfig, "config", "", "local daemon: herald config file replacing the scenario's daemon section")
	fs.StringVar(&o.DaemonLog, "daemon-log", "", "local daemon: write its logs (JSON) to this file")
	fs.StringVar(&o.DaemonCPUProfile, "daemon-cpuprofile", "", "child daemon: write its CPU profile (its whole life: setup included; the last life after kills) to FILE, complete when it has shut down")
	fs.StringVar(&o.DataDir, "data", "", "local daemon: Pebble directory (default: a temporary one, removed afterwards)")
	fs.StringVar(&o.Daemon, "daemon", "", "local daemon: child (herald serve as its own process, the simulators in the harness) or inprocess (default: child for fanout, else inprocess)")
	fs.StringVar(&o.Floor, "floor", FloorAuto, "fanout: measure the floor (herald's vendor requests sent straight to the simulators by a minimal client): auto (before, when --shares names one vendor), off, before or after herald's measured phase")
	fs.StringVar(&o.RawServer, "raw-server", RawAuto, "peer --ramp: where the raw fasthttp server (the baseline: a fixed 202, no work) runs: auto (a child process when herald is one, else in-process), child, inprocess or off")
	fs.IntVar(&o.FloorNotifications, "floor-notifications", 0, "notifications per vendor kind the floor sends (0 = as many as herald sends to that kind)")
	jsonOut := fs.String("json", "", "write the JSON report (schema: bench/report.schema.json) to FILE")
	htmlOut := fs.String("html", "", "write the self-contained HTML report to FILE")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured phase to FILE (the whole process: herald and load generator)")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write the allocs profile at the end to FILE and at the start of the measured phase to FILE.base")
	quiet := fs.Bool("quiet", false, "no progress line")
	raw := map[string]string{}
	var setterNames []string
	for n := range flagSetters {
		setterNames = append(setterNames, n)
	}
	sort.Strings(setterNames)
	for _, n := range setterNames {
		fs.Func(n, flagHelp[n]+" (overrides the scenario file)", func(v string) error {
			if err := flagSetters[n](&Scenario{}, v); err != nil {
				return err
			}
			raw[n] = v
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	sc, err := LoadScenario(*name, *file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	for _, n := range setterNames {
		if v, ok := raw[n]; ok {
			_ = flagSetters[n](&sc, v)
		}
	}
	if err := sc.Validate(); err != nil {
		fmt.Fprintf(stderr, "herald bench: invalid scenario %s:\n%v\n", sc.Name, err)
		return 2
	}
	o.Scenario = sc
	o.StartLocal = env.StartLocal
	o.Herald, o.WriteSimConfig = env.Herald, env.WriteSimConfig
	o.Version = env.Version
	o.Log = stderr
	if !*quiet {
		o.Progress = env.Progress
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rep, runErr := Run(ctx, o)
	code := 0
	if runErr != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", runErr)
		code = 1
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
	}
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut); err != nil {
			fmt.Fprintf(stderr, "herald bench: --json: %v\n", err)
			code = 1
		}
	}
	if *htmlOut != "" {
		if err := rep.WriteHTMLFile(*htmlOut); err != nil {
			fmt.Fprintf(stderr, "herald bench: --html: %v\n", err)
			code = 1
		}
	}
	if !rep.Passed {
		code = 1
	}
	return code
}
