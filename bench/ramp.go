package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// RampMinAccepted is the share of the offered rate a step's accepted rate
// must reach for the step to be within the knee.
const RampMinAccepted = 0.95

// rampStopAfter is how many consecutive steps outside the knee end a
// target's ramp (the steps above would only pile up a backlog).
const rampStopAfter = 2

// maxRampSteps bounds a ramp (each herald step is one message-id letter,
// A to Z).
const maxRampSteps = 26

// Ramp targets.
const (
	RampHerald = "herald"
	RampRaw    = "raw-fasthttp"
)

// ParseRamp reads "FROM:TO:xFACTOR" (FROM, FROM·F, FROM·F², … then TO) or
// "FROM:TO:+STEP" (FROM, FROM+S, … then TO) into the steps' rates in
// messages/s, rounded to whole numbers.
func ParseRamp(spec string) ([]float64, error) {
	parts := strings.Split(spec, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%q: want FROM:TO:xFACTOR or FROM:TO:+STEP, e.g. 1000:20000:x1.5", spec)
	}
	from, err1 := strconv.ParseFloat(parts[0], 64)
	to, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || from < 1 || to < from || math.IsInf(to, 0) {
		return nil, fmt.Errorf("%q: FROM and TO must be numbers with 1 <= FROM <= TO", spec)
	}
	op := parts[2]
	arg, err := strconv.ParseFloat(strings.TrimLeft(op, "x+"), 64)
	var next func(float64) float64
	switch {
	case err != nil || len(op) < 2:
		return nil, fmt.Errorf("%q: the step %q must be xFACTOR or +STEP", spec, op)
	case op[0] == 'x' && arg > 1:
		next = func(r float64) float64 { return r * arg }
	case op[0] == '+' && arg > 0:
		next = func(r float64) float64 { return r + arg }
	default:
		return nil, fmt.Errorf("%q: the step %q must be xFACTOR with FACTOR > 1 or +STEP with STEP > 0", spec, op)
	}
	var out []float64
	top := math.Round(to)
	for r := from; math.Round(r) < top; r = next(r) {
		if v := math.Round(r); len(out) == 0 || v > out[len(out)-1] {
			out = append(out, v)
		}
		if len(out) > maxRampSteps {
			break
		}
	}
	out = append(out, top)
	if len(out) > maxRampSteps {
		return nil, fmt.Errorf("%q: more than %d steps", spec, maxRampSteps)
	}
	return out, nil
}

// RampReport is the peer scenario's ramp: herald's steps and the raw
// fasthttp server's, and each one's knee.
type RampReport struct {
	Spec        string       `json:"spec"`
	StepSeconds float64      `json:"step_seconds"`        // measured part of each step
	StepWarmupS float64      `json:"step_warmup_seconds"` // unmeasured start of each step
	MinAccepted float64      `json:"min_accepted_ratio"`  // RampMinAccepted
	MaxP99MS    float64      `json:"max_accept_p99_ms"`   // --knee-p99
	StopAfter   int          `json:"stop_after"`          // consecutive steps outside the knee that end a target's ramp
	Targets     []RampTarget `json:"targets"`
	// KneeRatio is herald's knee ÷ the raw server's (0 = one of them has
	// none, or no raw server).
	KneeRatio float64 `json:"knee_ratio"`
}

// RampTarget is one server driven through the ramp.
type RampTarget struct {
	Name string `json:"name"` // RampHerald or RampRaw
	// Process is where it ran (child, inprocess, external) and PID its
	// process (0 = not known); CPUScope says what the steps' CPU numbers
	// cover: "process" (its own process alone), "whole_process" (the
	// harness's process, load generator included) or "none".
	Process  string `json:"process"`
	PID      int    `json:"pid"`
	CPUScope string `json:"cpu_scope"`
	// KneePerSecond is the offered rate of the highest step within the
	// knee (0 = none was); KneeAccepted and KneeP99MS that step's
	// accepted/s and accept p99. LimitReached is whether a step above it
	// fell outside the knee: when false the knee is at least the ramp's
	// top, not a limit.
	KneePerSecond float64    `json:"knee_per_second"`
	KneeAccepted  float64    `json:"knee_accepted_per_second"`
	KneeP99MS     float64    `json:"knee_accept_p99_ms"`
	LimitReached  bool       `json:"limit_reached"`
	Steps         []RampStep `json:"steps"`
}

