package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors/simkit"
)

// sampleReport is a filled report as a scenario would leave it.
func sampleReport() *Report {
	sc, err := LoadScenario("fanout", "")
	if err != nil {
		panic(err)
	}
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	tl := NewTimeline(time.Unix(0, 0))
	s := tl.Series("notifications_counted", "notifications/s")
	tl.Add(s, time.Unix(0, 0), 100)
	r := &Report{Schema: ReportSchemaID, Scenario: "fanout", StartedAt: time.Now().UTC(), Herald: "herald test",
		Machine: ThisMachine(), Target: Target{Mode: "local", URL: "http://127.0.0.1:1", SimURL: "https://127.0.0.1:2", Conns: 4, Daemon: DaemonChild},
		Params: sc, Setup: Setup{Users: 10, Devices: 10, Groups: 1, Seconds: 0.1, DevicesPerSecond: 100},
		Metrics: []Metric{}, Latencies: []LatencyReport{Summarize("delivery", "d", h)}, Floor: []FloorResult{}, Notes: []string{}}
	r.fillTotals(map[string]simkit.Stats{"apns": {Unique: 10, Notifications: 10, Requests: 10}}, map[string]int64{"apns": 10}, nil)
	r.Vendors[0].PerSecond = 1000
	r.Floor = []FloorResult{
		{Vendor: "apns", Client: FloorHTTP2, Concurrency: 500, BatchSize: 1, Sent: 10, Accepted: 10, Requests: 10, Seconds: 0.005, PerSecond: 2000},
		{Vendor: "fcm", Client: FloorFirebaseSDK, Concurrency: 500, BatchSize: 1, Sent: 10, Accepted: 10, Requests: 10, Seconds: 0.01, PerSecond: 1000},
	}
	r.fillFloorRatios()
	r.Process = &ProcessReport{Scope: "daemon", Label: "herald serve", PID: 42, Seconds: 1, CPUSeconds: 0.5, UserSeconds: 0.4,
		SystemSeconds: 0.1, CPUCores: 0.5, PeakRSSBytes: 100 << 20, SampledPeakRSSBytes: 90 << 20,
		RSSSamples: []RSSSample{{Seconds: 0, Bytes: 80 << 20}, {Seconds: 1, Bytes: 90 << 20}}}
	r.Process.perNotification(10)
	r.Process.perMessage(10)
	r.Ramp = &RampReport{Spec: "100:200:x2", StepSeconds: 5, StepWarmupS: 1, MinAccepted: RampMinAccepted, MaxP99MS: 20, StopAfter: rampStopAfter,
		Targets: []RampTarget{
			{Name: RampHerald, Process: DaemonChild, PID: 42, CPUScope: "process", Steps: []RampStep{
				{Offered: 100, Sent: 600, Accepted: 500, AcceptedPerSecond: 100, AcceptedRatio: 1, AcceptP50MS: 1, AcceptP99MS: 5, AcceptP999MS: 6, AcceptMaxMS: 7,
					DrainSeconds: 0.02, DeliveryP50MS: 2, DeliveryP99MS: 6, CPUSeconds: 0.3, CPUCores: 0.05, CPUMicrosPerMessage: 500, HarnessCores: 0.4},
				{Offered: 200, Sent: 1200, Accepted: 900, AcceptedPerSecond: 180, AcceptedRatio: 0.9, AcceptP50MS: 100, AcceptP99MS: 900, AcceptP999MS: 950, AcceptMaxMS: 990}}},
			{Name: RampRaw, Process: RawChild, PID: 43, CPUScope: "process", Steps: []RampStep{
				{Offered: 100, Sent: 600, Accepted: 500, AcceptedPerSecond: 100, AcceptedRatio: 1, AcceptP50MS: 0.5, AcceptP99MS: 1, AcceptP999MS: 2, AcceptMaxMS: 3},
				{Offered: 200, Sent: 1200, Accepted: 1000, AcceptedPerSecond: 200, AcceptedRatio: 1, AcceptP50MS: 0.5, AcceptP99MS: 1, AcceptP999MS: 2, AcceptMaxMS: 3}}},
		}}
	for i := range r.Ramp.Targets {
		tg := &r.Ramp.Targets[i]
		for j := range tg.Steps {
			tg.Steps[j].WithinKnee = withinKnee(tg.Steps[j], r.Ramp.MaxP99MS)
		}
		tg.fillKnee()
	}
	r.Ramp.fillRatio()
	smp := MemorySample{Seconds: 1, RSSBytes: 80 << 20, HeapInuseBytes: 20 << 20, UserActorsActive: 0, Goroutines: 40}
	r.Memory = &MemoryReport{Users: 10, ActiveUsers: 2, GroupSize: 5, IdleTimeout: "5m0s", Scope: "daemon", PID: 42,
		Baseline: MemorySample{RSSBytes: 50 << 20, HeapInuseBytes: -1, UserActorsActive: -1, Goroutines: -1}, PeakRSSBytes: 90 << 20, SampledPeakRSSBytes: 85 << 20,
		IntervalS: 0.5, Samples: []MemorySample{smp},
		Phases: []MemoryPhase{{Name: PhaseRegistered, Description: "d", StartS: 0, EndS: 1, RSSBytes: 80 << 20, HWMBytes: 80 << 20, HeapInuseBytes: 20 << 20, PeakRSSBytes: 80 << 20}}}
	r.Outage = &OutageReport{Vendor: "apns", AfterS: 1, Seconds: 3, StartS: 1.001, EndS: 4.002, Expected: 10, DeliveredBefore: 4, DeliveredAfter: 6,
		Requests: 20, MaxInFlight: 500, BreakerOpened: 2, PollS: 0.1, RecoverySeconds: 1.5,
		Transitions: []BreakerTransition{{Seconds: 1.1, Vendor: "apns", From: "closed", To: "open"}, {Seconds: 2.1, Vendor: "apns", From: "open", To: "half_open"}},
		DeadLetters: []VendorCount{{Vendor: "apns", Count: 0}, {Vendor: "fcm", Count: 0}}}
	r.Outage.RequestBound, r.Outage.Probes = outageRequestBound(500, 500*time.Millisecond, 3*time.Second)
	r.Outage.WithinBound = r.Outage.Requests <= r.Outage.RequestBound
	r.Overload = &OverloadReport{OfferedPerSecond: 1000, SustainablePerSecond: 100, Factor: 10, Scheduled: 3000, Sent: 3000, AnsweredPerSecond: 900, Accepted: 400,
		Overloaded: 2599, OverloadedRetryAfter: 2599, OtherStatus: []StatusCount{{Status: 500, Count: 1}}, MemoryLimitBytes: 64 << 20,
		MaxRSSBytes: 256 << 20, PeakRSSBytes: 200 << 20, RSSChecked: true}
	r.Crash = &CrashReport{Seed: 7, KillsPlanned: 2, KillsDuringFanout: 2, Lives: 3, GroupOwed: 100, FanoutSeconds: 4.5,
		Kills: []CrashKill{
			{AtS: 0.8, Fraction: 0.2, GroupCounted: 21, DuringFanout: true, PID: 42, LifeS: 0.8, PeakRSSBytes: 60 << 20, RestartS: 0.4, PeerRefused: 3},
			{AtS: 2.5, Fraction: 0.7, GroupCounted: 70, DuringFanout: true, PID: 43, LifeS: 1.3, PeakRSSBytes: 70 << 20, RestartS: 0.5, PeerRefused: 4}},
		PeerRate: 10, PeerSent: 60, PeerAccepted: 52, PeerRefusedWhileDown: 7, PeerFailedWhileUp: 1, PeerOwed: 52, PeerUnansweredDelivered: 1,
		Owed: 152, Passed: true, Duplicates: 3, DuplicatesByVendor: []VendorCount{{Vendor: "apns", Count: 3}}, PeakRSSBytes: 70 << 20}
	soak := []MemorySample{{Seconds: 1, RSSBytes: 80 << 20, HeapInuseBytes: 20 << 20, GoSysBytes: 30 << 20, StoreCacheBytes: 10 << 20, UserActorsActive: 3, Goroutines: 40},
		{Seconds: 5, RSSBytes: 82 << 20, HeapInuseBytes: 21 << 20, GoSysBytes: -1, StoreCacheBytes: -1, UserActorsActive: 3, Goroutines: 41}}
	r.Soak = &SoakReport{Scope: "daemon", PID: 42, IntervalS: 1, MeasureStartS: 0, MeasureEndS: 6, FirstThirdEndS: 2, LastThirdStartS: 4,
		RSS:             flatCheck(soak, 0, 6, 0.1, func(s MemorySample) (int64, bool) { return s.RSSBytes, true }),
		RSSOutsideStore: flatCheck(soak, 0, 6, 0.1, func(s MemorySample) (int64, bool) { return s.RSSBytes - s.StoreCacheBytes, s.StoreCacheBytes >= 0 }),
		Goroutines:      flatCheck(soak, 0, 6, 0.1, func(s MemorySample) (int64, bool) { return s.Goroutines, true }),
		SampleCount:     2, Samples: soak}
	r.Soak.Flat = r.Soak.RSSOutsideStore.Flat && r.Soak.Goroutines.Flat
	r.Failures = []string{}
	r.metric("notifications_per_second", 1234.5678, "1/s")
	r.Timeline = tl.Rates(time.Unix(1, 0), 50)
	r.Passed = true
	return r
}

