package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/herald-push/herald/bench"
	"github.com/herald-push/herald/configs"
)

// StartBench starts a daemon on cfg in this process, exactly as `herald
// serve` runs it, and returns once it serves, with its simulators. cfg
// must be in simulator mode.
func StartBench(cfg configs.Config, log *slog.Logger) (*bench.Local, error) {
	if !cfg.SimulatorMode() {
		return nil, errors.New("daemon: the bench daemon must run in simulator mode")
	}
	d, err := New(cfg, Env{Logger: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for d.Addr() == "" {
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("daemon exited while starting: %w", err)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, errors.New("daemon did not start within 30s")
		}
	}
	sims, simURL := d.Simulators()
	if sims == nil {
		cancel()
		<-done
		return nil, errors.New("daemon: no simulators in simulator mode")
	}
	stop := func() error {
		cancel()
		err := <-done
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	}
	return &bench.Local{URL: "http://" + d.Addr(), Sims: sims, SimURL: simURL, Stop: stop}, nil
}
