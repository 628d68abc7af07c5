package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// ReportSchemaID names the report format; bench/report.schema.json is its
// JSON Schema.
const ReportSchemaID = "herald-bench-report/v1"

// Report is the result of one bench run: what --json writes and what the
// table and the HTML report show.
type Report struct {
	Schema      string    `json:"schema"`
	Scenario    string    `json:"scenario"`
	Description string    `json:"description"`
	StartedAt   time.Time `json:"started_at"`
	WallSeconds float64   `json:"wall_seconds"` // the whole run, setup included
	Herald      string    `json:"herald"`       // `herald version` of the harness
	Machine     Machine   `json:"machine"`
	Target      Target    `json:"target"`
	Params      Scenario  `json:"params"` // the effective scenario parameters
	Setup       Setup     `json:"setup"`
	// Passed is false when anything was lost, a check failed (Failures)
	// or the run failed.
	Passed    bool            `json:"passed"`
	Totals    Totals          `json:"totals"`
	Vendors   []VendorResult  `json:"vendors"`
	Metrics   []Metric        `json:"metrics"`
	Latencies []LatencyReport `json:"latencies"`
	Timeline  TimelineReport  `json:"timeline"`
	// Floor is the baseline measured in the same run (--floor): herald's
	// vendor requests sent straight to the simulators by a minimal client,
	// per vendor kind and client; empty when not measured.
	Floor []FloorResult `json:"floor"`
	// Process is the CPU and memory of the measured daemon over the
	// measured phase (nil with --target).
	Process *ProcessReport `json:"process,omitempty"`
	// Ramp is the peer scenario's ramp (--ramp): herald's and the raw
	// fasthttp server's steps and knees.
	Ramp *RampReport `json:"ramp,omitempty"`
	// Memory is the memory scenario's RSS, heap and live user actors
	// over time and per phase.
	Memory *MemoryReport `json:"memory,omitempty"`
	// Outage is the outage scenario's account: the vendor's simulator
	// down, what herald sent it meanwhile, its breaker and dead letters.
	Outage *OutageReport `json:"outage,omitempty"`
	// Overload is the overload scenario's account: what herald answered
	// to an offered rate far above the vendors', and its memory.
	Overload *OverloadReport `json:"overload,omitempty"`
	// Crash is the crash scenario's account: the child daemon killed
	// with SIGKILL and restarted during a fan-out and peer load, and what
	// was lost.
	Crash *CrashReport `json:"crash,omitempty"`
	// Soak is the soak scenario's account: the daemon's RSS and
	// goroutines over a long mixed load, and whether they stayed flat.
	Soak *SoakReport `json:"soak,omitempty"`
	// Failures are the scenario's checks that failed besides loss (dead
	// letters, a bound exceeded): any makes Passed false.
	Failures []string `json:"failures"`
	Notes    []string `json:"notes"`
	Error    string   `json:"error,omitempty"` // why the run failed, when it did
}

// Target is what was measured.
type Target struct {
	Mode   string `json:"mode"`    // "local": a daemon started by the harness; "external": --target
	URL    string `json:"url"`     // herald's API
	SimURL string `json:"sim_url"` // the simulators
	Conns  int    `json:"conns"`   // the load generator's connection pool
	// Daemon is where herald ran: DaemonChild, DaemonInProcess, or
	// "external" (--target).
	Daemon string `json:"daemon"`
}

// Setup is how the users were put in place.
type Setup struct {
	Users            int64   `json:"users"`
	Devices          int64   `json:"devices"`
	Groups           int64   `json:"groups"`
	Seconds          float64 `json:"seconds"`
	DevicesPerSecond float64 `json:"devices_per_second"`
}

// Totals are the notifications counted at the simulators during the
// measured part of the run (warm-up traffic excluded), against what herald
// had to deliver.
type Totals struct {
	Expected      int64 `json:"expected"`      // device notifications herald owed
	Unique        int64 `json:"unique"`        // distinct (message_id, token) pairs counted
	Lost          int64 `json:"lost"`          // expected − unique, per vendor, never negative
	Duplicates    int64 `json:"duplicates"`    // pairs counted more than once
	Notifications int64 `json:"notifications"` // everything accepted, duplicates included
	Rejected      int64 `json:"rejected"`      // answered with a failure by the simulators
	Requests      int64 `json:"requests"`      // HTTP requests to the vendors' send endpoints
}