// TestSampleReportFloor: the ratios come out of fillFloorRatios as herald
// ÷ floor, per vendor and per floor.
func TestSampleReportFloor(t *testing.T) {
	r := sampleReport()
	if r.Floor[0].HeraldPerSecond != 1000 || r.Floor[0].Ratio != 0.5 {
		t.Fatalf("apns floor: %+v", r.Floor[0])
	}
	if v := r.Vendors[0]; v.FloorPerSecond != 2000 || v.FloorRatio != 0.5 {
		t.Fatalf("apns vendor: %+v", v)
	}
	if f := r.Floor[1]; f.HeraldPerSecond != 0 || f.Ratio != 0 {
		t.Fatalf("fcm floor without herald traffic: %+v", f)
	}
	if p := r.Process; p.Notifications != 10 || p.CPUMicrosPerNotification != 50000 || p.CPUMicrosPerMessage != 50000 {
		t.Fatalf("process: %+v", p)
	}
}

// TestOutageRequestBound: the breaker's allowance for a down vendor is
// (trips + 1) × max_in_flight plus one probe per open period (1 s, 2 s,
// 4 s, … 30 s, 30 s, …) that fits in the outage, plus one.
func TestOutageRequestBound(t *testing.T) {
	for _, c := range []struct {
		inFlight      int
		backoff, d    time.Duration
		probes, bound int64
	}{
		{500, 500 * time.Millisecond, 500 * time.Millisecond, 0, 2001},
		{500, 500 * time.Millisecond, 3 * time.Second, 2, 2003},        // probes at 1 s and 3 s
		{16, 500 * time.Millisecond, 5 * time.Minute, 13, 64 + 13 + 1}, // 1 3 7 15 31, then every 30 s to 271
		{16, 2 * time.Second, 7 * time.Second, 2, 64 + 2 + 1},          // a longer initial_backoff opens for longer: 2 s, 6 s
	} {
		b, p := outageRequestBound(c.inFlight, c.backoff, c.d)
		if b != c.bound || p != c.probes {
			t.Errorf("%+v: bound %d probes %d", c, b, p)
		}
	}
}

