package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/configs"
	benchfiles "github.com/herald-push/herald/configs/bench"
	"github.com/herald-push/herald/vendors"
	"go.yaml.in/yaml/v3"
)

// Scenarios are the scenario names, each with a file in configs/bench.
var Scenarios = []string{"fanout", "peer", "calls", "mixed", "memory", "outage", "overload", "crash", "soak"}

// Scenario is one benchmark's parameters: a file in configs/bench
// (NAME.yaml, embedded in the binary) or --scenario-file, then flags.
type Scenario struct {
	Name        string `yaml:"scenario" json:"scenario"`
	Description string `yaml:"description" json:"description"`

	// Users registered for the measured traffic (mixed: the stable,
	// always-offline pool; calls: the fan-out's group).
	Users          int `yaml:"users" json:"users"`
	DevicesPerUser int `yaml:"devices_per_user" json:"devices_per_user"`
	// VendorShares weighs the vendor kinds of the devices (apns fcm huawei
	// xiaomi oppo vivo web); a kind left out gets none.
	VendorShares map[string]float64 `yaml:"vendor_shares" json:"vendor_shares"`
	Conns        int                `yaml:"conns" json:"conns"`                 // load generator's connection pool
	SetupWorkers int                `yaml:"setup_workers" json:"setup_workers"` // registration requests in flight
	WarmupUsers  int                `yaml:"warmup_users" json:"warmup_users"`   // fanout, calls: a warm-up group of this size gets one message first

	Rate     float64  `yaml:"rate" json:"rate"`         // peer, mixed: peer messages/s; 0 = closed loop as fast as conns allow
	Duration Duration `yaml:"duration" json:"duration"` // measured load phase
	Warmup   Duration `yaml:"warmup" json:"warmup"`     // load before the measured phase, not measured
	Timeout  Duration `yaml:"timeout" json:"timeout"`   // longest wait for the simulators to count everything
	Settle   Duration `yaml:"settle" json:"settle"`     // wait after everything is counted, for duplicates

	CallRate float64 `yaml:"call_rate" json:"call_rate"` // calls: invitations/s during the fan-out

	Groups     int     `yaml:"groups" json:"groups"`         // mixed: groups made from the stable pool
	GroupSize  int     `yaml:"group_size" json:"group_size"` // mixed: members per group
	GroupRate  float64 `yaml:"group_rate" json:"group_rate"` // mixed: group messages/s
	ChurnUsers int     `yaml:"churn_users" json:"churn_users"`
	ChurnRate  float64 `yaml:"churn_rate" json:"churn_rate"`   // mixed: presence requests/s
	ChurnBatch int     `yaml:"churn_batch" json:"churn_batch"` // mixed: updates per presence request

	// Ramp (peer) is "FROM:TO:xF" or "FROM:TO:+S": steps of open-loop
	// rate from FROM to TO messages/s, each StepWarmup then StepDuration,
	// herald's and then a raw fasthttp server's, to find each one's knee
	// (see ramp.go); "" = one steady rate.
	Ramp         string   `yaml:"ramp" json:"ramp"`
	StepDuration Duration `yaml:"step_duration" json:"step_duration"` // ramp: measured part of each step
	StepWarmup   Duration `yaml:"step_warmup" json:"step_warmup"`     // ramp: unmeasured start of each step
	KneeP99      Duration `yaml:"knee_p99" json:"knee_p99"`           // ramp: a step within the knee has accept p99 <= this

	// ActiveUsers (memory) are the users made active (presence online)
	// after registration; GroupSize is then the fan-out's group.
	ActiveUsers int `yaml:"active_users" json:"active_users"`

	// OutageVendor (outage) is the vendor whose simulator goes down for
	// Outage, starting OutageAfter after the group message's 2xx.
	OutageVendor string   `yaml:"outage_vendor" json:"outage_vendor"`
	Outage       Duration `yaml:"outage" json:"outage"`
	OutageAfter  Duration `yaml:"outage_after" json:"outage_after"`

	// MaxRSS (overload) bounds the child daemon's peak RSS: above it the
	// run fails; 0 = not checked.
	MaxRSS configs.ByteSize `yaml:"max_rss" json:"max_rss"`

	// Kills (crash) is how many times the child daemon is killed with
	// SIGKILL during the fan-out and started again; Seed seeds the random
	// kill moments (0 = a random seed, reported so that the run can be
	// repeated with it).
	Kills int   `yaml:"kills" json:"kills"`
	Seed  int64 `yaml:"seed" json:"seed"`

	// SampleEvery (soak) is how often the daemon's RSS and goroutines are
	// sampled; RSSTolerance and GoroutineTolerance how much the last third
	// of the measured phase's maximum may exceed the first third's (0.1 =
	// 10 %) for the series to count as flat.
	SampleEvery        Duration `yaml:"sample_every" json:"sample_every"`
	RSSTolerance       float64  `yaml:"rss_tolerance" json:"rss_tolerance"`
	GoroutineTolerance float64  `yaml:"goroutine_tolerance" json:"goroutine_tolerance"`

	// Daemon is a herald config (keys as in configs/herald.yaml, over the
	// defaults) for the daemon the harness starts itself; --config
	// replaces it. Ignored with --target.
	Daemon yaml.Node `yaml:"daemon" json:"-"`
}

