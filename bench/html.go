package bench

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"os"
	"strings"
)

// palette colours the series of a chart.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

const (
	chartW, chartH = 900, 340
	padL, padR     = 70, 20
	padT, padB     = 20, 70
)

// niceCeil rounds v up to 1, 2, 2.5, 4 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 4, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

type line struct {
	name string
	xs   []float64
	ys   []float64
}

type axis struct {
	max   float64
	ticks []float64
	label func(float64) string
}

// svgChart draws lines over x in [0, xa.max] and y in [0, ya.max].
func svgChart(id, title, xTitle, yTitle string, xa, ya axis, lines []line) string {
	var b strings.Builder
	pw, ph := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(v float64) float64 { return padL + pw*math.Min(v/xa.max, 1) }
	y := func(v float64) float64 { return padT + ph*(1-math.Min(v/ya.max, 1)) }
	fmt.Fprintf(&b, `<svg id="%s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		id, chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title><rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, html.EscapeString(title), chartW, chartH)
	for _, t := range ya.ticks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, x(0), y(t), x(xa.max), y(t))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#444">%s</text>`, x(0)-6, y(t)+4, html.EscapeString(ya.label(t)))
	}
	for _, t := range xa.ticks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, x(t), y(0), x(t), y(ya.max))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#444">%s</text>`, x(t), y(0)+16, html.EscapeString(xa.label(t)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`, padL, padT, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`, padL+pw/2, padT+int(ph)+36, html.EscapeString(xTitle))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" font-size="12" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`, padT+ph/2, padT+ph/2, html.EscapeString(yTitle))
	if len(lines) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="14" text-anchor="middle" fill="#888">no data</text>`, padL+pw/2, padT+ph/2)
	}
	for i, l := range lines {
		c := palette[i%len(palette)]
		var pts []string
		for j := range l.xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(l.xs[j]), y(l.ys[j])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"><title>%s</title></polyline>`, c, strings.Join(pts, " "), html.EscapeString(l.name))
		lx := padL + 10 + (i%3)*280
		ly := padT + int(ph) + 54 + (i/3)*14
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="3" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`, lx, ly-4, c, lx+18, ly, html.EscapeString(l.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func linearTicks(maxV float64) []float64 {
	step := niceCeil(maxV / 5)
	var out []float64
	for t := 0.0; t <= maxV*1.0001; t += step {
		out = append(out, t)
	}
	return out
}

// throughputSVG plots every timeline series (rates per second over time).
func throughputSVG(t TimelineReport) string {
	var lines []line
	maxY, maxX := 0.0, 0.0
	for _, s := range t.Series {
		l := line{name: s.Name + " (" + s.Unit + ")"}
		for i, v := range s.Values {
			// each point sits at the middle of its bin
			l.xs = append(l.xs, (float64(i)+0.5)*t.IntervalS)
			l.ys = append(l.ys, v)
			maxY = math.Max(maxY, v)
		}
		maxX = math.Max(maxX, float64(len(s.Values))*t.IntervalS)
		if len(l.xs) > 0 {
			lines = append(lines, l)
		}
	}
	xa, ya := linearAxis(maxX), linearAxis(maxY)
	return svgChart("throughput", "Throughput over time", "seconds since the start of the measured phase", "per second", xa, ya, lines)
}

// nines maps a percentile to the plot's x: log10(1/(1−p)), so 90, 99,
// 99.9 … are evenly spaced; 100 sits at the right edge.
func nines(p float64) float64 {
	const maxX = 5 // 99.999
	if p >= 100 {
		return maxX
	}
	return math.Min(math.Log10(100/(100-p)), maxX)
}

// latencySVG plots each latency's percentile curve.
func latencySVG(ls []LatencyReport) string {
	var lines []line
	maxY := 0.0
	for _, l := range ls {
		if len(l.Percentiles) == 0 {
			continue
		}
		ln := line{name: l.Name}
		for _, p := range l.Percentiles {
			ln.xs = append(ln.xs, nines(p.Percentile))
			ln.ys = append(ln.ys, p.MS)
			maxY = math.Max(maxY, p.MS)
		}
		lines = append(lines, ln)
	}
	labels := map[float64]string{0: "0", 1: "90", 2: "99", 3: "99.9", 4: "99.99", 5: "99.999"}
	xa := axis{max: 5, ticks: []float64{0, 1, 2, 3, 4, 5}, label: func(v float64) string { return labels[v] }}
	ya := linearAxis(maxY)
	return svgChart("latency", "Latency by percentile", "percentile", "milliseconds", xa, ya, lines)
}

// rssSVG plots the daemon's sampled RSS over the measured phase.
func rssSVG(p *ProcessReport) string {
	l := line{name: "RSS (MiB)"}
	maxY, maxX := 0.0, 0.0
	for _, s := range p.RSSSamples {
		v := float64(s.Bytes) / (1 << 20)
		l.xs, l.ys = append(l.xs, s.Seconds), append(l.ys, v)
		maxY, maxX = math.Max(maxY, v), math.Max(maxX, s.Seconds)
	}
	var lines []line
	if len(l.xs) > 0 {
		lines = append(lines, l)
	}
	xa, ya := linearAxis(maxX), linearAxis(maxY)
	return svgChart("rss", "Daemon RSS over time", "seconds since the start of the measured phase", "MiB", xa, ya, lines)
}

// rampSVGs plots each ramp target's accepted rate and accept p99 against
// the offered rate (the ideal accepted = offered as a line too).
func rampSVGs(rr *RampReport) (string, string) {
	var rate, p99 []line
	maxX, maxY, maxP := 0.0, 0.0, 0.0
	for _, t := range rr.Targets {
		a, q := line{name: t.Name + " accepted/s"}, line{name: t.Name + " accept p99 (ms)"}
		for _, s := range t.Steps {
			a.xs, a.ys = append(a.xs, s.Offered), append(a.ys, s.AcceptedPerSecond)
			q.xs, q.ys = append(q.xs, s.Offered), append(q.ys, s.AcceptP99MS)
			maxX, maxY, maxP = math.Max(maxX, s.Offered), math.Max(maxY, s.AcceptedPerSecond), math.Max(maxP, s.AcceptP99MS)
		}
		if len(a.xs) > 0 {
			rate, p99 = append(rate, a), append(p99, q)
		}
	}
	xa := linearAxis(maxX)
	if len(rate) > 0 {
		rate = append(rate, line{name: "offered (ideal)", xs: []float64{0, xa.max}, ys: []float64{0, xa.max}})
	}
	ya := linearAxis(math.Max(maxY, maxX))
	// p99 beyond ten times the bound is off the chart (clipped at the top).
	pa := linearAxis(math.Min(math.Max(maxP, rr.MaxP99MS), 10*rr.MaxP99MS))
	if len(p99) > 0 {
		p99 = append(p99, line{name: "knee bound (ms)", xs: []float64{0, xa.max}, ys: []float64{rr.MaxP99MS, rr.MaxP99MS}})
	}
	return svgChart("ramp-rate", "Accepted rate by offered rate", "offered messages/s", "accepted messages/s", xa, ya, rate),
		svgChart("ramp-p99", "Accept p99 by offered rate", "offered messages/s", "milliseconds", xa, pa, p99)
}

// sampleSeries is one line of a plot over MemorySamples: its name and a
// sample's value (false = the sample lacks it).
type sampleSeries struct {
	name  string
	value func(MemorySample) (float64, bool)
}

var (
	rssSeries  = sampleSeries{"RSS (MiB)", func(s MemorySample) (float64, bool) { return float64(s.RSSBytes) / (1 << 20), true }}
	heapSeries = sampleSeries{"Go heap in use (MiB)", func(s MemorySample) (float64, bool) {
		return float64(s.HeapInuseBytes) / (1 << 20), s.HeapInuseBytes >= 0
	}}
	goSysSeries = sampleSeries{"Go runtime from the OS (MiB)", func(s MemorySample) (float64, bool) {
		return float64(s.GoSysBytes) / (1 << 20), s.GoSysBytes >= 0
	}}
	storeSeries = sampleSeries{"Pebble cache + memtables (MiB)", func(s MemorySample) (float64, bool) {
		return float64(s.StoreCacheBytes) / (1 << 20), s.StoreCacheBytes >= 0
	}}
	actorSeries     = sampleSeries{"user actors active", func(s MemorySample) (float64, bool) { return float64(s.UserActorsActive), s.UserActorsActive >= 0 }}
	goroutineSeries = sampleSeries{"goroutines", func(s MemorySample) (float64, bool) { return float64(s.Goroutines), s.Goroutines >= 0 }}
)

// samplesSVG plots series of samples over their t_s, and the extra lines
// (bounds) on the same axes; the x axis spans every sample whether or not
// it has a value, so plots of the same samples line up.
func samplesSVG(id, title, xTitle, yTitle string, samples []MemorySample, series []sampleSeries, extra ...line) string {
	maxX, maxY := 0.0, 0.0
	var lines []line
	for _, sr := range series {
		l := line{name: sr.name}
		for _, s := range samples {
			maxX = math.Max(maxX, s.Seconds)
			if v, ok := sr.value(s); ok {
				l.xs, l.ys = append(l.xs, s.Seconds), append(l.ys, v)
				maxY = math.Max(maxY, v)
			}
		}
		if len(l.xs) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		for _, l := range extra {
			for _, y := range l.ys {
				maxY = math.Max(maxY, y)
			}
			lines = append(lines, l)
		}
	}
	return svgChart(id, title, xTitle, yTitle, linearAxis(maxX), linearAxis(maxY), lines)
}

// memorySVGs plots the memory scenario's RSS and heap over time, and the
// live user actors.
func memorySVGs(m *MemoryReport) (string, string) {
	return samplesSVG("memory", "Daemon memory over time", "seconds since the scenario's start (phase ends in the table above)", "MiB", m.Samples, []sampleSeries{rssSeries, goSysSeries, storeSeries, heapSeries}),
		samplesSVG("actors", "Live user actors over time", "seconds since the scenario's start", "actors", m.Samples, []sampleSeries{actorSeries})
}

// soakSVGs plots the soak's RSS (and heap) and goroutines over time, each
// with its flatness bound over the last third of the measured phase.
func soakSVGs(sr *SoakReport) (string, string) {
	bound := func(name string, c FlatCheck, scale float64) []line {
		if !c.Checked {
			return nil
		}
		y := float64(c.Bound) / scale
		return []line{{name: name, xs: []float64{sr.LastThirdStartS, sr.MeasureEndS}, ys: []float64{y, y}}}
	}
	const x = "seconds since the load's start (measured phase from warm-up's end)"
	return samplesSVG("soak-memory", "Daemon memory over the soak", x, "MiB", sr.Samples, []sampleSeries{rssSeries, goSysSeries, storeSeries, heapSeries},
			bound("flat bound: first third's max RSS × (1 + tolerance)", sr.RSS, 1<<20)...),
		samplesSVG("soak-goroutines", "Daemon goroutines over the soak", x, "goroutines", sr.Samples, []sampleSeries{goroutineSeries},
			bound("flat bound: first third's max × (1 + tolerance)", sr.Goroutines, 1)...)
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{"num": fmtNum, "dash": dash, "ratio": ratio, "mib": mib, "sub0": func(a, b int64) int64 { return max(a-b, 0) },
	"pct": func(v float64) float64 { return round3(v * 100) }, "knee": kneeText, "inc": func(i int) int { return i + 1 },
	"flat": func(c FlatCheck) template.HTML {
		if c.Flat {
			return `<span class="pass">flat</span>`
		}
		return template.HTML(`<span class="fail">` + html.EscapeString(soakVerdict(c)) + `</span>`)
	}}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>herald bench: {{.R.Scenario}}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:960px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.pass{color:#17803d;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.kv td{text-align:left}.note{color:#555;font-size:13px}
</style></head><body>
<h1>herald bench: {{.R.Scenario}} — {{if .R.Passed}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h1>
<p>{{.R.Description}}</p>
<table class="kv">
<tr><td>started</td><td>{{.R.StartedAt.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><td>machine</td><td>{{.R.Machine.CPUModel}}, {{.R.Machine.Cores}} cores, GOMAXPROCS {{.R.Machine.GOMAXPROCS}}, {{.R.Machine.GoVersion}} {{.R.Machine.OS}}/{{.R.Machine.Arch}}</td></tr>
<tr><td>herald</td><td>{{.R.Herald}}</td></tr>
<tr><td>target</td><td>{{.R.Target.Mode}} {{.R.Target.URL}} (daemon {{.R.Target.Daemon}}, simulators {{.R.Target.SimURL}}), {{.R.Target.Conns}} connections</td></tr>
<tr><td>setup</td><td>{{.R.Setup.Users}} users, {{.R.Setup.Devices}} devices, {{.R.Setup.Groups}} groups in {{num .R.Setup.Seconds}} s ({{num .R.Setup.DevicesPerSecond}} devices/s)</td></tr>
<tr><td>run</td><td>{{num .R.WallSeconds}} s in all</td></tr>
{{if .R.Error}}<tr><td>error</td><td class="fail">{{.R.Error}}</td></tr>{{end}}
</table>
<h2>Results</h2>
<table><tr><th>metric</th><th>value</th><th>unit</th></tr>
{{range .R.Metrics}}<tr><td>{{.Name}}</td><td>{{num .Value}}</td><td>{{.Unit}}</td></tr>
{{end}}</table>
<h2>Throughput over time</h2>
{{.Throughput}}
<h2>Latency percentiles</h2>
{{.Latency}}
<table><tr><th>latency (ms)</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>mean</th></tr>
{{range .R.Latencies}}<tr><td title="{{.Description}}">{{.Name}}</td><td>{{.Count}}</td><td>{{num .P50MS}}</td><td>{{num .P90MS}}</td><td>{{num .P99MS}}</td><td>{{num .P999MS}}</td><td>{{num .MaxMS}}</td><td>{{num .MeanMS}}</td></tr>
{{end}}</table>
{{range .R.Latencies}}<p class="note"><b>{{.Name}}</b>: {{.Description}}</p>{{end}}
<h2>Counted at the simulators</h2>
<table><tr><th>vendor</th><th>expected</th><th>unique</th><th>lost</th><th>duplicates</th><th>rejected</th><th>requests</th><th>herald sent</th><th>retried</th><th>failed</th><th>herald/s</th><th>floor/s</th><th>herald/floor</th></tr>
{{range .R.Vendors}}<tr><td>{{.Vendor}}</td><td>{{.Expected}}</td><td>{{.Unique}}</td><td>{{sub0 .Expected .Unique}}</td><td>{{.Duplicates}}</td><td>{{.Rejected}}</td><td>{{.Requests}}</td><td>{{.HeraldSent}}</td><td>{{.HeraldRetried}}</td><td>{{.HeraldFailed}}</td><td>{{dash .PerSecond 0}}</td><td>{{dash .FloorPerSecond 0}}</td><td>{{ratio .FloorRatio}}</td></tr>
{{end}}<tr><th>total</th><th>{{.R.Totals.Expected}}</th><th>{{.R.Totals.Unique}}</th><th>{{.R.Totals.Lost}}</th><th>{{.R.Totals.Duplicates}}</th><th>{{.R.Totals.Rejected}}</th><th>{{.R.Totals.Requests}}</th><th></th><th></th><th></th><th></th><th></th><th></th></tr>
</table>
{{if .R.Floor}}<h2>Floor</h2>
<p class="note">The same requests herald's vendor clients make (captured from them once, then replayed with fresh tokens), sent straight to the same simulators by a minimal client: no queue, no store, no actors. herald/floor is herald's notifications/s for the vendor in the measured phase divided by the floor's. Floor CPU is the harness process's CPU over the floor (the floor client and the simulators) per notification; compare it with the daemon's CPU plus the harness's over herald's phase below.</p>
<table id="floor"><tr><th>vendor</th><th>client</th><th>in flight</th><th>batch</th><th>sent</th><th>accepted</th><th>errors</th><th>seconds</th><th>floor/s</th><th>herald/s</th><th>herald/floor</th><th>floor CPU µs/notif</th></tr>
{{range .R.Floor}}<tr><td>{{.Vendor}}</td><td>{{.Client}}</td><td>{{.Concurrency}}</td><td>{{.BatchSize}}</td><td>{{.Sent}}</td><td>{{.Accepted}}</td><td>{{.Errors}}</td><td>{{num .Seconds}}</td><td>{{dash .PerSecond 0}}</td><td>{{dash .HeraldPerSecond 0}}</td><td>{{ratio .Ratio}}</td><td>{{dash .CPUMicrosPerNotification 1}}</td></tr>
{{end}}</table>{{end}}
{{with .R.Process}}<h2>Daemon process</h2>
<table class="kv" id="process">
<tr><td>measured</td><td>{{.Label}}, pid {{.PID}}</td></tr>
<tr><td>CPU</td><td>{{num .CPUSeconds}} s over {{num .Seconds}} s ({{num .CPUCores}} cores; user {{num .UserSeconds}} s, system {{num .SystemSeconds}} s)</td></tr>
<tr><td>CPU per notification</td><td>{{num .CPUMicrosPerNotification}} µs ({{.Notifications}} notifications)</td></tr>
{{if eq .Scope "daemon"}}<tr><td>harness CPU per notification</td><td>{{num .HarnessCPUMicrosPerNotification}} µs ({{num .HarnessCPUSeconds}} s in the harness: simulators, load generator, counting)</td></tr>{{end}}
{{if .Messages}}<tr><td>CPU per accepted message</td><td>{{num .CPUMicrosPerMessage}} µs ({{.Messages}} messages)</td></tr>{{end}}
<tr><td>peak RSS (VmHWM)</td><td>{{mib .PeakRSSBytes}} MiB</td></tr>
<tr><td>highest sampled RSS</td><td>{{mib .SampledPeakRSSBytes}} MiB</td></tr>
</table>
{{$.RSS}}{{end}}
{{with .R.Ramp}}<h2>Ramp: the knee</h2>
<p class="note">{{.Spec}}: each step {{num .StepWarmupS}} s warm-up then {{num .StepSeconds}} s measured, open loop. A step is within the knee when its accepted rate (2xx answers received in the measured part, per second) is at least {{num (pct .MinAccepted)}} % of the offered rate and its accept p99 (intended send → 2xx) is at most {{num .MaxP99MS}} ms; the knee is the highest such step. The raw fasthttp server answers the same POST /v1/messages with a fixed 202 and no work, driven by the same load generator right after herald's ramp. A target's ramp stops after {{.StopAfter}} steps in a row outside the knee.</p>
<table class="kv" id="knee">{{range .Targets}}<tr><td>{{.Name}} ({{.Process}}, pid {{.PID}})</td><td>{{knee .}}</td></tr>{{end}}
{{if gt (len .Targets) 1}}<tr><td>herald/raw</td><td>{{ratio .KneeRatio}}</td></tr>{{end}}</table>
{{$.RampRate}}
{{$.RampP99}}
<table id="ramp"><tr><th>target</th><th>offered/s</th><th>accepted/s</th><th>accepted %</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>errors</th><th>drain s</th><th>i2s p99 ms</th><th>CPU µs/msg</th><th>cores</th><th>harness cores</th><th>knee</th></tr>
{{range .Targets}}{{$t := .}}{{range .Steps}}<tr><td>{{$t.Name}}</td><td>{{num .Offered}}</td><td>{{dash .AcceptedPerSecond 0}}</td><td>{{num (pct .AcceptedRatio)}}</td><td>{{num .AcceptP50MS}}</td><td>{{num .AcceptP99MS}}</td><td>{{num .AcceptP999MS}}</td><td>{{.Errors}}</td><td>{{dash .DrainSeconds 3}}</td><td>{{dash .DeliveryP99MS 3}}</td><td>{{dash .CPUMicrosPerMessage 1}}</td><td>{{dash .CPUCores 2}}</td><td>{{dash .HarnessCores 2}}</td><td>{{if .WithinKnee}}ok{{else}}<span class="fail">out</span>{{end}}</td></tr>
{{end}}{{end}}</table>{{end}}
{{with .R.Memory}}<h2>Memory</h2>
<p class="note">{{.Scope}} pid {{.PID}}: {{.Users}} users registered, {{.ActiveUsers}} made active (presence online; users.idle_timeout {{.IdleTimeout}}), a group message to {{.GroupSize}}. VmRSS from /proc, heap in use (go_memstats_heap_inuse_bytes) and live user actors (herald_user_actors_active) from GET /metrics, every {{num .IntervalS}} s. Baseline RSS {{mib .Baseline.RSSBytes}} MiB; peak (VmHWM) {{mib .PeakRSSBytes}} MiB.</p>
<table id="memory-phases"><tr><th>phase</th><th>end s</th><th>RSS MiB</th><th>peak in phase MiB</th><th>VmHWM MiB</th><th>heap in use MiB</th><th>user actors</th></tr>
{{range .Phases}}<tr><td title="{{.Description}}">{{.Name}}</td><td>{{num .EndS}}</td><td>{{mib .RSSBytes}}</td><td>{{mib .PeakRSSBytes}}</td><td>{{mib .HWMBytes}}</td><td>{{if ge .HeapInuseBytes 0}}{{mib .HeapInuseBytes}}{{else}}n/a{{end}}</td><td>{{.UserActorsActive}}</td></tr>
{{end}}</table>
{{range .Phases}}<p class="note"><b>{{.Name}}</b>: {{.Description}}</p>{{end}}
{{$.Memory}}
{{$.Actors}}{{end}}
{{with .R.Outage}}<h2>Outage</h2>
<p class="note">{{.Vendor}}'s simulator answered every request with the vendor's transient failure from {{num .StartS}} s to {{num .EndS}} s after the group message's 2xx (planned: {{num .AfterS}} s + {{num .Seconds}} s). Herald's breaker states come from GET /v1/stats polled every {{num .PollS}} s.</p>
<table class="kv" id="outage">
<tr><td>requests it got while down</td><td>{{.Requests}} (what the circuit breaker should allow: {{if .RequestBound}}{{.RequestBound}}, {{if .WithinBound}}within{{else}}<span class="fail">above</span>{{end}}{{else}}unknown{{end}}; max_in_flight {{.MaxInFlight}}, {{.Probes}} probe periods)</td></tr>
<tr><td>breaker opened</td><td>{{.BreakerOpened}} times</td></tr>
<tr><td>{{.Vendor}} notifications</td><td>{{.Expected}} owed: {{.DeliveredBefore}} before, {{.DeliveredDuring}} during, {{.DeliveredAfter}} after the outage; the last {{num .RecoverySeconds}} s after it ended</td></tr>
<tr><td>dead letters</td><td>{{range .DeadLetters}}{{.Vendor}} {{.Count}} {{end}}</td></tr>
</table>
{{if .Transitions}}<table id="breaker"><tr><th>t (s after the 2xx)</th><th>vendor</th><th>from</th><th>to</th></tr>
{{range .Transitions}}<tr><td>{{num .Seconds}}</td><td>{{.Vendor}}</td><td>{{.From}}</td><td>{{.To}}</td></tr>
{{end}}</table>{{end}}{{end}}
{{with .R.Overload}}<h2>Overload</h2>
<table class="kv" id="overload">
<tr><td>offered</td><td>{{num .OfferedPerSecond}} messages/s open loop, ×{{num .Factor}} the vendors' sustainable {{num .SustainablePerSecond}}/s; {{.Sent}} of {{.Scheduled}} scheduled requests sent, answered at {{num .AnsweredPerSecond}}/s</td></tr>
<tr><td>answers</td><td>{{.Accepted}} accepted (2xx), {{.Overloaded}} 503 overloaded ({{.OverloadedRetryAfter}} with Retry-After), {{range .OtherStatus}}{{.Status}} ×{{.Count}} {{end}}{{.Failed}} without an answer</td></tr>
<tr><td>by message id</td><td>{{.AcceptedLost}} accepted never delivered, {{.RefusedDelivered}} refused delivered</td></tr>
<tr><td>daemon peak RSS</td><td>{{if .RSSChecked}}{{mib .PeakRSSBytes}} MiB (max_rss {{mib .MaxRSSBytes}} MiB){{else}}not checked{{end}}; runtime.memory_limit {{mib .MemoryLimitBytes}} MiB</td></tr>
</table>{{end}}
{{with .R.Crash}}<h2>Crash</h2>
<p class="note">The child daemon was killed with SIGKILL {{len .Kills}} times (of {{.KillsPlanned}} planned; seed {{.Seed}}: --seed {{.Seed}} repeats the moments) during a group fan-out of {{.GroupOwed}} notifications and open-loop peer load, and started again each time on the same config, data dir and port. A kill falls when the group's notifications counted reach its planned share of them. Everything is counted at the simulators, which outlive every kill, by message id and device.</p>
<table class="kv" id="crash">
<tr><td>lost</td><td>{{if .Passed}}<span class="pass">0</span>{{else}}<span class="fail">{{.Lost}}</span>{{end}} of {{.Owed}} owed (group {{.GroupLost}} of {{.GroupOwed}}, peer {{.PeerLost}} of {{.PeerOwed}})</td></tr>
<tr><td>duplicates</td><td>{{.Duplicates}}: {{range .DuplicatesByVendor}}{{.Vendor}} {{.Count}} {{end}}</td></tr>
<tr><td>peer messages</td><td>{{num .PeerRate}}/s: {{.PeerSent}} sent, {{.PeerAccepted}} accepted (2xx), {{.PeerRefusedWhileDown}} refused while down, {{.PeerFailedWhileUp}} failed while up, {{.PeerUnansweredDelivered}} refused but delivered anyway</td></tr>
<tr><td>fan-out</td><td>{{.KillsDuringFanout}} kills during it; its last notification {{num .FanoutSeconds}} s after the 2xx</td></tr>
<tr><td>daemon</td><td>{{.Lives}} lives, peak RSS {{mib .PeakRSSBytes}} MiB</td></tr>
</table>
<table id="kills"><tr><th>kill</th><th>at s (after the 2xx)</th><th>planned share</th><th>group counted</th><th>pid</th><th>life s</th><th>peak RSS MiB</th><th>restart s (to /readyz)</th><th>peer refused</th></tr>
{{range $i, $k := .Kills}}<tr><td>{{inc $i}}</td><td>{{num .AtS}}</td><td>{{num .Fraction}}</td><td>{{.GroupCounted}}</td><td>{{.PID}}</td><td>{{num .LifeS}}</td><td>{{mib .PeakRSSBytes}}</td><td>{{num .RestartS}}</td><td>{{.PeerRefused}}</td></tr>
{{end}}</table>{{end}}
{{with .R.Soak}}<h2>Soak</h2>
<p class="note">{{.Scope}} pid {{.PID}}: VmRSS from /proc and goroutines (go_goroutines) from GET /metrics every {{num .IntervalS}} s, {{.SampleCount}} samples. A series is flat when the highest value sampled in the last third of the measured phase ({{num .LastThirdStartS}} s to {{num .MeasureEndS}} s) is at most the highest sampled in its first third ({{num .MeasureStartS}} s, the warm-up's end, to {{num .FirstThirdEndS}} s) × (1 + tolerance).</p>
<table id="soak"><tr><th>series</th><th>first third max</th><th>last third max</th><th>tolerance</th><th>bound</th><th>growth</th><th>verdict</th></tr>
<tr><td title="RSS minus Pebble's block cache and memtables (capped by cache_size and memtable_size): the memory verdict">RSS outside Pebble's cache and memtables (MiB)</td><td>{{mib .RSSOutsideStore.FirstThirdMax}}</td><td>{{mib .RSSOutsideStore.LastThirdMax}}</td><td>{{num .RSSOutsideStore.Tolerance}}</td><td>{{mib .RSSOutsideStore.Bound}}</td><td>{{num .RSSOutsideStore.Growth}}</td><td>{{flat .RSSOutsideStore}}</td></tr>
<tr><td title="for the record; decides only when Pebble's memory is not reported">RSS (MiB)</td><td>{{mib .RSS.FirstThirdMax}}</td><td>{{mib .RSS.LastThirdMax}}</td><td>{{num .RSS.Tolerance}}</td><td>{{mib .RSS.Bound}}</td><td>{{num .RSS.Growth}}</td><td>{{flat .RSS}}</td></tr>
<tr><td>goroutines</td><td>{{.Goroutines.FirstThirdMax}}</td><td>{{.Goroutines.LastThirdMax}}</td><td>{{num .Goroutines.Tolerance}}</td><td>{{.Goroutines.Bound}}</td><td>{{num .Goroutines.Growth}}</td><td>{{flat .Goroutines}}</td></tr>
</table>
{{$.SoakMemory}}
{{$.SoakGoroutines}}{{end}}
{{if .R.Failures}}<h2>Failed checks</h2><ul>{{range .R.Failures}}<li class="fail">{{.}}</li>{{end}}</ul>{{end}}
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes the self-contained HTML report (inline SVG, no
// scripts, no external assets).
func (r *Report) WriteHTML(w io.Writer) error {
	var rss string
	if r.Process != nil {
		rss = rssSVG(r.Process)
	}
	var rampRate, rampP99, mem, actors string
	if r.Ramp != nil {
		rampRate, rampP99 = rampSVGs(r.Ramp)
	}
	if r.Memory != nil {
		mem, actors = memorySVGs(r.Memory)
	}
	var soakMem, soakGo string
	if r.Soak != nil {
		soakMem, soakGo = soakSVGs(r.Soak)
	}
	return htmlTmpl.Execute(w, struct {
		R                                                           *Report
		Throughput, Latency, RSS, RampRate, RampP99, Memory, Actors template.HTML
		SoakMemory, SoakGoroutines                                  template.HTML
	}{r, template.HTML(throughputSVG(r.Timeline)), template.HTML(latencySVG(r.Latencies)), template.HTML(rss),
		template.HTML(rampRate), template.HTML(rampP99), template.HTML(mem), template.HTML(actors),
		template.HTML(soakMem), template.HTML(soakGo)})
}

// WriteHTMLFile writes the HTML report to path.
func (r *Report) WriteHTMLFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.WriteHTML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// linearAxis is a linear axis from 0 to max rounded up to a nice value.
func linearAxis(top float64) axis {
	a := axis{max: niceCeil(top), label: func(v float64) string { return fmtNum(round3(v)) }}
	a.ticks = linearTicks(a.max)
	return a
}