// TestSustainableRate: the vendors' qps over the mix's shares, the
// slowest kind deciding; unlimited kinds do not.
func TestSustainableRate(t *testing.T) {
	cfg := configs.Default()
	cfg.Vendors.APNs.Limits.QPS, cfg.Vendors.FCM.Limits.QPS, cfg.Vendors.Vivo.Limits.QPS = 1000, 300, 0
	for _, c := range []struct {
		shares map[string]float64
		want   float64
	}{
		{map[string]float64{"apns": 1}, 1000},
		{map[string]float64{"apns": 1, "fcm": 1}, 600}, // fcm takes half the messages at 300/s
		{map[string]float64{"apns": 3, "fcm": 1}, 1200},
		{map[string]float64{"vivo": 1}, 0},
		{map[string]float64{"apns": 1, "vivo": 1}, 2000},
	} {
		if got := sustainableRate(cfg, c.shares); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%v: %v, want %v", c.shares, got, c.want)
		}
	}
}

// TestSampleReportRamp: the sample ramp's knees (herald's second step is
// outside: 90 % accepted, p99 900 ms) and their ratio.
func TestSampleReportRamp(t *testing.T) {
	r := sampleReport().Ramp
	h, raw := r.Target(RampHerald), r.Target(RampRaw)
	if h.KneePerSecond != 100 || !h.LimitReached || raw.KneePerSecond != 200 || raw.LimitReached || r.KneeRatio != 0.5 {
		t.Fatalf("herald %+v raw %+v ratio %v", h, raw, r.KneeRatio)
	}
}