// Duration is a time.Duration written as "30s" in YAML and JSON.
type Duration time.Duration

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration string (JSON and YAML).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration string (JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like 30s", b)
	}
	*d = Duration(v)
	return nil
}

// LoadScenario returns the named scenario from the embedded files, or from
// file when it is set.
func LoadScenario(name, file string) (Scenario, error) {
	var data []byte
	var err error
	source := file
	if file != "" {
		data, err = os.ReadFile(file)
	} else {
		source = "configs/bench/" + name + ".yaml"
		data, err = fs.ReadFile(benchfiles.Files, name+".yaml")
		if errors.Is(err, fs.ErrNotExist) {
			return Scenario{}, fmt.Errorf("bench: unknown scenario %q: one of %s (or --scenario-file)", name, strings.Join(Scenarios, ", "))
		}
	}
	if err != nil {
		return Scenario{}, fmt.Errorf("bench: %w", err)
	}
	return ParseScenario(data, source)
}

// ParseScenario decodes a scenario file strictly (unknown keys are errors).
func ParseScenario(data []byte, source string) (Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("bench: %s: %w", source, err)
	}
	if s.Name == "" {
		return s, fmt.Errorf("bench: %s: scenario: is required (one of %s)", source, strings.Join(Scenarios, ", "))
	}
	s.defaults()
	return s, nil
}

// DaemonConfig is the configuration of the daemon the harness starts: the
// file at path when set, else the scenario's daemon section over the
// defaults. It must be in simulator mode (no vendor account).
func (s *Scenario) DaemonConfig(path string) (configs.Config, error) {
	var cfg configs.Config
	var err error
	switch {
	case path != "":
		cfg, err = configs.Load(path)
	case s.Daemon.Kind != 0:
		var b []byte
		if b, err = yaml.Marshal(&s.Daemon); err == nil {
			cfg, err = configs.Parse(b, "scenario "+s.Name+": daemon")
		}
	default:
		cfg = configs.Default()
	}
	if err != nil {
		return cfg, err
	}
	if !cfg.SimulatorMode() {
		return cfg, errors.New("bench: the daemon config names vendor accounts; the harness only starts a daemon in simulator mode (use --target to bench a deployment)")
	}
	return cfg, nil
}

// daemonYAML is the daemon's config as YAML: the file at path when set,
// else the scenario's daemon section ("" when it has none).
func (s *Scenario) daemonYAML(path string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("bench: --config: %w", err)
		}
		return b, nil
	}
	if s.Daemon.Kind == 0 {
		return nil, nil
	}
	return yaml.Marshal(&s.Daemon)
}

// defaults fills the keys a scenario file may leave out (the ramp's).
func (s *Scenario) defaults() {
	if s.StepDuration == 0 {
		s.StepDuration = Duration(5 * time.Second)
	}
	if s.StepWarmup == 0 {
		s.StepWarmup = Duration(time.Second)
	}
	if s.KneeP99 == 0 {
		s.KneeP99 = Duration(20 * time.Millisecond)
	}
}