// VendorResult is one vendor's share of the totals, and what herald's own
// counters (GET /v1/stats) say about it.
type VendorResult struct {
	Vendor        string `json:"vendor"`
	Expected      int64  `json:"expected"`
	Unique        int64  `json:"unique"`
	Duplicates    int64  `json:"duplicates"`
	Rejected      int64  `json:"rejected"`
	Requests      int64  `json:"requests"`
	HeraldSent    int64  `json:"herald_sent"`
	HeraldRetried int64  `json:"herald_retried"`
	HeraldFailed  int64  `json:"herald_failed"`
	// PerSecond is herald's rate for this vendor in the measured phase
	// (fanout: unique ÷ time from the 2xx to this vendor's last
	// notification); FloorPerSecond the bare HTTP/2 floor's and
	// FloorRatio = PerSecond ÷ FloorPerSecond (0 = no floor).
	PerSecond      float64 `json:"notifications_per_second"`
	FloorPerSecond float64 `json:"floor_per_second"`
	FloorRatio     float64 `json:"floor_ratio"`
}

// FloorResult is one vendor kind's floor with one client: the same
// requests herald's vendor client makes, sent straight to the simulator.
type FloorResult struct {
	Vendor      string  `json:"vendor"`
	Client      string  `json:"client"`                   // FloorHTTP2 or FloorFirebaseSDK
	Concurrency int     `json:"concurrency"`              // requests (streams, batches) in flight
	BatchSize   int     `json:"batch_size"`               // tokens per request
	Sent        int64   `json:"sent"`                     // notifications sent
	Accepted    int64   `json:"accepted"`                 // unique (message_id, token) pairs the simulator accepted
	Requests    int64   `json:"requests"`                 // send requests the simulator counted
	Errors      int64   `json:"errors"`                   // requests that failed (transport, non-200)
	Seconds     float64 `json:"seconds"`                  // first request to last answer
	PerSecond   float64 `json:"notifications_per_second"` // accepted ÷ seconds
	// HeraldPerSecond is herald's rate for the vendor in the measured
	// phase, Ratio = HeraldPerSecond ÷ PerSecond.
	HeraldPerSecond float64 `json:"herald_per_second"`
	Ratio           float64 `json:"ratio"`
	// CPUMicrosPerNotification is the harness process's CPU over the
	// floor (its client and the simulators; with --daemon child nothing
	// else) per accepted notification: beside ProcessReport's daemon and
	// harness figures it splits the ratio into where the box's CPU went.
	CPUMicrosPerNotification float64 `json:"cpu_us_per_notification"`
}

// ProcessReport is the measured daemon's CPU and memory over the measured
// phase, from /proc/<pid>/stat and /proc/<pid>/status.
type ProcessReport struct {
	// Scope is "daemon" (herald serve as its own process: the numbers are
	// the daemon's alone) or "whole_process" (in-process mode: daemon,
	// simulators and load generator together).
	Scope string `json:"scope"`
	Label string `json:"label"`
	PID   int    `json:"pid"`
	// Seconds is the span measured: from just before the measured
	// traffic to the last expected notification counted.
	Seconds       float64 `json:"seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"` // utime + stime
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	CPUCores      float64 `json:"cpu_cores"` // cpu_seconds ÷ seconds
	// Notifications is the unique notifications of the measured phase
	// and CPUMicrosPerNotification = cpu_seconds·10⁶ ÷ notifications.
	Notifications            int64   `json:"notifications"`
	CPUMicrosPerNotification float64 `json:"cpu_us_per_notification"`
	// HarnessCPUSeconds is the harness process's own CPU over the same
	// span (with scope daemon: the simulators, the load generator and the
	// counting), HarnessCPUMicrosPerNotification that per notification.
	HarnessCPUSeconds               float64 `json:"harness_cpu_seconds"`
	HarnessCPUMicrosPerNotification float64 `json:"harness_cpu_us_per_notification"`
	// Messages is the 2xx-answered messages of the measured phase (peer
	// ramp) and CPUMicrosPerMessage = cpu_seconds·10⁶ ÷ messages; 0 when
	// not measured.
	Messages            int64   `json:"messages,omitempty"`
	CPUMicrosPerMessage float64 `json:"cpu_us_per_message,omitempty"`
	// PeakRSSBytes is VmHWM at the end (the process's peak RSS over its
	// whole life, setup included); SampledPeakRSSBytes the highest VmRSS
	// sampled during the measured phase, RSSSamples the samples.
	PeakRSSBytes        int64       `json:"peak_rss_bytes"`
	SampledPeakRSSBytes int64       `json:"sampled_peak_rss_bytes"`
	RSSSamples          []RSSSample `json:"rss_samples"`
}

