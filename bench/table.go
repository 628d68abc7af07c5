package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report for a person.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	p("herald bench: %s\t%s", r.Scenario, verdict)
	p("machine\t%s, %d cores, GOMAXPROCS %d, %s %s/%s", r.Machine.CPUModel, r.Machine.Cores, r.Machine.GOMAXPROCS, r.Machine.GoVersion, r.Machine.OS, r.Machine.Arch)
	p("herald\t%s", r.Herald)
	p("target\t%s %s (daemon %s, simulators %s), %d connections", r.Target.Mode, r.Target.URL, r.Target.Daemon, r.Target.SimURL, r.Target.Conns)
	p("setup\t%d users, %d devices, %d groups in %.2fs (%.0f devices/s)", r.Setup.Users, r.Setup.Devices, r.Setup.Groups, r.Setup.Seconds, r.Setup.DevicesPerSecond)
	p("run\t%.2fs in all", r.WallSeconds)
	if r.Error != "" {
		p("error\t%s", r.Error)
	}
	p("")
	p("metric\tvalue\tunit")
	for _, m := range r.Metrics {
		p("%s\t%s\t%s", m.Name, fmtNum(m.Value), m.Unit)
	}
	p("")
	p("vendor\texpected\tunique\tlost\tduplicates\trejected\trequests\therald sent\tretried\tfailed\therald/s\tfloor/s\therald/floor")
	for _, v := range r.Vendors {
		p("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s", v.Vendor, v.Expected, v.Unique, max(v.Expected-v.Unique, 0), v.Duplicates, v.Rejected, v.Requests, v.HeraldSent, v.HeraldRetried, v.HeraldFailed,
			dash(v.PerSecond, 0), dash(v.FloorPerSecond, 0), ratio(v.FloorRatio))
	}
	t := r.Totals
	p("total\t%d\t%d\t%d\t%d\t%d\t%d", t.Expected, t.Unique, t.Lost, t.Duplicates, t.Rejected, t.Requests)
	if len(r.Floor) > 0 {
		p("")
		p("floor\tclient\tin flight\tbatch\tsent\taccepted\terrors\tseconds\tfloor/s\therald/s\therald/floor\tfloor cpu µs/notif")
		for _, f := range r.Floor {
			p("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s", f.Vendor, f.Client, f.Concurrency, f.BatchSize, f.Sent, f.Accepted, f.Errors,
				fmtNum(f.Seconds), dash(f.PerSecond, 0), dash(f.HeraldPerSecond, 0), ratio(f.Ratio), dash(f.CPUMicrosPerNotification, 0))
		}
	}
	if pr := r.Process; pr != nil {
		p("")
		p("process\t%s, pid %d", pr.Label, pr.PID)
		p("cpu\t%ss over %ss (%s cores; user %ss, system %ss): %s µs per notification (%d notifications)",
			fmtNum(pr.CPUSeconds), fmtNum(pr.Seconds), fmtNum(pr.CPUCores), fmtNum(pr.UserSeconds), fmtNum(pr.SystemSeconds), fmtNum(pr.CPUMicrosPerNotification), pr.Notifications)
		if pr.Scope == "daemon" {
			p("harness\t%ss of CPU in the harness (simulators, load generator, counting) over the same span: %s µs per notification",
				fmtNum(pr.HarnessCPUSeconds), fmtNum(pr.HarnessCPUMicrosPerNotification))
		}
		if pr.Messages > 0 {
			p("cpu/message\t%s µs per accepted message (%d messages)", fmtNum(pr.CPUMicrosPerMessage), pr.Messages)
		}
		p("memory\tpeak RSS (VmHWM) %s MiB, highest sampled in the measured phase %s MiB (%d samples)",
			mib(pr.PeakRSSBytes), mib(pr.SampledPeakRSSBytes), len(pr.RSSSamples))
	}
	if rr := r.Ramp; rr != nil {
		p("")
		p("ramp\t%s: each step %ss warm-up + %ss measured; within the knee: accepted >= %s%% of offered and accept p99 <= %s ms",
			rr.Spec, fmtNum(rr.StepWarmupS), fmtNum(rr.StepSeconds), fmtNum(rr.MinAccepted*100), fmtNum(rr.MaxP99MS))
		p("target\toffered/s\taccepted/s\taccepted %%\tp50 ms\tp99 ms\tp99.9 ms\terrors\tdrain s\ti2s p99 ms\tcpu µs/msg\tcores\tharness cores\tknee")
		for _, t := range rr.Targets {
			for _, st := range t.Steps {
				drain := "-" // the raw server owes nothing
				if t.Name == RampHerald {
					drain = fmtNum(st.DrainSeconds)
				}
				verdict := "ok"
				if !st.WithinKnee {
					verdict = "OUT"
				}
				p("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", t.Name, fmtNum(st.Offered), dash(st.AcceptedPerSecond, 0),
					fmtNum(round3(st.AcceptedRatio*100)), fmtNum(st.AcceptP50MS), fmtNum(st.AcceptP99MS), fmtNum(st.AcceptP999MS), st.Errors,
					drain, dash(st.DeliveryP99MS, 3), dash(st.CPUMicrosPerMessage, 1), dash(st.CPUCores, 2), dash(st.HarnessCores, 2), verdict)
			}
		}
		for _, t := range rr.Targets {
			p("knee\t%s", kneeText(t))
		}
		if len(rr.Targets) > 1 {
			p("knee ratio\therald/raw %s", ratio(rr.KneeRatio))
		}
	}
	if m := r.Memory; m != nil {
		p("")
		p("memory\t%s pid %d: %d users registered, %d active (idle_timeout %s), group of %d; baseline RSS %s MiB",
			m.Scope, m.PID, m.Users, m.ActiveUsers, m.IdleTimeout, m.GroupSize, mib(m.Baseline.RSSBytes))
		p("phase\tend s\tRSS MiB\tpeak in phase MiB\tVmHWM MiB\theap in use MiB\tuser actors")
		for _, ph := range m.Phases {
			p("%s\t%s\t%s\t%s\t%s\t%s\t%s", ph.Name, fmtNum(ph.EndS), mib(ph.RSSBytes), mib(ph.PeakRSSBytes), mib(ph.HWMBytes),
				orNA(ph.HeapInuseBytes, mib(ph.HeapInuseBytes)), orNA(ph.UserActorsActive, strconv.FormatInt(ph.UserActorsActive, 10)))
		}
		p("peak\tRSS (VmHWM) %s MiB, highest sampled %s MiB (%d samples every %ss)", mib(m.PeakRSSBytes), mib(m.SampledPeakRSSBytes), len(m.Samples), fmtNum(m.IntervalS))
	}
	if o := r.Outage; o != nil {
		p("")
		bound := "unknown"
		if o.RequestBound > 0 {
			bound = fmt.Sprintf("%d: %s", o.RequestBound, map[bool]string{true: "within", false: "ABOVE"}[o.WithinBound])
		}
		p("outage	%s down from %ss to %ss after the 2xx (planned %ss + %ss): %d requests reached it (breaker bound %s), breaker opened %d times",
			o.Vendor, fmtNum(o.StartS), fmtNum(o.EndS), fmtNum(o.AfterS), fmtNum(o.Seconds), o.Requests, bound, o.BreakerOpened)
		p("delivered	%s: %d before, %d during, %d after the outage (of %d); the last %ss after it ended",
			o.Vendor, o.DeliveredBefore, o.DeliveredDuring, o.DeliveredAfter, o.Expected, fmtNum(o.RecoverySeconds))
		for i, tr := range o.Transitions {
			if i == 20 {
				p("breaker	… %d more (JSON report)", len(o.Transitions)-i)
				break
			}
			p("breaker	%ss %s %s → %s", fmtNum(tr.Seconds), tr.Vendor, orDash(tr.From), tr.To)
		}
		var dl []string
		for _, d := range o.DeadLetters {
			dl = append(dl, fmt.Sprintf("%s %d", d.Vendor, d.Count))
		}
		p("dead letters	%s", strings.Join(dl, ", "))
	}
	if o := r.Overload; o != nil {
		p("")
		p("overload\toffered %s/s (x%s the vendors' sustainable %s/s): %d of %d scheduled requests sent, answered at %s/s",
			fmtNum(o.OfferedPerSecond), fmtNum(o.Factor), fmtNum(o.SustainablePerSecond), o.Sent, o.Scheduled, fmtNum(o.AnsweredPerSecond))
		p("answers\t%d accepted (2xx), %d 503 overloaded (%d with Retry-After), other status %s, %d without an answer",
			o.Accepted, o.Overloaded, o.OverloadedRetryAfter, statusText(o.OtherStatus), o.Failed)
		p("by id\t%d accepted messages never delivered, %d refused ones delivered", o.AcceptedLost, o.RefusedDelivered)
		rss := "not checked (not the daemon's own process)"
		if o.RSSChecked {
			rss = fmt.Sprintf("%s MiB (max_rss %s MiB)", mib(o.PeakRSSBytes), mib(o.MaxRSSBytes))
		}
		p("daemon RSS\tpeak %s; runtime.memory_limit %s MiB", rss, mib(o.MemoryLimitBytes))
	}
	if c := r.Crash; c != nil {
		p("")
		p("crash\t%d of %d kills (seed %d, --seed repeats them), %d during the fan-out of %d notifications (done %ss after the 2xx); %d lives",
			len(c.Kills), c.KillsPlanned, c.Seed, c.KillsDuringFanout, c.GroupOwed, fmtNum(c.FanoutSeconds), c.Lives)
		p("kill	at s	planned	group counted	pid	life s	peak RSS MiB	restart s	peer refused")
		for i, k := range c.Kills {
			p("%d	%s	%s	%d	%d	%s	%s	%s	%d", i+1, fmtNum(k.AtS), fmtNum(k.Fraction), k.GroupCounted, k.PID, fmtNum(k.LifeS), mib(k.PeakRSSBytes), fmtNum(k.RestartS), k.PeerRefused)
		}
		p("peer	%s/s: %d sent, %d accepted (2xx), %d refused while down, %d failed while up, %d refused but delivered anyway",
			fmtNum(c.PeerRate), c.PeerSent, c.PeerAccepted, c.PeerRefusedWhileDown, c.PeerFailedWhileUp, c.PeerUnansweredDelivered)
		verdict := "PASS"
		if !c.Passed {
			verdict = "LOST"
		}
		p("owed	%d (group %d, peer %d): lost %d (group %d, peer %d) %s", c.Owed, c.GroupOwed, c.PeerOwed, c.Lost, c.GroupLost, c.PeerLost, verdict)
		var dups []string
		for _, d := range c.DuplicatesByVendor {
			dups = append(dups, fmt.Sprintf("%s %d", d.Vendor, d.Count))
		}
		p("duplicates	%d (%s)", c.Duplicates, strings.Join(dups, ", "))
		p("daemon RSS	peak %s MiB over every life", mib(c.PeakRSSBytes))
	}
	if s := r.Soak; s != nil {
		p("")
		p("soak	%s pid %d, %d samples every %ss; measured %ss to %ss (first third to %ss, last third from %ss); flat = last third's max <= first third's max × (1 + tolerance)",
			s.Scope, s.PID, s.SampleCount, fmtNum(s.IntervalS), fmtNum(s.MeasureStartS), fmtNum(s.MeasureEndS), fmtNum(s.FirstThirdEndS), fmtNum(s.LastThirdStartS))
		p("series	first third max	last third max	tolerance	bound	growth	verdict")
		o := s.RSSOutsideStore
		p("RSS outside Pebble's cache+memtables MiB	%s	%s	%s	%s	%s	%s", mib(o.FirstThirdMax), mib(o.LastThirdMax), fmtNum(o.Tolerance), mib(o.Bound), fmtNum(o.Growth), soakVerdict(o))
		p("RSS MiB (for the record)	%s	%s	%s	%s	%s	%s", mib(s.RSS.FirstThirdMax), mib(s.RSS.LastThirdMax), fmtNum(s.RSS.Tolerance), mib(s.RSS.Bound), fmtNum(s.RSS.Growth), soakVerdict(s.RSS))
		g := s.Goroutines
		p("goroutines	%d	%d	%s	%d	%s	%s", g.FirstThirdMax, g.LastThirdMax, fmtNum(g.Tolerance), g.Bound, fmtNum(g.Growth), soakVerdict(g))
	}
	if len(r.Latencies) > 0 {
		p("")
		p("latency (ms)\tcount\tp50\tp90\tp99\tp99.9\tmax\tmean")
		for _, l := range r.Latencies {
			p("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", l.Name, l.Count, fmtNum(l.P50MS), fmtNum(l.P90MS), fmtNum(l.P99MS), fmtNum(l.P999MS), fmtNum(l.MaxMS), fmtNum(l.MeanMS))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	for _, f := range r.Failures {
		if _, err := fmt.Fprintf(w, "FAILED: %s\n", f); err != nil {
			return err
		}
	}
	return nil
}

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// kneeText says where a ramp target's knee is.
func kneeText(t RampTarget) string {
	switch {
	case t.KneePerSecond == 0:
		return fmt.Sprintf("%s: none (its first step was already outside the knee)", t.Name)
	case !t.LimitReached:
		return fmt.Sprintf("%s: >= %s/s (every step within the knee: not reached within the ramp), accept p99 %s ms", t.Name, fmtNum(t.KneePerSecond), fmtNum(t.KneeP99MS))
	}
	return fmt.Sprintf("%s: %s/s (accepted %s/s, accept p99 %s ms)", t.Name, fmtNum(t.KneePerSecond), fmtNum(t.KneeAccepted), fmtNum(t.KneeP99MS))
}

// orNA is s, or "n/a" when v is -1 (not available).
func orNA(v int64, s string) string {
	if v < 0 {
		return "n/a"
	}
	return s
}

// dash prints v with up to prec decimals, or "-" when it is 0 (not
// measured).
func dash(v float64, prec int) string {
	if v == 0 {
		return "-"
	}
	return fmtNum(math.Round(v*math.Pow10(prec)) / math.Pow10(prec))
}

// ratio prints a ratio with three significant digits, "-" for 0.
func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(roundSig(v, 3), 'g', -1, 64)
}

func mib(b int64) string { return fmtNum(math.Round(float64(b)/(1<<20)*10) / 10) }

// fmtNum prints a number compactly: integers without decimals, others
// with up to three.
func fmtNum(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