// flagSetters apply scenario flags by name.
var flagSetters = map[string]func(s *Scenario, v string) error{
	"users":            intSetter(func(s *Scenario) *int { return &s.Users }),
	"devices-per-user": intSetter(func(s *Scenario) *int { return &s.DevicesPerUser }),
	"conns":            intSetter(func(s *Scenario) *int { return &s.Conns }),
	"setup-workers":    intSetter(func(s *Scenario) *int { return &s.SetupWorkers }),
	"warmup-users":     intSetter(func(s *Scenario) *int { return &s.WarmupUsers }),
	"rate":             floatSetter(func(s *Scenario) *float64 { return &s.Rate }),
	"duration":         durSetter(func(s *Scenario) *Duration { return &s.Duration }),
	"warmup":           durSetter(func(s *Scenario) *Duration { return &s.Warmup }),
	"timeout":          durSetter(func(s *Scenario) *Duration { return &s.Timeout }),
	"settle":           durSetter(func(s *Scenario) *Duration { return &s.Settle }),
	"call-rate":        floatSetter(func(s *Scenario) *float64 { return &s.CallRate }),
	"groups":           intSetter(func(s *Scenario) *int { return &s.Groups }),
	"group-size":       intSetter(func(s *Scenario) *int { return &s.GroupSize }),
	"group-rate":       floatSetter(func(s *Scenario) *float64 { return &s.GroupRate }),
	"churn-users":      intSetter(func(s *Scenario) *int { return &s.ChurnUsers }),
	"churn-rate":       floatSetter(func(s *Scenario) *float64 { return &s.ChurnRate }),
	"churn-batch":      intSetter(func(s *Scenario) *int { return &s.ChurnBatch }),
	"ramp": func(s *Scenario, v string) error {
		if _, err := ParseRamp(v); err != nil && v != "" {
			return err
		}
		s.Ramp = v
		return nil
	},
	"step-duration": durSetter(func(s *Scenario) *Duration { return &s.StepDuration }),
	"step-warmup":   durSetter(func(s *Scenario) *Duration { return &s.StepWarmup }),
	"knee-p99":      durSetter(func(s *Scenario) *Duration { return &s.KneeP99 }),
	"active-users":  intSetter(func(s *Scenario) *int { return &s.ActiveUsers }),
	"outage-vendor": func(s *Scenario, v string) error { s.OutageVendor = v; return nil },
	"outage":        durSetter(func(s *Scenario) *Duration { return &s.Outage }),
	"outage-after":  durSetter(func(s *Scenario) *Duration { return &s.OutageAfter }),
	"max-rss": func(s *Scenario, v string) error {
		b, err := configs.ParseByteSize(v)
		if err == nil {
			s.MaxRSS = b
		}
		return err
	},
	"kills": intSetter(func(s *Scenario) *int { return &s.Kills }),
	"seed": func(s *Scenario, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		s.Seed = n
		return nil
	},
	"sample-every":        durSetter(func(s *Scenario) *Duration { return &s.SampleEvery }),
	"rss-tolerance":       floatSetter(func(s *Scenario) *float64 { return &s.RSSTolerance }),
	"goroutine-tolerance": floatSetter(func(s *Scenario) *float64 { return &s.GoroutineTolerance }),
	"shares": func(s *Scenario, v string) error {
		m, err := ParseShares(v)
		if err == nil {
			s.VendorShares = m
		}
		return err
	},
}