// RampStep is one step of open-loop rate against one target.
type RampStep struct {
	Offered           float64 `json:"offered_per_second"`
	Sent              int64   `json:"sent"`     // requests sent (the step's warm-up included)
	Errors            int64   `json:"errors"`   // failed or non-2xx
	Accepted          int64   `json:"accepted"` // 2xx answers received during the measured part
	AcceptedPerSecond float64 `json:"accepted_per_second"`
	AcceptedRatio     float64 `json:"accepted_ratio"` // accepted_per_second ÷ offered
	// Accept latency (intended send → 2xx) of the requests due in the
	// measured part.
	AcceptP50MS  float64 `json:"accept_p50_ms"`
	AcceptP99MS  float64 `json:"accept_p99_ms"`
	AcceptP999MS float64 `json:"accept_p999_ms"`
	AcceptMaxMS  float64 `json:"accept_max_ms"`
	// Herald only: the wait after the last answer until every
	// notification owed so far was counted, and the ingress → simulator
	// latency of the measured part's messages (0 = not measured).
	DrainSeconds  float64 `json:"drain_seconds"`
	DeliveryP50MS float64 `json:"ingress_to_simulator_p50_ms"`
	DeliveryP99MS float64 `json:"ingress_to_simulator_p99_ms"`
	// CPU of the target's process from the step's first request to its
	// end (herald: its drain included) and per 2xx answer of the step.
	CPUSeconds          float64 `json:"cpu_seconds"`
	CPUCores            float64 `json:"cpu_cores"`
	CPUMicrosPerMessage float64 `json:"cpu_us_per_message"`
	// HarnessCores is the harness process's own CPU (load generator,
	// simulators, counting) over the same span, in cores, when the target
	// is a process of its own (0 = not measured). With CPUCores it tells
	// a step limited by the target from one limited by the machine.
	HarnessCores float64 `json:"harness_cpu_cores"`
	// WithinKnee: accepted_ratio >= min_accepted_ratio and accept p99 <=
	// max_accept_p99_ms.
	WithinKnee bool `json:"within_knee"`
}

// machineBound is the share of the machine's cores that the target and
// the harness together may use before a step outside the knee is noted as
// limited by the machine.
const machineBound = 0.9

// withinKnee is the step's verdict.
func withinKnee(s RampStep, maxP99MS float64) bool {
	return s.Accepted > 0 && s.AcceptedRatio >= RampMinAccepted && s.AcceptP99MS <= maxP99MS
}

// fillKnee sets the knee from the steps' verdicts.
func (t *RampTarget) fillKnee() {
	t.KneePerSecond, t.KneeAccepted, t.KneeP99MS, t.LimitReached = 0, 0, 0, false
	for _, s := range t.Steps {
		if s.WithinKnee && s.Offered > t.KneePerSecond {
			t.KneePerSecond, t.KneeAccepted, t.KneeP99MS = s.Offered, s.AcceptedPerSecond, s.AcceptP99MS
		}
	}
	for _, s := range t.Steps {
		if !s.WithinKnee && s.Offered > t.KneePerSecond {
			t.LimitReached = true
		}
	}
}

// kneeStep is the index of the knee's step (-1 = none).
func (t *RampTarget) kneeStep() int {
	for i, s := range t.Steps {
		if s.WithinKnee && s.Offered == t.KneePerSecond {
			return i
		}
	}
	return -1
}

// Target returns the named ramp target (nil = not there).
func (r *RampReport) Target(name string) *RampTarget {
	for i := range r.Targets {
		if r.Targets[i].Name == name {
			return &r.Targets[i]
		}
	}
	return nil
}

func (r *RampReport) fillRatio() {
	h, raw := r.Target(RampHerald), r.Target(RampRaw)
	r.KneeRatio = 0
	if h != nil && raw != nil && raw.KneePerSecond > 0 {
		r.KneeRatio = round3(h.KneePerSecond / raw.KneePerSecond)
	}
}

// rampDriver is how the ramp drives one target.
type rampDriver struct {
	series string // the timeline's name for its requests
	proc   *proc  // where its CPU is read (nil = not measured)
	send   func(step int, seq int64) error
	// schedule, started and after are optional: request seq of step is
	// due at t; the step's measured part is [from, to); the step's load
	// is done (after may wait, fill st and end the ramp with stop).
	schedule func(step int, seq int64, t time.Time)
	started  func(step int, from, to time.Time)
	after    func(step int, st *RampStep) (stop bool, err error)
}

