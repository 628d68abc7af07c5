package bench_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/bench"
	"github.com/herald-push/herald/internal/testutil"
)

// TestOutageScenario: a 2 000-user fan-out while APNs is down for 3 s,
// from the group message's 2xx on: the simulator refused requests, the
// breaker opened, every notification arrived (the APNs ones after the
// outage), nothing was dead-lettered, the requests stayed within what the
// breaker allows, and the report validates.
func TestOutageScenario(t *testing.T) {
	testutil.SkipShort(t, "TestOutageScenario runs a fan-out through a 3 s outage")
	sc := scenario(t, "outage")
	sc.Users, sc.WarmupUsers = 2000, 200
	sc.VendorShares = map[string]float64{"apns": 2, "fcm": 1, "huawei": 1}
	sc.OutageVendor, sc.OutageAfter, sc.Outage = "apns", 0, bench.Duration(3*time.Second)
	// Small APNs batches and few in flight: with the defaults (batches of
	// 100 per-target requests, 500 in flight) the requests already in
	// flight when APNs went down end, failed, 2-3 s later under -race, so
	// the breaker may open only after the outage; 20 × 20 lets it open
	// within the outage on any machine, which the test asserts.
	cfgPath := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfgPath, []byte("log: {level: error}\nvendors:\n  apns: {limits: {max_in_flight: 20, batch_size: 20}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := run(t, bench.Options{Scenario: sc, DaemonConfig: cfgPath})
	checkClean(t, rep)
	o := rep.Outage
	if o == nil {
		t.Fatal("no outage section")
	}
	t.Logf("outage %+v", *o)
	if o.Expected != 1000 || o.DeliveredAfter == 0 || o.DeliveredBefore+o.DeliveredDuring+o.DeliveredAfter != o.Expected {
		t.Fatalf("apns notifications: %+v, want 1000 with some delivered after the outage", o)
	}
	if o.Requests == 0 || !o.WithinBound || o.BreakerOpened < 1 {
		t.Fatalf("requests %d (bound %d), breaker opened %d: want refused requests within the bound and the breaker open", o.Requests, o.RequestBound, o.BreakerOpened)
	}
	opened := false
	for _, tr := range o.Transitions {
		opened = opened || tr.Vendor == "apns" && tr.To == "open" && tr.Seconds < o.EndS
	}
	if !opened {
		t.Errorf("no apns → open transition during the outage (it ended at %.2fs): %+v", o.EndS, o.Transitions)
	}
	if len(o.DeadLetters) != 7 {
		t.Fatalf("dead letters %+v, want one count per vendor", o.DeadLetters)
	}
	if len(rep.Failures) != 0 {
		t.Fatalf("failures %q", rep.Failures)
	}
}

// TestOverloadScenario: 3 s of peer messages at 2000/s against APNs
// limited to 100/s with 200 notifications held in memory: herald answers
// 503 overloaded with Retry-After for what it cannot queue and nothing
// else goes wrong, and every accepted message is delivered (by id).
func TestOverloadScenario(t *testing.T) {
	testutil.SkipShort(t, "TestOverloadScenario runs 3 s of overload")
	cfgPath := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfgPath, []byte("log: {level: error}\nvendors:\n  apns: {limits: {qps: 100, burst: 100, max_in_flight: 10, max_queued: 200}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := scenario(t, "overload")
	sc.Users, sc.Conns = 500, 32
	sc.Rate, sc.Duration = 2000, bench.Duration(3*time.Second)
	rep := run(t, bench.Options{Scenario: sc, DaemonConfig: cfgPath})
	checkClean(t, rep)
	o := rep.Overload
	if o == nil {
		t.Fatal("no overload section")
	}
	t.Logf("overload %+v", *o)
	if o.SustainablePerSecond != 100 || o.Factor != 20 || o.Scheduled != 6000 {
		t.Fatalf("offered %v sustainable %v factor %v scheduled %d", o.OfferedPerSecond, o.SustainablePerSecond, o.Factor, o.Scheduled)
	}
	if o.Overloaded == 0 || o.OverloadedRetryAfter != o.Overloaded || o.Accepted == 0 {
		t.Fatalf("%d accepted, %d 503 (%d with Retry-After): want both, every 503 with Retry-After", o.Accepted, o.Overloaded, o.OverloadedRetryAfter)
	}
	if len(o.OtherStatus) != 0 || o.Failed != 0 || o.Sent != o.Accepted+o.Overloaded {
		t.Fatalf("answers other than 2xx and 503: %+v", o)
	}
	if o.AcceptedLost != 0 || o.RefusedDelivered != 0 || rep.Totals.Expected != o.Accepted {
		t.Fatalf("by id: %d accepted lost, %d refused delivered; expected %d for %d accepted", o.AcceptedLost, o.RefusedDelivered, rep.Totals.Expected, o.Accepted)
	}
	if o.RSSChecked {
		t.Fatal("in-process: the RSS is the whole process's and must not be checked")
	}
}

// TestCrashScenario runs `herald bench --scenario crash` small: a 3 000
// member fan-out (APNs, FCM and Huawei slowed to about 300 notifications/s
// each, so it spans seconds) plus 100 peer messages/s, while the child
// daemon is killed with SIGKILL 3 times and restarted on the same config,
// data dir and port. Every notification owed for a 2xx arrived (lost 0,
// by message id and device); each kill fell mid fan-out at its planned
// share, with its restart time; refused requests are counted, not owed;
// the report validates and the table and HTML show the kills.
func TestCrashScenario(t *testing.T) {
	testutil.SkipShort(t, "TestCrashScenario kills a child daemon three times mid fan-out")
	cfgPath := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfgPath, []byte("log: {level: warn}\nvendors:\n"+
		"  apns: {limits: {qps: 300, burst: 10, max_in_flight: 16}}\n"+
		"  fcm: {limits: {qps: 300, burst: 10, max_in_flight: 16}}\n"+
		"  huawei: {limits: {qps: 15, burst: 2, max_in_flight: 2, batch_size: 20}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, out, htmlPath := runChildReport(t, "--scenario", "crash", "--users", "3000", "--warmup-users", "60", "--shares", "apns=1,fcm=1,huawei=1",
		"--kills", "3", "--seed", "42", "--rate", "100", "--duration", "1s", "--conns", "8", "--settle", "200ms", "--config", cfgPath)
	c := rep.Crash
	if c == nil {
		t.Fatal("no crash section")
	}
	t.Logf("crash %+v", *c)
	if rep.Target.Daemon != bench.DaemonChild || rep.Process != nil {
		t.Fatalf("target %+v process %+v: want the child daemon, no single-process section", rep.Target, rep.Process)
	}
	if !rep.Passed || !c.Passed || c.Lost != 0 || c.GroupLost != 0 || c.PeerLost != 0 || rep.Totals.Lost != 0 {
		t.Fatalf("lost %d (group %d, peer %d), totals %+v, failures %q", c.Lost, c.GroupLost, c.PeerLost, rep.Totals, rep.Failures)
	}
	if c.Seed != 42 || c.KillsPlanned != 3 || len(c.Kills) != 3 || c.Lives != 4 || c.KillsDuringFanout != 3 {
		t.Fatalf("seed %d, kills %d of %d (%d during the fan-out), lives %d", c.Seed, len(c.Kills), c.KillsPlanned, c.KillsDuringFanout, c.Lives)
	}
	pids := map[int]bool{os.Getpid(): true}
	prevAt, prevFrac := 0.0, 0.0
	for i, k := range c.Kills {
		if k.AtS <= prevAt || k.Fraction < prevFrac || k.Fraction < 0.05 || k.Fraction > 0.95 {
			t.Fatalf("kill %d: %+v after at %v, share %v: want increasing moments within [0.05, 0.95]", i, k, prevAt, prevFrac)
		}
		if !k.DuringFanout || k.GroupCounted < int64(math.Ceil(k.Fraction*3000)) || k.GroupCounted >= 3000 {
			t.Fatalf("kill %d: %+v, want it between its planned share of the 3000 and the end of the fan-out", i, k)
		}
		if pids[k.PID] || k.RestartS <= 0 || k.PeakRSSBytes <= 0 || k.PeakRSSBytes > c.PeakRSSBytes {
			t.Fatalf("kill %d: %+v (peak over all lives %d)", i, k, c.PeakRSSBytes)
		}
		pids[k.PID] = true
		prevAt, prevFrac = k.AtS, k.Fraction
	}
	if c.GroupOwed != 3000 || c.PeerAccepted == 0 || c.PeerOwed != c.PeerAccepted || c.Owed != c.GroupOwed+c.PeerOwed ||
		c.PeerSent != c.PeerAccepted+c.PeerRefusedWhileDown+c.PeerFailedWhileUp || c.FanoutSeconds <= c.Kills[2].AtS {
		t.Fatalf("owed %d (group %d, peer %d for %d accepted of %d sent, %d refused while down, %d failed while up), fan-out done at %vs",
			c.Owed, c.GroupOwed, c.PeerOwed, c.PeerAccepted, c.PeerSent, c.PeerRefusedWhileDown, c.PeerFailedWhileUp, c.FanoutSeconds)
	}
	var dups int64
	for _, d := range c.DuplicatesByVendor {
		dups += d.Count
	}
	if len(c.DuplicatesByVendor) != len(rep.Vendors) || dups != c.Duplicates || c.Duplicates != rep.Totals.Duplicates {
		t.Fatalf("duplicates %d, by vendor %+v, totals %d", c.Duplicates, c.DuplicatesByVendor, rep.Totals.Duplicates)
	}
	for _, want := range []string{"3 of 3 kills (seed 42", "lost 0 (group 0, peer 0) PASS", "restart s", "over every life"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="crash"`, `id="kills"`, "--seed 42"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

// TestSoakScenario runs `herald bench --scenario soak` short (the mixed
// traffic, 0.5 s warm-up and 3 s measured, sampled every 100 ms) with the
// child daemon: the series has samples in both thirds compared, and each
// verdict follows from them by the stated rule (the last third's max <=
// the first third's max × (1 + tolerance)); the tolerances are wide, as
// 3 s says nothing about leaks.
func TestSoakScenario(t *testing.T) {
	testutil.SkipShort(t, "TestSoakScenario runs a soak in a child daemon")
	rep, out, htmlPath := runChild(t, "--scenario", "soak", "--users", "200", "--groups", "2", "--group-size", "50", "--group-rate", "4",
		"--churn-users", "50", "--churn-rate", "10", "--churn-batch", "20", "--rate", "50", "--conns", "8",
		"--warmup", "500ms", "--duration", "3s", "--sample-every", "100ms", "--rss-tolerance", "10", "--goroutine-tolerance", "10", "--settle", "100ms")
	s := rep.Soak
	if s == nil {
		t.Fatal("no soak section")
	}
	if s.Scope != "daemon" || s.PID <= 0 || s.PID == os.Getpid() || s.IntervalS != 0.1 || s.SampleCount != len(s.Samples) {
		t.Fatalf("soak %+v", s)
	}
	if d := s.MeasureEndS - s.MeasureStartS; math.Abs(d-3) > 0.01 || s.MeasureStartS < 0.49 ||
		math.Abs(s.FirstThirdEndS-(s.MeasureStartS+1)) > 0.01 || math.Abs(s.LastThirdStartS-(s.MeasureEndS-1)) > 0.01 {
		t.Fatalf("measured %v to %v, thirds to %v and from %v", s.MeasureStartS, s.MeasureEndS, s.FirstThirdEndS, s.LastThirdStartS)
	}
	check := func(name string, c bench.FlatCheck, tol float64, value func(bench.MemorySample) int64) {
		t.Helper()
		if !c.Checked || c.FirstThirdSamples == 0 || c.LastThirdSamples == 0 || c.FirstThirdMax <= 0 || c.LastThirdMax <= 0 || c.Tolerance != tol {
			t.Fatalf("%s: %+v", name, c)
		}
		if c.Bound != int64(float64(c.FirstThirdMax)*(1+tol)) || c.Flat != (c.LastThirdMax <= c.Bound) {
			t.Fatalf("%s: bound %d flat %v for %+v", name, c.Bound, c.Flat, c)
		}
		// Each max is a sampled value, and no sample well inside its third
		// is above it (a sample within 10 ms of a boundary may fall either
		// side of it once rounded to the millisecond).
		var seenFirst, seenLast bool
		for _, smp := range s.Samples {
			v := value(smp)
			in := func(from, to float64) bool { return smp.Seconds >= from && smp.Seconds <= to }
			if in(s.MeasureStartS, s.FirstThirdEndS) {
				seenFirst = seenFirst || v == c.FirstThirdMax
				if in(s.MeasureStartS+0.01, s.FirstThirdEndS-0.01) && v > c.FirstThirdMax {
					t.Fatalf("%s: sample %+v above the first third's max %d", name, smp, c.FirstThirdMax)
				}
			}
			if in(s.LastThirdStartS, s.MeasureEndS) {
				seenLast = seenLast || v == c.LastThirdMax
				if in(s.LastThirdStartS+0.01, s.MeasureEndS-0.01) && v > c.LastThirdMax {
					t.Fatalf("%s: sample %+v above the last third's max %d", name, smp, c.LastThirdMax)
				}
			}
		}
		if !seenFirst || !seenLast {
			t.Fatalf("%s: the maxima %d and %d are not among the samples of their thirds", name, c.FirstThirdMax, c.LastThirdMax)
		}
	}
	check("rss", s.RSS, 10, func(m bench.MemorySample) int64 { return m.RSSBytes })
	check("rss outside the store", s.RSSOutsideStore, 10, func(m bench.MemorySample) int64 { return m.RSSBytes - m.StoreCacheBytes })
	check("goroutines", s.Goroutines, 10, func(m bench.MemorySample) int64 { return m.Goroutines })
	for _, m := range s.Samples {
		if m.StoreCacheBytes < 0 || m.GoSysBytes <= 0 {
			t.Fatalf("sample %+v: want Pebble's and the Go runtime's memory read from /metrics", m)
		}
	}
	if !s.Flat || s.Flat != (s.RSSOutsideStore.Flat && s.Goroutines.Flat) {
		t.Fatalf("flat %v: rss outside the store %v goroutines %v", s.Flat, s.RSSOutsideStore.Flat, s.Goroutines.Flat)
	}
	for _, want := range []string{"soak", "RSS outside Pebble's cache+memtables MiB", "RSS MiB", "goroutines", "flat"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="soak"`, `<svg id="soak-memory"`, `<svg id="soak-goroutines"`, "flat bound"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
