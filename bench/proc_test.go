package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses: fields count from the
	// last ')'. utime = 1234 ticks, stime = 56 ticks.
	stat := "4242 (herald (serve) x) S 1 4242 4242 0 -1 4194560 12345 0 0 0 1234 56 0 0 20 0 9 0 777 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	c, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if c.User != 12340*time.Millisecond || c.System != 560*time.Millisecond || c.total() != 12900*time.Millisecond {
		t.Fatalf("got %+v", c)
	}
	for _, bad := range []string{"", "4242 herald S 1", "4242 (herald) S 1 2 3", "4242 (herald) S 1 4242 4242 0 -1 4194560 12345 0 0 0 x 56 0"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	status := strings.Join([]string{
		"Name:\therald",
		"VmPeak:\t 2000000 kB",
		"VmHWM:\t  150000 kB",
		"VmRSS:\t  120000 kB",
		"Threads:\t9",
	}, "\n")
	m, err := parseProcStatus([]byte(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM != 150000<<10 || m.RSS != 120000<<10 {
		t.Fatalf("got %+v", m)
	}
	if _, err := parseProcStatus([]byte("Name:\tx\nVmRSS:\t 1 kB\n")); err == nil {
		t.Error("no VmHWM: want an error")
	}
	if _, err := parseProcStatus([]byte("VmRSS:\t 1 MB\nVmHWM:\t 1 kB\n")); err == nil {
		t.Error("a unit other than kB: want an error")
	}
}

// TestProcSelf reads this process's files: the parsers accept what the
// kernel writes, and the watch reports what it measured.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Fatalf("the daemon's CPU and RSS are read from /proc: %v", err)
	}
	w, err := watchProc(newProc(0), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little CPU so there is something to measure (not timed).
	x := 0
	for i := range 20_000_000 {
		x ^= i
	}
	_ = x
	var r ProcessReport
	if err := w.stop(&r); err != nil {
		t.Fatal(err)
	}
	if r.PeakRSSBytes <= 0 || r.SampledPeakRSSBytes <= 0 || r.SampledPeakRSSBytes > r.PeakRSSBytes || len(r.RSSSamples) < 2 {
		t.Fatalf("memory: %+v", r)
	}
	if d := r.CPUSeconds - (r.UserSeconds + r.SystemSeconds); r.CPUSeconds < 0 || d > 0.002 || d < -0.002 {
		t.Fatalf("cpu: %+v", r)
	}
	r.perNotification(1000)
	if r.Notifications != 1000 || r.CPUMicrosPerNotification != round3(r.CPUSeconds*1000) {
		t.Fatalf("per notification: %+v", r)
	}
}

func TestThinSamples(t *testing.T) {
	var s []RSSSample
	for i := range 1001 {
		s = append(s, RSSSample{Seconds: float64(i), Bytes: int64(i)})
	}
	out := thinSamples(s, 11)
	if len(out) != 11 || out[0].Bytes != 0 || out[10].Bytes != 1000 || out[5].Bytes != 500 {
		t.Fatalf("%+v", out)
	}
	if len(thinSamples(s[:3], 11)) != 3 {
		t.Fatal("short input must be kept whole")
	}
}
