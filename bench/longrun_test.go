package bench

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestFlatCheck: over the measured phase [10, 40] s the first third is
// [10, 20) and the last [30, 40]; a series is flat when the last third's
// max is at most the first third's × (1 + tolerance). Samples of the
// warm-up (before 10 s) and of the middle third do not count.
func TestFlatCheck(t *testing.T) {
	series := func(pairs ...float64) []MemorySample {
		var out []MemorySample
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, MemorySample{Seconds: pairs[i], RSSBytes: int64(pairs[i+1])})
		}
		return out
	}
	rss := func(s MemorySample) (int64, bool) { return s.RSSBytes, s.RSSBytes > 0 }
	for _, c := range []struct {
		name          string
		samples       []MemorySample
		tol           float64
		first, last   int64
		nFirst, nLast int
		checked, flat bool
	}{
		{"flat", series(10, 100, 15, 104, 25, 300, 30, 101, 39, 103), 0.1, 104, 103, 2, 2, true, true},
		{"warm-up peak ignored", series(2, 500, 10, 100, 31, 108), 0.1, 100, 108, 1, 1, true, true},
		{"growing", series(10, 100, 19, 100, 35, 111), 0.1, 100, 111, 2, 1, true, false},
		{"at the bound", series(10, 100, 40, 110), 0.1, 100, 110, 1, 1, true, true},
		{"one above it", series(10, 100, 40, 111), 0.1, 100, 111, 1, 1, true, false},
		{"after the phase ignored", series(10, 100, 40, 100, 41, 900), 0, 100, 100, 1, 1, true, true},
		{"no last third", series(10, 100, 25, 100), 0.1, 100, -1, 1, 0, false, false},
		{"no value", series(10, 0, 35, 0), 0.1, -1, -1, 0, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := flatCheck(c.samples, 10, 40, c.tol, rss)
			if f.FirstThirdMax != c.first || f.LastThirdMax != c.last || f.FirstThirdSamples != c.nFirst || f.LastThirdSamples != c.nLast ||
				f.Checked != c.checked || f.Flat != c.flat || f.Tolerance != c.tol {
				t.Fatalf("%+v", f)
			}
			if f.Checked && (f.Bound != int64(float64(c.first)*(1+c.tol)) || f.Growth != round3(float64(c.last)/float64(c.first)-1)) {
				t.Fatalf("bound %d growth %v for %+v", f.Bound, f.Growth, f)
			}
		})
	}
}

// TestCrashPlan: the kill moments are a function of the seed alone,
// increasing, within [0.05, 0.95].
func TestCrashPlan(t *testing.T) {
	a, b, other := crashPlan(42, 10), crashPlan(42, 10), crashPlan(43, 10)
	if !slices.Equal(a, b) {
		t.Fatalf("seed 42 twice: %v and %v", a, b)
	}
	if slices.Equal(a, other) {
		t.Fatalf("seeds 42 and 43 gave the same plan %v", a)
	}
	if len(a) != 10 || !slices.IsSorted(a) || a[0] < crashFirst || a[9] > crashFirst+crashSpan {
		t.Fatalf("plan %v", a)
	}
}

// TestLongRunScenarioValidation: the crash and soak keys are checked,
// each problem named.
func TestLongRunScenarioValidation(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(s *Scenario)
	}{
		{"crash", "kills: 0 must be 1 to 1000", func(s *Scenario) { s.Kills = 0 }},
		{"soak", "sample_every: must be > 0", func(s *Scenario) { s.SampleEvery = 0 }},
		{"soak", "longer than a third of duration", func(s *Scenario) { s.SampleEvery = s.Duration }},
		{"soak", "rss_tolerance and goroutine_tolerance must be >= 0", func(s *Scenario) { s.GoroutineTolerance = -0.1 }},
		{"soak", "would send nothing", func(s *Scenario) { s.Rate, s.GroupRate, s.ChurnRate = 0, 0, 0 }},
		{"soak", "duration: must be > 0 for soak", func(s *Scenario) { s.Duration = 0 }},
	} {
		sc, err := LoadScenario(c.name, "")
		if err != nil {
			t.Fatal(err)
		}
		c.edit(&sc)
		if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestCrashNeedsTheChildDaemon: the crash scenario refuses --target and
// the in-process daemon before it starts anything.
func TestCrashNeedsTheChildDaemon(t *testing.T) {
	sc, err := LoadScenario("crash", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{Scenario: sc, Target: "http://127.0.0.1:1", Sim: "https://127.0.0.1:2"})
	if err == nil || !strings.Contains(err.Error(), "not --target") {
		t.Fatalf("--target: %v", err)
	}
	_, err = Run(context.Background(), Options{Scenario: sc, Daemon: DaemonInProcess})
	if err == nil || !strings.Contains(err.Error(), "needs --daemon child") {
		t.Fatalf("in-process: %v", err)
	}
}

// TestDaemonCPUProfileNeedsTheChildDaemon: --daemon-cpuprofile is refused,
// naming what it needs, where there is no child daemon to pass it to.
func TestDaemonCPUProfileNeedsTheChildDaemon(t *testing.T) {
	sc, err := LoadScenario("peer", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Options{Scenario: sc, DaemonCPUProfile: "x.cpu", Target: "http://127.0.0.1:1", Sim: "https://127.0.0.1:2"})
	if err == nil || !strings.Contains(err.Error(), "--daemon-cpuprofile") || !strings.Contains(err.Error(), "not --target") {
		t.Fatalf("--target: %v", err)
	}
	_, err = Run(context.Background(), Options{Scenario: sc, DaemonCPUProfile: "x.cpu", Daemon: DaemonInProcess})
	if err == nil || !strings.Contains(err.Error(), "needs --daemon child") {
		t.Fatalf("in-process: %v", err)
	}
}

// TestChildConfigListen: the child's config listens where it is told
// (the first start's random port, then that port for every restart),
// whatever the daemon section said.
func TestChildConfigListen(t *testing.T) {
	b, err := childConfig([]byte("listen: 0.0.0.0:9999\nlog: {level: error}\n"), []byte("vendors: {}\n"), "/tmp/d", "127.0.0.1:4321")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Listen  string            `yaml:"listen"`
		DataDir string            `yaml:"data_dir"`
		Log     map[string]string `yaml:"log"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Listen != "127.0.0.1:4321" || doc.DataDir != "/tmp/d" || doc.Log["level"] != "warn" || doc.Log["format"] != "json" {
		t.Fatalf("%+v\n%s", doc, b)
	}
}