func TestSchemaIsWellFormed(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(ReportSchema, &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("$schema: %v", s["$schema"])
	}
}

func TestReportValidates(t *testing.T) {
	b, err := sampleReport().JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateReport(b); err != nil {
		t.Fatalf("sample report does not validate: %v\n%s", err, b)
	}
}

func TestValidatorCatchesViolations(t *testing.T) {
	b, _ := sampleReport().JSON()
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	cases := map[string]struct {
		doc  []byte
		want string
	}{
		"missing required": {mutate(func(m map[string]any) { delete(m, "totals") }), `$: "totals" is required`},
		"wrong type":       {mutate(func(m map[string]any) { m["passed"] = "yes" }), "$.passed: is a string, want boolean"},
		"extra property":   {mutate(func(m map[string]any) { m["bogus"] = 1 }), "$.bogus: is not allowed here"},
		"negative count": {mutate(func(m map[string]any) {
			m["totals"].(map[string]any)["lost"] = -1
		}), "$.totals.lost: -1 is below the minimum 0"},
		"bad enum":     {mutate(func(m map[string]any) { m["scenario"] = "nope" }), "$.scenario: nope is not one of"},
		"not integer":  {mutate(func(m map[string]any) { m["machine"].(map[string]any)["cores"] = 1.5 }), "$.machine.cores: is a number, want integer"},
		"bad date":     {mutate(func(m map[string]any) { m["started_at"] = "yesterday" }), "is not an RFC 3339 date-time"},
		"in $ref item": {mutate(func(m map[string]any) { delete(m["latencies"].([]any)[0].(map[string]any), "p99_ms") }), `$.latencies[0]: "p99_ms" is required`},
		"wrong const":  {mutate(func(m map[string]any) { m["schema"] = "v0" }), "$.schema: is v0"},
		"no floor":     {mutate(func(m map[string]any) { delete(m, "floor") }), `$: "floor" is required`},
		"bad floor client": {mutate(func(m map[string]any) {
			m["floor"].([]any)[0].(map[string]any)["client"] = "curl"
		}), "$.floor[0].client: curl is not one of"},
		"floor without ratio": {mutate(func(m map[string]any) {
			delete(m["floor"].([]any)[1].(map[string]any), "ratio")
		}), `$.floor[1]: "ratio" is required`},
		"negative ratio": {mutate(func(m map[string]any) {
			m["vendors"].([]any)[0].(map[string]any)["floor_ratio"] = -1
		}), "$.vendors[0].floor_ratio: -1 is below the minimum 0"},
		"bad process scope": {mutate(func(m map[string]any) {
			m["process"].(map[string]any)["scope"] = "host"
		}), "$.process.scope: host is not one of"},
		"process without cpu": {mutate(func(m map[string]any) {
			delete(m["process"].(map[string]any), "cpu_us_per_notification")
		}), `$.process: "cpu_us_per_notification" is required`},
		"bad rss sample": {mutate(func(m map[string]any) {
			m["process"].(map[string]any)["rss_samples"].([]any)[1].(map[string]any)["bytes"] = -5
		}), "$.process.rss_samples[1].bytes: -5 is below the minimum 0"},
		"bad ramp target": {mutate(func(m map[string]any) {
			m["ramp"].(map[string]any)["targets"].([]any)[1].(map[string]any)["name"] = "nginx"
		}), "$.ramp.targets[1].name: nginx is not one of"},
		"ramp step without p99": {mutate(func(m map[string]any) {
			delete(m["ramp"].(map[string]any)["targets"].([]any)[0].(map[string]any)["steps"].([]any)[1].(map[string]any), "accept_p99_ms")
		}), `$.ramp.targets[0].steps[1]: "accept_p99_ms" is required`},
		"memory phase without rss": {mutate(func(m map[string]any) {
			delete(m["memory"].(map[string]any)["phases"].([]any)[0].(map[string]any), "rss_bytes")
		}), `$.memory.phases[0]: "rss_bytes" is required`},
		"bad memory phase": {mutate(func(m map[string]any) {
			m["memory"].(map[string]any)["phases"].([]any)[0].(map[string]any)["name"] = "later"
		}), "$.memory.phases[0].name: later is not one of"},
		"memory sample below -1": {mutate(func(m map[string]any) {
			m["memory"].(map[string]any)["samples"].([]any)[0].(map[string]any)["heap_inuse_bytes"] = -2
		}), "$.memory.samples[0].heap_inuse_bytes: -2 is below the minimum -1"},
		"no failures": {mutate(func(m map[string]any) { delete(m, "failures") }), `$: "failures" is required`},
		"outage without bound": {mutate(func(m map[string]any) {
			delete(m["outage"].(map[string]any), "request_bound")
		}), `$.outage: "request_bound" is required`},
		"bad breaker state": {mutate(func(m map[string]any) {
			m["outage"].(map[string]any)["transitions"].([]any)[0].(map[string]any)["to"] = "broken"
		}), "$.outage.transitions[0].to: broken is not one of"},
		"negative dead letters": {mutate(func(m map[string]any) {
			m["outage"].(map[string]any)["dead_letters"].([]any)[1].(map[string]any)["count"] = -1
		}), "$.outage.dead_letters[1].count: -1 is below the minimum 0"},
		"overload without 503s": {mutate(func(m map[string]any) {
			delete(m["overload"].(map[string]any), "overloaded")
		}), `$.overload: "overloaded" is required`},
		"bad status": {mutate(func(m map[string]any) {
			m["overload"].(map[string]any)["other_status"].([]any)[0].(map[string]any)["status"] = 7
		}), "$.overload.other_status[0].status: 7 is below the minimum 100"},
		"no target daemon": {mutate(func(m map[string]any) { delete(m["target"].(map[string]any), "daemon") }), `$.target: "daemon" is required`},
		"crash without lost": {mutate(func(m map[string]any) {
			delete(m["crash"].(map[string]any), "lost")
		}), `$.crash: "lost" is required`},
		"crash without seed": {mutate(func(m map[string]any) {
			delete(m["crash"].(map[string]any), "seed")
		}), `$.crash: "seed" is required`},
		"crash without refused": {mutate(func(m map[string]any) {
			delete(m["crash"].(map[string]any), "peer_refused_while_down")
		}), `$.crash: "peer_refused_while_down" is required`},
		"crash without vendor duplicates": {mutate(func(m map[string]any) {
			delete(m["crash"].(map[string]any), "duplicates_by_vendor")
		}), `$.crash: "duplicates_by_vendor" is required`},
		"kill without restart time": {mutate(func(m map[string]any) {
			delete(m["crash"].(map[string]any)["kills"].([]any)[1].(map[string]any), "restart_s")
		}), `$.crash.kills[1]: "restart_s" is required`},
		"kill share above 1": {mutate(func(m map[string]any) {
			m["crash"].(map[string]any)["kills"].([]any)[0].(map[string]any)["fraction"] = 1.5
		}), "$.crash.kills[0].fraction: 1.5 is above the maximum 1"},
		"negative lost": {mutate(func(m map[string]any) {
			m["crash"].(map[string]any)["lost"] = -1
		}), "$.crash.lost: -1 is below the minimum 0"},
		"soak without verdict": {mutate(func(m map[string]any) {
			delete(m["soak"].(map[string]any), "flat")
		}), `$.soak: "flat" is required`},
		"soak check without bound": {mutate(func(m map[string]any) {
			delete(m["soak"].(map[string]any)["goroutines"].(map[string]any), "bound")
		}), `$.soak.goroutines: "bound" is required`},
		"soak check without tolerance": {mutate(func(m map[string]any) {
			delete(m["soak"].(map[string]any)["rss"].(map[string]any), "tolerance")
		}), `$.soak.rss: "tolerance" is required`},
		"soak sample without goroutines": {mutate(func(m map[string]any) {
			delete(m["soak"].(map[string]any)["samples"].([]any)[1].(map[string]any), "goroutines")
		}), `$.soak.samples[1]: "goroutines" is required`},
		"bad soak scope": {mutate(func(m map[string]any) {
			m["soak"].(map[string]any)["scope"] = "host"
		}), "$.soak.scope: host is not one of"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateReport(c.doc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestValidatorRefusesUnknownKeywords(t *testing.T) {
	err := ValidateJSON(map[string]any{"type": "object", "patternProperties": map[string]any{}}, map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "patternProperties") {
		t.Fatalf("got %v", err)
	}
}

// TestScenarioFiles: every built-in scenario file loads strictly,
// validates, and gives a daemon config in simulator mode.
func TestScenarioFiles(t *testing.T) {
	for _, name := range Scenarios {
		t.Run(name, func(t *testing.T) {
			sc, err := LoadScenario(name, "")
			if err != nil {
				t.Fatal(err)
			}
			if sc.Name != name {
				t.Fatalf("file says scenario %q", sc.Name)
			}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			cfg, err := sc.DaemonConfig("")
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := LoadScenario("nope", ""); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Fatalf("unknown scenario: %v", err)
	}
	if _, err := ParseScenario([]byte("scenario: fanout\nuserz: 3\n"), "x"); err == nil || !strings.Contains(err.Error(), "userz") {
		t.Fatalf("unknown key: %v", err)
	}
	withAccount, err := ParseScenario([]byte("scenario: fanout\ndaemon:\n  vendors:\n    apns:\n      account: {topic: x}\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withAccount.DaemonConfig(""); err == nil || !strings.Contains(err.Error(), "simulator mode") {
		t.Fatalf("a daemon section with a vendor account must be refused: %v", err)
	}
}

func TestShareFlags(t *testing.T) {
	m, err := ParseShares("apns=2, fcm=1.5")
	if err != nil || m["apns"] != 2 || m["fcm"] != 1.5 || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := ParseShares("apns"); err == nil {
		t.Fatal("want an error")
	}
	sc, _ := LoadScenario("fanout", "")
	sc.VendorShares = map[string]float64{"nokia": 1}
	if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), "nokia") {
		t.Fatalf("got %v", err)
	}
}
