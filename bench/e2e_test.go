package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/bench"
	"github.com/herald-push/herald/daemon"
	"github.com/herald-push/herald/daemon/simhost"
	"github.com/herald-push/herald/internal/testutil"
)

// scenario loads a built-in scenario, shrunk for tests. The timeout is a
// bound on waiting, not an assertion on speed.
func scenario(t *testing.T, name string) bench.Scenario {
	t.Helper()
	sc, err := bench.LoadScenario(name, "")
	if err != nil {
		t.Fatal(err)
	}
	sc.Timeout = bench.Duration(5 * time.Minute)
	sc.Settle = bench.Duration(200 * time.Millisecond)
	return sc
}

func checkClean(t *testing.T, rep *bench.Report) {
	t.Helper()
	tt := rep.Totals
	if !rep.Passed || rep.Error != "" || tt.Lost != 0 || tt.Duplicates != 0 || tt.Unique != tt.Expected || tt.Expected == 0 {
		t.Fatalf("passed %v error %q totals %+v notes %q", rep.Passed, rep.Error, tt, rep.Notes)
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.ValidateReport(b); err != nil {
		t.Fatalf("report does not validate: %v", err)
	}
	if rep.Machine.Cores < 1 || rep.Machine.GoVersion == "" || rep.Machine.CPUModel == "" || rep.Machine.GOMAXPROCS < 1 {
		t.Fatalf("machine: %+v", rep.Machine)
	}
}

func latency(t *testing.T, rep *bench.Report, name string) bench.LatencyReport {
	t.Helper()
	for _, l := range rep.Latencies {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no %s latency in %+v", name, rep.Latencies)
	return bench.LatencyReport{}
}

// TestFanoutCommand runs `herald bench --scenario fanout` for 2000 users
// through the command line, with the daemon in this process: nothing lost,
// nothing duplicated, a JSON report that validates and an HTML report with
// both plots.
func TestFanoutCommand(t *testing.T) {
	testutil.SkipShort(t, "TestFanoutCommand runs a 2 000-user fan-out scenario")
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	var out, errOut bytes.Buffer
	code := bench.Main([]string{"--scenario", "fanout", "--users", "2000", "--warmup-users", "200",
		"--shares", "apns=3,fcm=2,web=1,huawei=2,xiaomi=2,oppo=1,vivo=1", "--settle", "200ms",
		"--json", jsonPath, "--html", htmlPath, "--quiet"},
		bench.Env{Stdout: &out, Stderr: &errOut, StartLocal: daemon.StartBench, Version: "herald test"})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.ValidateReport(b); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	checkClean(t, &rep)
	if rep.Totals.Expected != 2000 || rep.Setup.Devices != 2200 || len(rep.Vendors) != 7 {
		t.Fatalf("totals %+v setup %+v vendors %d", rep.Totals, rep.Setup, len(rep.Vendors))
	}
	for _, v := range rep.Vendors {
		if v.Expected == 0 || v.Unique != v.Expected {
			t.Errorf("vendor %+v", v)
		}
	}
	if l := latency(t, &rep, "delivery"); l.Count != 2000 || len(l.Percentiles) == 0 {
		t.Fatalf("delivery latency: %+v", l)
	}
	if _, ok := rep.Metric("notifications_per_second"); !ok {
		t.Fatal("no notifications_per_second")
	}
	if len(rep.Timeline.Series) == 0 || len(rep.Timeline.Series[0].Values) == 0 {
		t.Fatalf("timeline: %+v", rep.Timeline)
	}
	for _, want := range []string{"notifications_per_second", "lost", "delivery", "AMD", "PASS"} {
		if want == "AMD" {
			want = rep.Machine.CPUModel
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	for _, want := range []string{`<svg id="throughput"`, `<svg id="latency"`, "<polyline", "PASS"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Count(h, "<polyline") < 2 {
		t.Error("HTML: want a line in each plot")
	}
	for _, banned := range []string{"<script", "src=", "href=", "@import"} {
		if strings.Contains(h, banned) {
			t.Errorf("HTML is not self-contained: has %q", banned)
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func run(t *testing.T, o bench.Options) *bench.Report {
	t.Helper()
	if o.StartLocal == nil && o.Target == "" {
		o.StartLocal = daemon.StartBench
	}
	o.Version = "herald test"
	rep, err := bench.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("run: %v (notes %q)", err, rep.Notes)
	}
	return rep
}

// TestPeerTiny: an open-loop peer run with a warm-up; both latencies are
// measured, only on the measured phase's messages.
func TestPeerTiny(t *testing.T) {
	testutil.SkipShort(t, "TestPeerTiny runs a peer scenario for seconds")
	sc := scenario(t, "peer")
	sc.Users, sc.DevicesPerUser, sc.Conns = 100, 2, 8
	sc.Rate, sc.Warmup, sc.Duration = 100, bench.Duration(200*time.Millisecond), bench.Duration(time.Second)
	rep := run(t, bench.Options{Scenario: sc})
	checkClean(t, rep)
	acc, i2s := latency(t, rep, "accept"), latency(t, rep, "ingress_to_simulator")
	if acc.Count != 100 {
		t.Fatalf("accept latency counts the 100 messages scheduled in the measured second, got %d", acc.Count)
	}
	if i2s.Count != 2*acc.Count {
		t.Fatalf("ingress_to_simulator: %d notifications for %d messages of 2 devices", i2s.Count, acc.Count)
	}
	if rep.Totals.Expected != 2*120 {
		t.Fatalf("expected %d, want 240 (warm-up messages are owed too)", rep.Totals.Expected)
	}
}

// TestExternalTarget drives a daemon through --target/--sim as an external
// deployment: counting goes over GET /sim/stats with the simulators' CA.
func TestExternalTarget(t *testing.T) {
	testutil.SkipShort(t, "TestExternalTarget runs a scenario against a daemon")
	sc := scenario(t, "fanout")
	cfg, err := sc.DaemonConfig("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.SimListen, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	loc, err := daemon.StartBench(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer loc.Stop()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := loc.Sims.CA.WriteFile(ca); err != nil {
		t.Fatal(err)
	}
	sc.Users, sc.WarmupUsers = 300, 50
	rep := run(t, bench.Options{Scenario: sc, Target: loc.URL, Sim: loc.SimURL, SimCA: ca})
	checkClean(t, rep)
	if rep.Target.Mode != "external" || rep.Totals.Expected != 300 {
		t.Fatalf("target %+v totals %+v", rep.Target, rep.Totals)
	}
}

// TestMixedTiny: presence churn, peer and group traffic at once.
func TestMixedTiny(t *testing.T) {
	testutil.SkipShort(t, "TestMixedTiny runs a mixed scenario for seconds")
	sc := scenario(t, "mixed")
	sc.Users, sc.Groups, sc.GroupSize, sc.GroupRate = 200, 2, 50, 4
	sc.ChurnUsers, sc.ChurnRate, sc.ChurnBatch = 50, 10, 20
	sc.Rate, sc.Conns = 50, 8
	sc.Warmup, sc.Duration = bench.Duration(100*time.Millisecond), bench.Duration(time.Second)
	rep := run(t, bench.Options{Scenario: sc})
	checkClean(t, rep)
	for _, n := range []string{"peer_accept", "group_accept", "presence_accept", "peer_ingress_to_simulator", "group_ingress_to_simulator"} {
		if l := latency(t, rep, n); l.Count == 0 {
			t.Errorf("%s: nothing measured", n)
		}
	}
}

// TestCallsTiny: the calls scenario runs its fan-out, and says so when
// herald has no calls API.
func TestCallsTiny(t *testing.T) {
	testutil.SkipShort(t, "TestCallsTiny runs a calls scenario")
	sc := scenario(t, "calls")
	sc.Users, sc.WarmupUsers, sc.CallRate, sc.Duration = 300, 0, 20, bench.Duration(500*time.Millisecond)
	rep := run(t, bench.Options{Scenario: sc})
	checkClean(t, rep)
	noAPI := false
	for _, n := range rep.Notes {
		noAPI = noAPI || strings.Contains(n, "calls API not available")
	}
	hasRing := false
	for _, l := range rep.Latencies {
		hasRing = hasRing || l.Name == "ring"
	}
	if noAPI == hasRing {
		t.Fatalf("either the calls API is missing (and said so) or ring latency is measured: notes %q latencies %d", rep.Notes, len(rep.Latencies))
	}
	if hasRing {
		calls, _ := rep.Metric("calls")
		rung, _ := rep.Metric("calls_rung")
		if calls != 10 || rung != 10 || latency(t, rep, "ring").Count != 10 {
			t.Fatalf("calls %v rung %v", calls, rung)
		}
		if rep.Totals.Expected != 300+10 {
			t.Fatalf("expected %d: the fan-out's 300 and one push per invitee", rep.Totals.Expected)
		}
	}
}

// TestLossFailsTheRun: notifications that never reach the simulators make
// the run fail (exit 1, passed false, a LOST note). Herald is given a vivo
// daily quota of 1, so all but one of the vivo pushes wait for tomorrow.
func TestLossFailsTheRun(t *testing.T) {
	testutil.SkipShort(t, "TestLossFailsTheRun runs a scenario")
	dir := t.TempDir()
	cfgPath, jsonPath := filepath.Join(dir, "herald.yaml"), filepath.Join(dir, "r.json")
	if err := os.WriteFile(cfgPath, []byte("log: {level: error}\nvendors:\n  vivo: {limits: {daily_quota: 1}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := bench.Main([]string{"--scenario", "fanout", "--users", "20", "--warmup-users", "0", "--shares", "vivo=1",
		"--timeout", "1s", "--settle", "0s", "--config", cfgPath, "--json", jsonPath, "--quiet"},
		bench.Env{Stdout: &out, Stderr: &errOut, StartLocal: daemon.StartBench, Version: "herald test"})
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.ValidateReport(b); err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Totals.Lost < 19 || rep.Totals.Expected != 20 {
		t.Fatalf("passed %v totals %+v", rep.Passed, rep.Totals)
	}
	if !strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "LOST") {
		t.Fatalf("table:\n%s", out.String())
	}
}

var heraldBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the herald binary built for the child-daemon tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if heraldBin.dir != "" {
		os.RemoveAll(heraldBin.dir)
	}
	os.Exit(code)
}

// heraldBinary builds the herald command (with -race, as the daemon's
// end-to-end tests do) once per test binary, for the child-daemon mode.
func heraldBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("building herald for the child-daemon tests needs the go command: %v", err)
	}
	heraldBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bench-bin")
		if err != nil {
			heraldBin.err = err
			return
		}
		heraldBin.dir, heraldBin.path = dir, filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-race", "-o", heraldBin.path, "github.com/herald-push/herald").CombinedOutput()
		if err != nil {
			heraldBin.err = errors.New(string(out))
		}
	})
	if heraldBin.err != nil {
		t.Fatalf("building herald: %v", heraldBin.err)
	}
	return heraldBin.path
}

func floorOf(t *testing.T, rep *bench.Report, vendor, client string) bench.FloorResult {
	t.Helper()
	for _, f := range rep.Floor {
		if f.Vendor == vendor && f.Client == client {
			return f
		}
	}
	t.Fatalf("no %s/%s floor in %+v", vendor, client, rep.Floor)
	return bench.FloorResult{}
}

// checkFloor: the floor's notifications all reached the simulator, and
// herald's rate and the ratio are there.
func checkFloor(t *testing.T, f bench.FloorResult, sent int64) {
	t.Helper()
	if f.Sent != sent || f.Accepted != sent || f.Errors != 0 || f.PerSecond <= 0 || f.HeraldPerSecond <= 0 || f.Ratio <= 0 {
		t.Fatalf("floor %+v, want %d sent and accepted and a positive ratio", f, sent)
	}
}

// runChild runs the command as `herald bench` does (the daemon in a child
// process) with args plus a JSON and an HTML report in a temp
// dir; it fails the test unless the run exits 0 with a clean report, and
// returns the report, the table printed and the HTML report's path.
func runChild(t *testing.T, args ...string) (*bench.Report, *bytes.Buffer, string) {
	t.Helper()
	rep, out, htmlPath := runChildReport(t, args...)
	checkClean(t, rep)
	return rep, out, htmlPath
}

// runChildReport is runChild for a run that may have duplicates (the
// crash scenario): it fails the test unless the run exits 0 (passed) and
// its JSON report validates.
func runChildReport(t *testing.T, args ...string) (*bench.Report, *bytes.Buffer, string) {
	t.Helper()
	bin := heraldBinary(t)
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	var out, errOut bytes.Buffer
	code := bench.Main(append(args, "--json", jsonPath, "--html", htmlPath, "--quiet"),
		bench.Env{Stdout: &out, Stderr: &errOut, StartLocal: daemon.StartBench, Version: "herald test",
			Herald: bin, WriteSimConfig: simhost.WriteConfig})
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.ValidateReport(b); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, &out, htmlPath
}

// TestFanoutChildDaemonFloor runs the command as `herald bench` does
// (child daemon, floor by default for one vendor kind) for 1500 FCM users:
// both FCM floors measured with a positive ratio, herald's own loss
// accounting untouched by them, the child daemon's CPU and RSS, and its
// own CPU profile (--daemon-cpuprofile) written when it shut down.
func TestFanoutChildDaemonFloor(t *testing.T) {
	testutil.SkipShort(t, "TestFanoutChildDaemonFloor builds herald and runs it as a child")
	profile := filepath.Join(t.TempDir(), "daemon.cpu")
	rep, out, htmlPath := runChild(t, "--scenario", "fanout", "--users", "1500", "--warmup-users", "100", "--shares", "fcm=1",
		"--settle", "100ms", "--daemon-cpuprofile", profile)
	if b, err := os.ReadFile(profile); err != nil || len(b) < 100 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("the daemon's CPU profile (gzipped pprof): %d bytes, %v", len(b), err)
	}
	if rep.Target.Daemon != bench.DaemonChild || rep.Totals.Expected != 1500 {
		t.Fatalf("target %+v totals %+v", rep.Target, rep.Totals)
	}
	checkFloor(t, floorOf(t, rep, "fcm", bench.FloorHTTP2), 1500)
	checkFloor(t, floorOf(t, rep, "fcm", bench.FloorFirebaseSDK), 1500)
	for _, v := range rep.Vendors {
		if v.Vendor == "fcm" && (v.PerSecond <= 0 || v.FloorRatio <= 0 || v.Unique != 1500) {
			t.Fatalf("fcm vendor row %+v", v)
		}
	}
	p := rep.Process
	if p == nil || p.Scope != "daemon" || p.PID <= 0 || p.PID == os.Getpid() || p.Notifications != 1500 ||
		p.CPUSeconds <= 0 || p.CPUMicrosPerNotification <= 0 || p.PeakRSSBytes <= 0 || p.SampledPeakRSSBytes <= 0 || len(p.RSSSamples) == 0 {
		t.Fatalf("process %+v", p)
	}
	for _, want := range []string{"herald/floor", "firebase-admin-sdk", "µs per notification", "daemon child"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="floor"`, `<svg id="rss"`, "herald/floor"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestFanoutFloorBatchVendors: the in-process daemon with the floor
// before the measured phase for the four batch vendors (vivo's two
// requests per batch, OPPO's per-token ids), 1500 notifications each: a
// full batch of 1000 and a short one of 500.
func TestFanoutFloorBatchVendors(t *testing.T) {
	testutil.SkipShort(t, "TestFanoutFloorBatchVendors runs a fan-out scenario with the floor")
	sc := scenario(t, "fanout")
	sc.Users, sc.WarmupUsers = 400, 40
	sc.VendorShares = map[string]float64{"huawei": 1, "xiaomi": 1, "oppo": 1, "vivo": 1}
	rep := run(t, bench.Options{Scenario: sc, Daemon: bench.DaemonInProcess, Floor: bench.FloorBefore, FloorNotifications: 1500,
		WriteSimConfig: simhost.WriteConfig})
	checkClean(t, rep)
	if rep.Totals.Expected != 400 {
		t.Fatalf("the floor must not count for herald: totals %+v", rep.Totals)
	}
	for _, v := range []string{"huawei", "xiaomi", "oppo", "vivo"} {
		f := floorOf(t, rep, v, bench.FloorHTTP2)
		checkFloor(t, f, 1500)
		if f.BatchSize != 1000 || f.Concurrency != 16 {
			t.Errorf("%s floor: batch %d in flight %d, want the scenario's 1000 and 16", v, f.BatchSize, f.Concurrency)
		}
	}
	if p := rep.Process; p == nil || p.Scope != "whole_process" || p.PID != os.Getpid() || p.Notifications != 400 {
		t.Fatalf("process %+v", p)
	}
}

// checkRampTarget: a ramp target ran every step of rates with the load
// the schedule owes (rate × (step warm-up + step), all answered), and its
// knee follows from its steps' verdicts.
func checkRampTarget(t *testing.T, tg *bench.RampTarget, rates []float64, stepSecs float64, maxP99 float64) {
	t.Helper()
	if tg == nil {
		t.Fatal("ramp target missing")
	}
	if len(tg.Steps) != len(rates) {
		t.Fatalf("%s: %d steps, want %d (%+v)", tg.Name, len(tg.Steps), len(rates), tg.Steps)
	}
	knee := 0.0
	for i, s := range tg.Steps {
		if s.Offered != rates[i] || s.Sent != int64(rates[i]*stepSecs) || s.Errors != 0 || s.Accepted <= 0 {
			t.Fatalf("%s step %d: %+v, want offered %v and %v sent", tg.Name, i, s, rates[i], rates[i]*stepSecs)
		}
		within := s.AcceptedRatio >= bench.RampMinAccepted && s.AcceptP99MS <= maxP99
		if s.WithinKnee != within {
			t.Fatalf("%s step %d: within_knee %v for ratio %v p99 %v", tg.Name, i, s.WithinKnee, s.AcceptedRatio, s.AcceptP99MS)
		}
		if within {
			knee = s.Offered
		}
	}
	if tg.KneePerSecond != knee {
		t.Fatalf("%s: knee %v, want %v", tg.Name, tg.KneePerSecond, knee)
	}
}

// TestPeerRampTiny: a two-step ramp with the daemon and the raw server in
// this process: both targets run both steps with the scheduled load,
// every herald message's notifications are counted (warm-ups included),
// the knees follow from the steps and the ratio from the knees.
func TestPeerRampTiny(t *testing.T) {
	testutil.SkipShort(t, "TestPeerRampTiny runs a ramp scenario")
	sc := scenario(t, "peer")
	sc.Users, sc.Conns = 200, 8
	sc.Ramp = "50:100:x2"
	sc.StepWarmup, sc.StepDuration = bench.Duration(200*time.Millisecond), bench.Duration(600*time.Millisecond)
	rep := run(t, bench.Options{Scenario: sc})
	checkClean(t, rep)
	rr := rep.Ramp
	if rr == nil || rr.Spec != sc.Ramp || rr.StepSeconds != 0.6 || rr.MaxP99MS != 20 {
		t.Fatalf("ramp %+v", rr)
	}
	h, raw := rr.Target(bench.RampHerald), rr.Target(bench.RampRaw)
	checkRampTarget(t, h, []float64{50, 100}, 0.8, rr.MaxP99MS)
	checkRampTarget(t, raw, []float64{50, 100}, 0.8, rr.MaxP99MS)
	if rep.Totals.Expected != 40+80 {
		t.Fatalf("expected %d notifications, want 120 (every herald message of both steps, to offline users with one device)", rep.Totals.Expected)
	}
	if raw.Process != bench.RawInProcess || raw.PID != os.Getpid() || raw.CPUScope != "whole_process" || h.Process != bench.DaemonInProcess {
		t.Fatalf("herald %+v raw %+v", h, raw)
	}
	want := 0.0
	if raw.KneePerSecond > 0 {
		want = math.Round(h.KneePerSecond/raw.KneePerSecond*1000) / 1000
	}
	if rr.KneeRatio != want {
		t.Fatalf("knee ratio %v, want %v", rr.KneeRatio, want)
	}
	if p := rep.Process; p == nil || p.Messages != 120 {
		t.Fatalf("process: %+v, want the 120 herald messages", p)
	}
	for _, s := range h.Steps {
		if s.DeliveryP99MS <= 0 {
			t.Fatalf("herald step without ingress-to-simulator latency: %+v", s)
		}
	}
}

// TestPeerRampChild runs `herald bench --scenario peer --ramp` as the
// command does: the daemon and the raw server each in its own child
// process, their CPU per step their own; the report validates and the
// table and HTML show the ramp.
func TestPeerRampChild(t *testing.T) {
	testutil.SkipShort(t, "TestPeerRampChild runs herald and the raw server as children")
	rep, out, htmlPath := runChild(t, "--scenario", "peer", "--ramp", "50:50:x2", "--users", "100", "--conns", "8",
		"--step-warmup", "200ms", "--step-duration", "500ms", "--settle", "100ms")
	h, raw := rep.Ramp.Target(bench.RampHerald), rep.Ramp.Target(bench.RampRaw)
	checkRampTarget(t, h, []float64{50}, 0.7, rep.Ramp.MaxP99MS)
	checkRampTarget(t, raw, []float64{50}, 0.7, rep.Ramp.MaxP99MS)
	if h.Process != bench.DaemonChild || raw.Process != bench.RawChild || h.CPUScope != "process" || raw.CPUScope != "process" ||
		h.PID <= 0 || raw.PID <= 0 || h.PID == raw.PID || h.PID == os.Getpid() || raw.PID == os.Getpid() {
		t.Fatalf("herald %+v raw %+v (harness pid %d)", h, raw, os.Getpid())
	}
	if p := rep.Process; p == nil || p.Scope != "daemon" || p.PID != h.PID || p.Messages != 35 || p.CPUMicrosPerMessage <= 0 {
		t.Fatalf("process %+v", p)
	}
	for _, want := range []string{"knee ratio", "raw-fasthttp", "µs per accepted message"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<svg id="ramp-rate"`, `<svg id="ramp-p99"`, `id="ramp"`, `id="knee"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestMemoryScenario runs `herald bench --scenario memory` small (20 000
// users, 2 000 active, a fan-out to 2 000 others) with the child daemon:
// nothing lost, and the report has the daemon's RSS, heap and live user
// actors at the end of each phase, its peak and samples over time, in the
// JSON, the table and the HTML.
func TestMemoryScenario(t *testing.T) {
	testutil.SkipShort(t, "TestMemoryScenario runs a 20 000-user memory scenario in a child")
	rep, out, htmlPath := runChild(t, "--scenario", "memory", "--users", "20000", "--active-users", "2000", "--group-size", "2000",
		"--settle", "100ms")
	m := rep.Memory
	if rep.Target.Daemon != bench.DaemonChild || m == nil || m.Scope != "daemon" || m.PID <= 0 || m.PID == os.Getpid() ||
		m.Users != 20000 || m.ActiveUsers != 2000 || m.GroupSize != 2000 || rep.Totals.Expected != 2000 {
		t.Fatalf("target %+v memory %+v totals %+v", rep.Target, m, rep.Totals)
	}
	// VmHWM is updated lazily by the kernel, so a sampled VmRSS may be a
	// little above it: no order between the two is asserted.
	if m.Baseline.RSSBytes <= 0 || m.PeakRSSBytes <= 0 || m.SampledPeakRSSBytes <= 0 || len(m.Samples) == 0 {
		t.Fatalf("memory %+v", m)
	}
	prevEnd := 0.0
	for _, name := range []string{bench.PhaseRegistered, bench.PhaseActive, bench.PhaseFannedOut} {
		ph := m.Phase(name)
		if ph == nil {
			t.Fatalf("no %s phase in %+v", name, m.Phases)
		}
		if ph.RSSBytes <= 0 || ph.PeakRSSBytes < ph.RSSBytes || ph.HWMBytes <= 0 || ph.HeapInuseBytes <= 0 || ph.UserActorsActive < 0 ||
			ph.StartS != prevEnd || ph.EndS < ph.StartS {
			t.Fatalf("phase %+v (previous end %v)", ph, prevEnd)
		}
		prevEnd = ph.EndS
	}
	for _, n := range []string{"rss_registered_mib", "rss_active_mib", "rss_fanned_out_mib", "peak_rss_mib"} {
		if v, ok := rep.Metric(n); !ok || v <= 0 {
			t.Errorf("metric %s: %v %v", n, v, ok)
		}
	}
	for _, want := range []string{"fanned_out", "peak in phase MiB", "user actors"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<svg id="memory"`, `<svg id="actors"`, `id="memory-phases"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
