package bench

import (
	"io"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// Microbenchmarks of the harness's own hot paths: they run inside the
// measured process, so their cost must stay far below a request's.
//
//	go test -run '^$' -bench . -benchmem ./bench

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	v := int64(1)
	for b.Loop() {
		v = v*6364136223846793005 + 1442695040888963407
		h.RecordValue(v >> 34) // spread over 0..~1 s
	}
}

func BenchmarkHistogramQuantiles(b *testing.B) {
	h := NewHistogram()
	for i := int64(0); i < 100000; i++ {
		h.RecordValue(i * 997)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			_ = h.Quantile(q)
		}
	}
}

// BenchmarkTrackerReceipt is the simulators' receipt hook: it runs on the
// simulators' request goroutines for every notification.
func BenchmarkTrackerReceipt(b *testing.B) {
	tr := newTracker("abc123", NewTimeline(time.Now()))
	k := tr.kind('p', "notifications_counted")
	now := time.Now()
	const n = 1 << 16
	ids := make([]string, n)
	for i := range ids {
		ids[i] = messageID('p', "abc123", int64(i))
		k.times.set(int64(i), now.Add(-time.Millisecond).UnixNano())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tr.onReceipt("apns", simkit.Receipt{MessageID: ids[i%n], Token: "t", At: now})
		i++
	}
}

// BenchmarkReportBuild: summarising, encoding and validating a report.
func BenchmarkReportBuild(b *testing.B) {
	h := NewHistogram()
	for i := int64(0); i < 100000; i++ {
		h.RecordValue(i * 997)
	}
	tl := NewTimeline(time.Unix(0, 0))
	s := tl.Series("x", "1/s")
	for i := 0; i < 3000; i++ {
		tl.Add(s, time.Unix(0, int64(i)*int64(10*time.Millisecond)), 100)
	}
	sc, err := LoadScenario("peer", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := &Report{Schema: ReportSchemaID, Scenario: "peer", StartedAt: time.Unix(0, 0).UTC(), Machine: Machine{Cores: 1, GOMAXPROCS: 1},
			Target: Target{Mode: "local", Conns: 1}, Params: sc, Metrics: []Metric{}, Notes: []string{}}
		r.fillTotals(map[string]simkit.Stats{"apns": {Unique: 5}}, map[string]int64{"apns": 5}, nil)
		r.Latencies = []LatencyReport{Summarize("accept", "", h), Summarize("ingress_to_simulator", "", h)}
		r.Timeline = tl.Rates(time.Unix(30, 0), 200)
		js, err := r.JSON()
		if err != nil {
			b.Fatal(err)
		}
		if err := ValidateReport(js); err != nil {
			b.Fatal(err)
		}
		if err := r.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