// rampTarget drives one target through the rates, stopping after
// rampStopAfter consecutive steps outside the knee; it returns each
// step's accept histogram.
func (e *runEnv) rampTarget(ctx context.Context, t *RampTarget, rates []float64, d rampDriver, base map[string]simkit.Stats, pollSeries int) ([]*Histogram, error) {
	sc := e.sc
	dur := sc.StepDuration.Std()
	bound := ms(sc.KneeP99.Std())
	var hists []*Histogram
	fails := 0
	for i, rate := range rates {
		if err := ctx.Err(); err != nil {
			return hists, err
		}
		e.prog.phase(fmt.Sprintf("%s %s/s", t.Name, fmtNum(rate)))
		load := &Load{Name: d.series, Rate: rate, Warmup: sc.StepWarmup.Std(), Duration: dur, Workers: sc.Conns,
			Do: func(seq int64) error { return d.send(i, seq) }}
		if d.schedule != nil {
			load.Schedule = func(seq int64, at time.Time) { d.schedule(i, seq, at) }
		}
		if d.started != nil {
			load.Started = func(_, from, to time.Time) { d.started(i, from, to) }
		}
		var cpu0, self0 procCPU
		cpuOK, selfOK := false, false
		self := newProc(0)
		if d.proc != nil {
			c, err := d.proc.cpu()
			cpu0, cpuOK = c, err == nil
			if cpuOK && d.proc.dir != self.dir {
				c, err := self.cpu()
				self0, selfOK = c, err == nil
			}
		}
		began := time.Now()
		res := runLoad(ctx, load, e, base, pollSeries)
		h := res.Latency
		st := RampStep{Offered: rate, Sent: res.Sent, Errors: res.Errors, Accepted: res.InWindow,
			AcceptedPerSecond: round3(float64(res.InWindow) / dur.Seconds()),
			AcceptP50MS:       ms(h.Quantile(0.5)), AcceptP99MS: ms(h.Quantile(0.99)), AcceptP999MS: ms(h.Quantile(0.999)), AcceptMaxMS: ms(h.Max())}
		st.AcceptedRatio = round3(st.AcceptedPerSecond / rate)
		if res.Errors > 0 {
			e.rep.note("%s at %s/s: %d of %d requests failed, e.g. %s", t.Name, fmtNum(rate), res.Errors, res.Sent, strings.Join(res.FirstErrs, " | "))
		}
		stop := false
		if d.after != nil {
			var err error
			if stop, err = d.after(i, &st); err != nil {
				return hists, err
			}
		}
		if cpuOK {
			if c, err := d.proc.cpu(); err == nil {
				cpu := (c.total() - cpu0.total()).Seconds()
				st.CPUSeconds = round3(cpu)
				if secs := time.Since(began).Seconds(); secs > 0 {
					st.CPUCores = round3(cpu / secs)
				}
				if res.OK > 0 {
					st.CPUMicrosPerMessage = round3(cpu * 1e6 / float64(res.OK))
				}
			}
		}
		if selfOK {
			if c, err := self.cpu(); err == nil {
				if secs := time.Since(began).Seconds(); secs > 0 {
					st.HarnessCores = round3((c.total() - self0.total()).Seconds() / secs)
				}
			}
		}
		st.WithinKnee = withinKnee(st, bound)
		if cores := e.rep.Machine.Cores; !st.WithinKnee && st.HarnessCores > 0 && st.CPUCores+st.HarnessCores >= machineBound*float64(cores) {
			e.rep.note("%s at %s/s: the target used %s cores and the harness %s of the machine's %d, so the step was limited by the machine's CPU, not by %s alone",
				t.Name, fmtNum(rate), fmtNum(st.CPUCores), fmtNum(st.HarnessCores), cores, t.Name)
		}
		t.Steps = append(t.Steps, st)
		hists = append(hists, h)
		verdict := "within the knee"
		if !st.WithinKnee {
			verdict = "outside the knee"
		}
		e.logf("ramp %s %s/s: accepted %s/s (%.1f%%), accept p50 %s ms p99 %s ms: %s", t.Name, fmtNum(rate),
			fmtNum(st.AcceptedPerSecond), 100*st.AcceptedRatio, fmtNum(st.AcceptP50MS), fmtNum(st.AcceptP99MS), verdict)
		if st.WithinKnee {
			fails = 0
		} else {
			fails++
		}
		if stop || fails >= rampStopAfter {
			break
		}
	}
	t.fillKnee()
	return hists, nil
}

