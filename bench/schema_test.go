package bench

import (
	"encoding/json"
	"github.com/herald-push/herald/vendors/simkit"
	"strings"
	"testing"
	"time"
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
		Machine: ThisMachine(), Target: Target{Mode: "local", URL: "http://127.0.0.1:1", SimURL: "https://127.0.0.1:2", Conns: 4},
		Params: sc, Setup: Setup{Users: 10, Devices: 10, Groups: 1, Seconds: 0.1, DevicesPerSecond: 100},
		Metrics: []Metric{}, Latencies: []LatencyReport{Summarize("delivery", "d", h)}, Notes: []string{}}
	r.fillTotals(map[string]simkit.Stats{"apns": {Unique: 10, Notifications: 10, Requests: 10}}, map[string]int64{"apns": 10}, nil)
	r.metric("notifications_per_second", 1234.5678, "1/s")
	r.Timeline = tl.Rates(time.Unix(1, 0), 50)
	r.Passed = true
	return r
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
