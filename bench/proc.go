package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// "clock ticks"): 100 on every Linux architecture Go supports, whatever
// the kernel's internal HZ is.
const userHZ = 100

// procCPU is one reading of a process's CPU time.
type procCPU struct {
	User, System time.Duration // utime and stime
}

func (c procCPU) total() time.Duration { return c.User + c.System }

// parseProcStat reads utime and stime (fields 14 and 15) from the text of
// /proc/<pid>/stat. The second field, the command name in parentheses, may
// itself hold spaces and parentheses, so fields are counted from the last
// ')'.
func parseProcStat(b []byte) (procCPU, error) {
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return procCPU{}, errors.New("bench: /proc stat: no command name")
	}
	// After ") ": field 3 (state) onwards.
	f := strings.Fields(string(b[end+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return procCPU{}, fmt.Errorf("bench: /proc stat: %d fields after the command name, want > %d", len(f), stime)
	}
	u, err1 := strconv.ParseUint(f[utime], 10, 64)
	s, err2 := strconv.ParseUint(f[stime], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procCPU{}, fmt.Errorf("bench: /proc stat: %w", err)
	}
	tick := time.Second / userHZ
	return procCPU{User: time.Duration(u) * tick, System: time.Duration(s) * tick}, nil
}

// procMem is what /proc/<pid>/status says about a process's memory.
type procMem struct {
	RSS, HWM int64 // VmRSS and VmHWM (peak RSS), bytes
}

// parseProcStatus reads VmRSS and VmHWM ("VmHWM:   123456 kB") from the
// text of /proc/<pid>/status.
func parseProcStatus(b []byte) (procMem, error) {
	var m procMem
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("bench: /proc status: %s: %q is not \"N kB\"", k, strings.TrimSpace(v))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("bench: /proc status: %s: %w", k, err)
		}
		if k == "VmRSS" {
			m.RSS, haveRSS = n<<10, true
		} else {
			m.HWM, haveHWM = n<<10, true
		}
	}
	if !haveRSS || !haveHWM {
		return m, errors.New("bench: /proc status: no VmRSS/VmHWM lines")
	}
	return m, nil
}

// proc reads one process's /proc files (pid 0 = this process).
type proc struct{ dir string }

func newProc(pid int) proc {
	if pid == 0 {
		return proc{dir: "/proc/self"}
	}
	return proc{dir: "/proc/" + strconv.Itoa(pid)}
}

func (p proc) cpu() (procCPU, error) {
	b, err := os.ReadFile(p.dir + "/stat")
	if err != nil {
		return procCPU{}, err
	}
	return parseProcStat(b)
}

func (p proc) mem() (procMem, error) {
	b, err := os.ReadFile(p.dir + "/status")
	if err != nil {
		return procMem{}, err
	}
	return parseProcStatus(b)
}

// procWatch measures a process over the measured phase: CPU time from
// start to stop, RSS sampled every interval, and VmHWM at stop.
type procWatch struct {
	p        proc
	begin    time.Time
	cpu0     procCPU
	interval time.Duration
	quit     chan struct{}
	done     chan struct{}

	mu      sync.Mutex
	samples []RSSSample
	peak    int64
	err     error
}

// watchProc starts measuring p now.
func watchProc(p proc, interval time.Duration) (*procWatch, error) {
	c, err := p.cpu()
	if err != nil {
		return nil, err
	}
	w := &procWatch{p: p, begin: time.Now(), cpu0: c, interval: interval, quit: make(chan struct{}), done: make(chan struct{})}
	w.sample(w.begin)
	go w.loop()
	return w, nil
}

func (w *procWatch) sample(now time.Time) {
	m, err := w.p.mem()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.samples = append(w.samples, RSSSample{Seconds: round3(now.Sub(w.begin).Seconds()), Bytes: m.RSS})
	w.peak = max(w.peak, m.RSS)
}

func (w *procWatch) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case now := <-t.C:
			w.sample(now)
		}
	}
}

// stop ends the measurement and fills what it measured into r (scope,
// label and notifications are the caller's).
func (w *procWatch) stop(r *ProcessReport) error {
	end := time.Now()
	c, cerr := w.p.cpu()
	close(w.quit)
	<-w.done
	w.sample(end)
	m, merr := w.p.mem()
	if err := errors.Join(cerr, merr); err != nil {
		return err
	}
	d := c.total() - w.cpu0.total()
	secs := end.Sub(w.begin).Seconds()
	r.Seconds = round3(secs)
	r.CPUSeconds = round3(d.Seconds())
	r.UserSeconds = round3((c.User - w.cpu0.User).Seconds())
	r.SystemSeconds = round3((c.System - w.cpu0.System).Seconds())
	if secs > 0 {
		r.CPUCores = round3(d.Seconds() / secs)
	}
	r.PeakRSSBytes = m.HWM
	w.mu.Lock()
	defer w.mu.Unlock()
	r.SampledPeakRSSBytes = w.peak
	// The kernel updates VmHWM lazily from per-CPU counters, so a VmRSS
	// sample can read a little above it: the peak is at least every sample.
	r.PeakRSSBytes = max(r.PeakRSSBytes, w.peak)
	r.RSSSamples = thinSamples(w.samples, 500)
	return w.err
}

// thinSamples keeps at most n samples, evenly spaced, always the first and
// last (and the peak survives in SampledPeakRSSBytes).
func thinSamples(s []RSSSample, n int) []RSSSample {
	if len(s) <= n {
		return append([]RSSSample{}, s...)
	}
	out := make([]RSSSample, 0, n)
	for i := range n {
		out = append(out, s[i*(len(s)-1)/(n-1)])
	}
	return out
}
