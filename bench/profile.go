package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// beginMeasure marks the start of the measured phase (profiles start).
func (e *runEnv) beginMeasure() error {
	if e.measuring {
		return nil
	}
	e.measuring = true
	e.startProc()
	if e.memProfile != "" {
		if err := writeAllocs(e.memProfile + ".base"); err != nil {
			return err
		}
	}
	if e.cpuProfile != "" {
		f, err := os.Create(e.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		e.cpuFile = f
	}
	return nil
}

// endMeasure stops the profiles (idempotent).
func (e *runEnv) endMeasure() error {
	if !e.measuring {
		return nil
	}
	e.measuring = false
	var errs []error
	e.stopProc()
	if e.cpuFile != nil {
		pprof.StopCPUProfile()
		errs = append(errs, e.cpuFile.Close())
		e.cpuFile = nil
	}
	if e.memProfile != "" {
		errs = append(errs, writeAllocs(e.memProfile))
	}
	return errors.Join(errs...)
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: --memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("bench: --memprofile: %w", err)
	}
	return f.Close()
}

// rssInterval is how often the measured daemon's RSS is sampled.
const rssInterval = 100 * time.Millisecond

// startProc starts measuring the daemon's CPU and RSS (a local daemon
// only: with --target its process is not ours to read).
func (e *runEnv) startProc() {
	if e.loc == nil || e.pw != nil || e.skipProc {
		return
	}
	self, err := newProc(0).cpu()
	if err != nil {
		e.rep.note("process CPU/RSS not measured: %v", err)
		return
	}
	w, err := watchProc(newProc(e.loc.PID), rssInterval)
	if err != nil {
		e.rep.note("process CPU/RSS not measured: %v", err)
		return
	}
	e.pw, e.selfCPU0 = w, self
}

// stopProc ends the measurement (idempotent) and puts it in the report.
func (e *runEnv) stopProc() {
	if e.pw == nil {
		return
	}
	r := &ProcessReport{Scope: "daemon", Label: "herald serve (child process: the daemon alone)", PID: e.loc.PID}
	if e.loc.PID == 0 {
		r.Scope, r.Label, r.PID = "whole_process", "whole process (daemon+sims+loadgen)", os.Getpid()
	}
	if err := e.pw.stop(r); err != nil {
		e.rep.note("process CPU/RSS: %v", err)
	}
	if self, err := newProc(0).cpu(); err == nil {
		r.HarnessCPUSeconds = round3((self.total() - e.selfCPU0.total()).Seconds())
	}
	e.pw = nil
	e.rep.Process = r
}

// perNotification fills the per-notification CPU once the unique count
// is known.
func (r *ProcessReport) perNotification(n int64) {
	if r == nil {
		return
	}
	r.Notifications = n
	if n > 0 {
		r.CPUMicrosPerNotification = round3(r.CPUSeconds * 1e6 / float64(n))
		r.HarnessCPUMicrosPerNotification = round3(r.HarnessCPUSeconds * 1e6 / float64(n))
	}
}

// perMessage fills the per-message CPU (accepted messages of the measured
// phase).
func (r *ProcessReport) perMessage(n int64) {
	if r == nil {
		return
	}
	r.Messages = n
	if n > 0 {
		r.CPUMicrosPerMessage = round3(r.CPUSeconds * 1e6 / float64(n))
	}
}
