package simhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/herald-push/herald/vendors/sim"
)

// serving is a server that can stop on its own (*sim.Server).
type serving interface {
	Done() <-chan struct{}
	Err() error
}

// wait waits for ctx to end (nil) or for srv to stop serving on its own
// (its error).
func wait(ctx context.Context, srv serving) error {
	select {
	case <-ctx.Done():
		return nil
	case <-srv.Done():
		err := srv.Err()
		if err == nil {
			err = errors.New("the simulators' server stopped")
		}
		return err
	}
}

// Wait waits for ctx to end (nil) or for the simulators to stop serving on
// their own (the server's error).
func (r *Run) Wait(ctx context.Context) error { return wait(ctx, r.srv) }

// Run is a running `herald sim`: the simulators served over TLS with a
// certificate from the CA kept in the --out directory.
type Run struct {
	URL         string    // https://host:port
	CAFile      string    // DIR/ca.pem, absolute
	CACreated   bool      // false = the CA an earlier start left in DIR
	CAExpires   time.Time // when DIR/ca.pem stops being valid
	KeysCreated bool      // false = the signing keys an earlier start left in DIR
	ConfigPath  string    // DIR/herald-sim.yaml, absolute

	sims *sim.Sims
	srv  *sim.Server
}

// Start serves every simulator on listen with the CA and signing
// keys kept in out (KeepState; newCA replaces them) and writes the
// simulators' credentials and herald-sim.yaml there. It returns once the
// listener is open.
func Start(listen, out string, newCA bool, now time.Time, log *slog.Logger) (*Run, error) {
	dir, err := OutDir(out)
	if err != nil {
		return nil, err
	}
	st, err := KeepState(dir, newCA, now, log)
	if err != nil {
		return nil, err
	}
	sims, err := sim.New(sim.Options{CA: st.CA, Keys: st.Keys})
	if err != nil {
		return nil, fmt.Errorf("build simulators: %w", err)
	}
	srv, err := sims.Start(listen)
	if err != nil {
		return nil, err
	}
	r := &Run{
		URL:         srv.URL,
		CAFile:      filepath.Join(dir, CAFile),
		CACreated:   st.CACreated,
		CAExpires:   st.CA.NotAfter(),
		KeysCreated: st.KeysCreated,
		sims:        sims,
		srv:         srv,
	}
	if r.ConfigPath, err = WriteFiles(sims, r.URL, dir, r.CAFile); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("write simulator config: %w", err)
	}
	return r, nil
}

// Close stops the server, letting requests in flight finish for up to 5 s,
// then the receipts still waiting to be posted.
func (r *Run) Close() error {
	err := r.srv.Close()
	r.sims.Close()
	return err
}

// Sims are the simulators being served.
func (r *Run) Sims() *sim.Sims { return r.sims }
