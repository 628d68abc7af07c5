package sim

import (
	"strings"
	"testing"
	"time"
)

// TestServerKeepsServeError: when serving fails, Done is closed and Err
// says why; after Close, Done is closed and Err is nil.
func TestServerKeepsServeError(t *testing.T) {
	sims, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(t *testing.T, srv *Server) {
		t.Helper()
		select {
		case <-srv.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("Done not closed")
		}
	}
	t.Run("serve error", func(t *testing.T) {
		srv, err := sims.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if err := srv.Err(); err != nil {
			t.Fatalf("Err while serving = %v", err)
		}
		_ = srv.ln.Close() // the listener fails under the server
		wait(t, srv)
		if err := srv.Err(); err == nil || !strings.Contains(err.Error(), "sim: serve "+srv.URL) {
			t.Fatalf("Err = %v, want the serve error naming %s", err, srv.URL)
		}
	})
	t.Run("closed", func(t *testing.T) {
		srv, err := sims.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		wait(t, srv)
		if err := srv.Err(); err != nil {
			t.Fatalf("Err after Close = %v", err)
		}
	})
}