// RSSSample is the resident set size at one moment of the measured phase.
type RSSSample struct {
	Seconds float64 `json:"t_s"` // since the start of the measured phase
	Bytes   int64   `json:"bytes"`
}

// Metric is one headline number.
type Metric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// LatencyReport summarises one latency histogram (milliseconds).
type LatencyReport struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Count       int64   `json:"count"`
	MinMS       float64 `json:"min_ms"`
	MeanMS      float64 `json:"mean_ms"`
	P50MS       float64 `json:"p50_ms"`
	P90MS       float64 `json:"p90_ms"`
	P99MS       float64 `json:"p99_ms"`
	P999MS      float64 `json:"p999_ms"`
	MaxMS       float64 `json:"max_ms"`
	// Percentiles is the distribution for plotting.
	Percentiles []PercentilePoint `json:"percentiles"`
}

// PercentilePoint is the latency at one percentile.
type PercentilePoint struct {
	Percentile float64 `json:"percentile"`
	MS         float64 `json:"ms"`
}

// TimelineReport holds rates over time.
type TimelineReport struct {
	IntervalS float64        `json:"interval_s"` // width of one point
	Series    []SeriesReport `json:"series"`
}

// SeriesReport is one rate over time; point i covers
// [i·interval_s, (i+1)·interval_s) from the start of the measured phase.
type SeriesReport struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values"`
}

// percentilesPlotted are the points of each latency curve.
var percentilesPlotted = []float64{0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

// Summarize turns a histogram into its report.
func Summarize(name, desc string, h *Histogram) LatencyReport {
	l := LatencyReport{Name: name, Description: desc, Count: h.Count(), MinMS: ms(h.Min()), MeanMS: ms(h.Mean()),
		P50MS: ms(h.Quantile(0.5)), P90MS: ms(h.Quantile(0.9)), P99MS: ms(h.Quantile(0.99)),
		P999MS: ms(h.Quantile(0.999)), MaxMS: ms(h.Max()), Percentiles: []PercentilePoint{}}
	if h.Count() > 0 {
		for _, p := range percentilesPlotted {
			l.Percentiles = append(l.Percentiles, PercentilePoint{Percentile: p, MS: ms(h.Quantile(p / 100))})
		}
	}
	return l
}

// fillTotals sets Totals and Vendors from the simulators' counters over
// the measured phase, against the expected notifications per vendor.
func (r *Report) fillTotals(delta map[string]simkit.Stats, expected map[string]int64, herald map[string]heraldVendor) {
	names := map[string]bool{}
	for k := range delta {
		names[k] = true
	}
	for k := range expected {
		names[k] = true
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	r.Totals = Totals{}
	r.Vendors = []VendorResult{}
	for _, k := range sorted {
		s, e, h := delta[k], expected[k], herald[k]
		r.Vendors = append(r.Vendors, VendorResult{Vendor: k, Expected: e, Unique: s.Unique, Duplicates: s.Duplicates,
			Rejected: s.Rejected, Requests: s.Requests, HeraldSent: h.Sent, HeraldRetried: h.Retried, HeraldFailed: h.Failed})
		r.Totals.Expected += e
		r.Totals.Unique += s.Unique
		r.Totals.Lost += max(e-s.Unique, 0)
		r.Totals.Duplicates += s.Duplicates
		r.Totals.Notifications += s.Notifications
		r.Totals.Rejected += s.Rejected
		r.Totals.Requests += s.Requests
	}
}

func (r *Report) metric(name string, v float64, unit string) {
	r.Metrics = append(r.Metrics, Metric{Name: name, Value: round3(v), Unit: unit})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// fail records a failed check: the run does not pass.
func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// Metric returns the named metric's value and whether it is there.
func (r *Report) Metric(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// JSON is the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteJSON writes the report to path after checking it against the
// schema (a report that does not validate is a harness bug).
func (r *Report) WriteJSON(path string) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	if err := ValidateReport(b); err != nil {
		return fmt.Errorf("bench: report does not match its schema: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}
