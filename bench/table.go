package bench

import (
	"fmt"
	"io"
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
	p("target\t%s %s (simulators %s), %d connections", r.Target.Mode, r.Target.URL, r.Target.SimURL, r.Target.Conns)
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
	p("vendor\texpected\tunique\tlost\tduplicates\trejected\trequests\therald sent\tretried\tfailed")
	for _, v := range r.Vendors {
		p("%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d", v.Vendor, v.Expected, v.Unique, max(v.Expected-v.Unique, 0), v.Duplicates, v.Rejected, v.Requests, v.HeraldSent, v.HeraldRetried, v.HeraldFailed)
	}
	t := r.Totals
	p("total\t%d\t%d\t%d\t%d\t%d\t%d", t.Expected, t.Unique, t.Lost, t.Duplicates, t.Rejected, t.Requests)
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
	return nil
}

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