// runPeerRamp: the peer scenario's ramp. Herald first: each step's
// messages go to offline users and every notification owed so far is
// counted before the next step (so each step starts without a backlog,
// and the loss accounting covers every step); then the raw fasthttp
// server through the same rates, driven by the same load generator with
// the same requests.
func runPeerRamp(ctx context.Context, e *runEnv) error {
	sc := e.sc
	rates, err := ParseRamp(sc.Ramp)
	if err != nil {
		return err
	}
	users, sender, err := e.setupPeerUsers(ctx)
	if err != nil {
		return err
	}

	tr := newTracker(e.run, e.tl)
	kinds := make([]*msgKind, len(rates))
	for i := range rates {
		kinds[i] = tr.kind(byte('A'+i), "notifications_counted")
	}
	stop, receipts, base, heraldBase, pollSeries, err := e.watchBaseline(ctx, tr, "the ingress-to-simulator latency is not measured")
	if err != nil {
		return err
	}
	defer stop()
	rr := &RampReport{Spec: sc.Ramp, StepSeconds: round3(sc.StepDuration.Std().Seconds()), StepWarmupS: round3(sc.StepWarmup.Std().Seconds()),
		MinAccepted: RampMinAccepted, MaxP99MS: ms(sc.KneeP99.Std()), StopAfter: rampStopAfter, Targets: []RampTarget{}}
	e.rep.Ramp = rr

	var mu sync.Mutex
	expected := map[string]int64{}
	stride := int64(coprimeStride(users.n))
	var cursor, accepted atomic.Int64
	ht := RampTarget{Name: RampHerald, Process: e.rep.Target.Daemon, CPUScope: "none"}
	var hp *proc
	if e.loc != nil {
		p := newProc(e.loc.PID)
		hp = &p
		ht.PID, ht.CPUScope = e.loc.PID, "process"
		if e.loc.PID == 0 {
			ht.CPUScope = "whole_process"
		}
	}
	drainTimedOut := false
	herald := rampDriver{series: "peer", proc: hp,
		send: func(step int, seq int64) error {
			u := int(((cursor.Add(1) - 1) * stride) % int64(users.n))
			ans, err := e.sendMessage(messageID(byte('A'+step), e.run, seq), sender, "peer", users.id(u))
			if err != nil {
				return err
			}
			accepted.Add(1)
			if ans.Offline == nil || *ans.Offline > 0 {
				mu.Lock()
				users.addExpected(expected, u)
				mu.Unlock()
			}
			return nil
		},
		schedule: func(step int, seq int64, t time.Time) { kinds[step].times.set(seq, t.UnixNano()) },
		started:  func(step int, from, to time.Time) { kinds[step].window(from, to) },
		after: func(step int, st *RampStep) (bool, error) {
			mu.Lock()
			want := total(expected)
			mu.Unlock()
			e.prog.expected.Store(want)
			t0 := time.Now()
			_, done, err := e.waitCounted(ctx, base, want, sc.Timeout.Std(), pollSeries)
			if err != nil {
				return true, err
			}
			if done.IsZero() {
				drainTimedOut = true
				e.rep.note("herald at %s/s: timed out after %s waiting for the simulators to count all %d notifications; the ramp stops", fmtNum(st.Offered), sc.Timeout, want)
				done = time.Now()
			}
			st.DrainSeconds = round3(done.Sub(t0).Seconds())
			if receipts {
				h, _, _ := kinds[step].snapshot()
				st.DeliveryP50MS, st.DeliveryP99MS = ms(h.Quantile(0.5)), ms(h.Quantile(0.99))
			}
			return drainTimedOut, nil
		}}
	if err := e.beginMeasure(); err != nil {
		return err
	}
	start := time.Now()
	e.tl.SetStart(start)
	hHists, err := e.rampTarget(ctx, &ht, rates, herald, base, pollSeries)
	rr.Targets = append(rr.Targets, ht)
	if err != nil {
		return err
	}
	// The process section is herald's ramp, from its first request to its
	// last notification counted.
	e.stopProc()
	final, err := e.settle(ctx)
	if err != nil {
		return err
	}

	var rHists []*Histogram
	if raw, mode, err := e.startRaw(); err != nil {
		return err
	} else if raw != nil {
		rt, hists, err := e.rampRaw(ctx, raw, mode, rates, base, pollSeries)
		if serr := raw.Stop(); serr != nil {
			e.rep.note("raw server: %v", serr)
		}
		if err != nil {
			return err
		}
		rr.Targets = append(rr.Targets, rt)
		rHists = hists
	}
	rr.fillRatio()

	stop()
	e.finish(final, base, expected, heraldBase, time.Now())
	e.rep.Process.perMessage(accepted.Load())
	e.rampMetrics(rr, hHists, rHists, kinds, receipts)
	return nil
}

