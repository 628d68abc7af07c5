package bench

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// beginMeasure marks the start of the measured phase (profiles start).
func (e *runEnv) beginMeasure() error {
	if e.measuring {
		return nil
	}
	e.measuring = true
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