// flagHelp documents the scenario flags.
var flagHelp = map[string]string{
	"users":               "users registered for the measured traffic",
	"devices-per-user":    "devices (push tokens) per user",
	"conns":               "connections in the load generator's fixed pool",
	"setup-workers":       "registration requests in flight during setup",
	"warmup-users":        "fanout, calls: size of the warm-up group messaged first (not measured)",
	"rate":                "peer, mixed: peer messages per second, open loop (0 = closed loop, as fast as --conns allow)",
	"duration":            "measured load phase, e.g. 30s",
	"warmup":              "load before the measured phase, not measured, e.g. 5s",
	"timeout":             "longest wait for the simulators to count every notification",
	"settle":              "wait after everything is counted, to catch duplicates",
	"call-rate":           "calls: call invitations per second during the fan-out",
	"groups":              "mixed: number of groups",
	"group-rate":          "mixed: group messages per second",
	"churn-users":         "mixed: users whose presence churns",
	"churn-rate":          "mixed: presence requests per second",
	"churn-batch":         "mixed: updates per presence request",
	"shares":              "vendor mix, e.g. apns=30,fcm=30,huawei=10,xiaomi=10,oppo=10,vivo=5,web=5",
	"ramp":                "peer: find the knee: open-loop steps FROM:TO:xFACTOR (geometric) or FROM:TO:+STEP (linear) messages/s, herald's then a raw fasthttp server's (e.g. 1000:20000:x1.5)",
	"step-duration":       "ramp: measured part of each step, e.g. 5s",
	"step-warmup":         "ramp: unmeasured start of each step, e.g. 1s",
	"knee-p99":            "ramp: a step is within the knee when accepted/s >= 95% of offered and accept p99 <= this, e.g. 20ms",
	"active-users":        "memory: users made active (presence online) after registration",
	"outage-vendor":       "outage: the vendor whose simulator goes down (apns fcm huawei xiaomi oppo vivo web)",
	"outage":              "outage: how long the vendor's simulator stays down, e.g. 5m",
	"outage-after":        "outage: when it goes down, counted from the group message's 2xx, e.g. 1s",
	"max-rss":             "overload: the child daemon's peak RSS above which the run fails, e.g. 512MiB (0 = not checked)",
	"group-size":          "mixed: members per group; memory: the fan-out group (0 = no fan-out)",
	"kills":               "crash: how many times the child daemon is killed (SIGKILL) during the fan-out and restarted",
	"seed":                "crash: seed of the random kill moments (0 = a random one, printed in the report: repeat a run with it)",
	"sample-every":        "soak: how often the daemon's RSS and goroutines are sampled, e.g. 5s",
	"rss-tolerance":       "soak: RSS is flat when the last third's max is at most the first third's max × (1 + this), e.g. 0.1",
	"goroutine-tolerance": "soak: goroutines are flat when the last third's max is at most the first third's max × (1 + this), e.g. 0.1",
}

func intSetter(f func(*Scenario) *int) func(*Scenario, string) error {
	return func(s *Scenario, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*f(s) = n
		return nil
	}
}

func floatSetter(f func(*Scenario) *float64) func(*Scenario, string) error {
	return func(s *Scenario, v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*f(s) = n
		return nil
	}
}

func durSetter(f func(*Scenario) *Duration) func(*Scenario, string) error {
	return func(s *Scenario, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 30s", v)
		}
		*f(s) = Duration(d)
		return nil
	}
}

// ParseShares reads "apns=30,fcm=30,…" into vendor weights.
func ParseShares(v string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, w, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want vendor=weight", part)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil {
			return nil, fmt.Errorf("%q: weight is not a number", part)
		}
		out[strings.TrimSpace(k)] = f
	}
	return out, nil
}