// startRaw starts the raw server where --raw-server says (nil = off).
func (e *runEnv) startRaw() (*rawServer, string, error) {
	mode := e.rawMode
	if mode == "" || mode == RawAuto {
		mode = RawInProcess
		if e.rep.Target.Daemon != DaemonInProcess && e.herald != "" {
			mode = RawChild
		}
	}
	switch mode {
	case RawOff:
		e.rep.note("--raw-server off: no raw fasthttp baseline")
		return nil, mode, nil
	case RawInProcess:
		s, err := startRawInProcess()
		return s, mode, err
	case RawChild:
		s, err := startRawChild(e.herald, e.log)
		return s, mode, err
	}
	return nil, mode, fmt.Errorf("bench: --raw-server %q: want %s, %s, %s or %s", mode, RawAuto, RawChild, RawInProcess, RawOff)
}

// rampRaw drives the raw server through the rates with herald's requests
// (same bodies, same connection pool size, same load generator).
func (e *runEnv) rampRaw(ctx context.Context, raw *rawServer, mode string, rates []float64, base map[string]simkit.Stats, pollSeries int) (RampTarget, []*Histogram, error) {
	rt := RampTarget{Name: RampRaw, Process: mode, PID: raw.PID, CPUScope: "process"}
	p := newProc(raw.PID)
	if raw.PID == 0 {
		rt.PID, rt.CPUScope = os.Getpid(), "whole_process"
	}
	api, err := NewAPI(raw.URL, "", e.sc.Conns)
	if err != nil {
		return rt, nil, err
	}
	defer api.Close()
	if err := waitReady(ctx, api); err != nil {
		return rt, nil, err
	}
	n := max(e.sc.Users, 1)
	stride := int64(coprimeStride(n))
	prefix := "u-" + e.run + "-"
	sender := "s-" + e.run
	var cursor atomic.Int64
	d := rampDriver{series: "raw", proc: &p,
		send: func(step int, seq int64) error {
			u := ((cursor.Add(1) - 1) * stride) % int64(n)
			_, err := postMessage(api, messageID(byte('a'+step), e.run, seq), sender, "peer", prefix+strconv.FormatInt(u, 10))
			return err
		}}
	hists, err := e.rampTarget(ctx, &rt, rates, d, base, pollSeries)
	return rt, hists, err
}

// rampMetrics puts the knees into the metrics and the knee steps'
// latencies into the latencies.
func (e *runEnv) rampMetrics(rr *RampReport, hHists, rHists []*Histogram, kinds []*msgKind, receipts bool) {
	t := e.rep.Totals
	if h := rr.Target(RampHerald); h != nil {
		e.rep.metric("knee_per_second", h.KneePerSecond, "messages/s")
		e.rep.metric("knee_accepted_per_second", h.KneeAccepted, "messages/s")
		e.rep.metric("knee_accept_p99_ms", h.KneeP99MS, "ms")
		if i := h.kneeStep(); i >= 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("accept_at_knee",
				fmt.Sprintf("herald at its knee (%s/s): intended send time (open-loop schedule) → 2xx answer", fmtNum(h.KneePerSecond)), hHists[i]))
			if receipts {
				hist, _, _ := kinds[i].snapshot()
				e.rep.Latencies = append(e.rep.Latencies, Summarize("ingress_to_simulator_at_knee",
					fmt.Sprintf("herald at its knee (%s/s): intended send time → each notification counted at a simulator", fmtNum(h.KneePerSecond)), hist))
			}
		}
	}
	if r := rr.Target(RampRaw); r != nil {
		e.rep.metric("raw_knee_per_second", r.KneePerSecond, "messages/s")
		e.rep.metric("knee_ratio", rr.KneeRatio, "herald/raw")
		if i := r.kneeStep(); i >= 0 {
			e.rep.Latencies = append(e.rep.Latencies, Summarize("raw_accept_at_knee",
				fmt.Sprintf("raw fasthttp server at its knee (%s/s): intended send time → 2xx answer", fmtNum(r.KneePerSecond)), rHists[i]))
		}
		if !r.LimitReached {
			e.rep.note("the raw fasthttp server stayed within the knee up to the ramp's top (%s/s): its knee is at least that, so knee_ratio is an upper bound; ramp higher to find it (the load generator may be the limit there)", fmtNum(r.KneePerSecond))
		}
	}
	if h := rr.Target(RampHerald); h != nil && !h.LimitReached {
		e.rep.note("herald stayed within the knee up to the ramp's top (%s/s): its knee is at least that", fmtNum(h.KneePerSecond))
	}
	e.rep.metric("lost", float64(t.Lost), "notifications")
	e.rep.metric("duplicates", float64(t.Duplicates), "notifications")
}