// Validate returns every problem with the parameters at once.
func (s *Scenario) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	known := false
	for _, n := range Scenarios {
		known = known || n == s.Name
	}
	if !known {
		bad("scenario: %q is not one of %s", s.Name, strings.Join(Scenarios, ", "))
	}
	if s.Users < 1 || s.Users > 10_000_000 {
		bad("users: %d must be 1 to 10000000", s.Users)
	}
	if s.DevicesPerUser < 1 || s.DevicesPerUser > 10 {
		bad("devices_per_user: %d must be 1 to 10", s.DevicesPerUser)
	}
	if s.Conns < 1 || s.Conns > 4096 {
		bad("conns: %d must be 1 to 4096", s.Conns)
	}
	if s.SetupWorkers < 1 || s.SetupWorkers > 64 {
		bad("setup_workers: %d must be 1 to 64", s.SetupWorkers)
	}
	if s.WarmupUsers < 0 {
		bad("warmup_users: %d must be >= 0", s.WarmupUsers)
	}
	total := 0.0
	for k, w := range s.VendorShares {
		if _, ok := vendors.ParseKind(k); !ok {
			bad("vendor_shares: unknown vendor %q (one of %s)", k, vendors.KindList())
		}
		if w < 0 {
			bad("vendor_shares.%s: %g must be >= 0", k, w)
		}
		total += w
	}
	if total <= 0 {
		bad("vendor_shares: at least one vendor needs a positive share")
	}
	if s.Rate < 0 || s.CallRate < 0 || s.GroupRate < 0 || s.ChurnRate < 0 {
		bad("rate, call_rate, group_rate and churn_rate must be >= 0")
	}
	if s.Timeout.Std() <= 0 {
		bad("timeout: must be > 0")
	}
	if s.Duration.Std() < 0 || s.Warmup.Std() < 0 || s.Settle.Std() < 0 {
		bad("duration, warmup and settle must be >= 0")
	}
	if s.Ramp != "" && s.Name != "peer" {
		bad("ramp: only the peer scenario ramps")
	}
	switch s.Name {
	case "peer":
		if s.Duration.Std() <= 0 && s.Ramp == "" {
			bad("duration: must be > 0 for peer")
		}
		if s.Ramp != "" {
			if _, err := ParseRamp(s.Ramp); err != nil {
				bad("ramp: %v", err)
			}
			if s.StepDuration.Std() <= 0 || s.StepWarmup.Std() < 0 || s.KneeP99.Std() <= 0 {
				bad("step_duration and knee_p99 must be > 0, step_warmup >= 0")
			}
		}
	case "memory":
		if s.ActiveUsers < 0 || s.ActiveUsers > s.Users {
			bad("active_users: %d must be 0 to users (%d)", s.ActiveUsers, s.Users)
		}
		if s.GroupSize < 0 || s.GroupSize > s.Users {
			bad("group_size: %d must be 0 to users (%d)", s.GroupSize, s.Users)
		}
	case "overload":
		if s.Rate <= 0 || s.Duration.Std() <= 0 {
			bad("rate and duration must be > 0 for overload (it is open loop)")
		}
	case "outage":
		if _, ok := vendors.ParseKind(s.OutageVendor); !ok {
			bad("outage_vendor: %q is not one of %s", s.OutageVendor, vendors.KindList())
		} else if s.VendorShares[s.OutageVendor] <= 0 {
			bad("outage_vendor: %s has no share in vendor_shares, so no device would wait for it", s.OutageVendor)
		}
		if s.Outage.Std() <= 0 || s.OutageAfter.Std() < 0 {
			bad("outage must be > 0 and outage_after >= 0")
		}
	case "calls":
		if s.CallRate <= 0 {
			bad("call_rate: must be > 0 for calls")
		}
	case "crash":
		if s.Kills < 1 || s.Kills > 1000 {
			bad("kills: %d must be 1 to 1000", s.Kills)
		}
	}
	if s.Name == "mixed" || s.Name == "soak" {
		if s.Duration.Std() <= 0 {
			bad("duration: must be > 0 for %s", s.Name)
		}
		if s.Groups < 0 || s.GroupSize < 0 || s.Groups*s.GroupSize > s.Users {
			bad("groups × group_size (%d × %d) must be at most users (%d)", s.Groups, s.GroupSize, s.Users)
		}
		if s.GroupRate > 0 && (s.Groups < 1 || s.GroupSize < 1) {
			bad("group_rate needs groups and group_size >= 1")
		}
		if s.ChurnRate > 0 && (s.ChurnUsers < 1 || s.ChurnBatch < 1 || s.ChurnBatch > 1000) {
			bad("churn_rate needs churn_users >= 1 and churn_batch 1 to 1000")
		}
		if s.Rate <= 0 && s.GroupRate <= 0 && s.ChurnRate <= 0 {
			bad("rate, group_rate and churn_rate are all 0: %s would send nothing", s.Name)
		}
	}
	if s.Name == "soak" {
		if s.SampleEvery.Std() <= 0 {
			bad("sample_every: must be > 0 for soak")
		} else if s.Duration.Std() > 0 && s.SampleEvery.Std() > s.Duration.Std()/3 {
			bad("sample_every: %s is longer than a third of duration (%s): a third would hold no sample to compare", s.SampleEvery, s.Duration)
		}
		if s.RSSTolerance < 0 || s.GoroutineTolerance < 0 {
			bad("rss_tolerance and goroutine_tolerance must be >= 0")
		}
	}
	return errors.Join(errs...)
}

// vendorPlan spreads devices over the vendor kinds by their shares: the
// device with global index i gets plan[i % len(plan)], a smooth weighted
// round robin, so every prefix of the devices has about the right mix.
func vendorPlan(shares map[string]float64) []string {
	var names []string
	for k, w := range shares {
		if w > 0 {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	const n = 1000
	total := 0.0
	for _, k := range names {
		total += shares[k]
	}
	cur := make([]float64, len(names))
	plan := make([]string, 0, n)
	for len(plan) < n {
		best := 0
		for i, k := range names {
			cur[i] += shares[k] / total
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best]--
		plan = append(plan, names[best])
	}
	return plan
}
