package fcm

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/internal/closetest"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestCloseEndsTokenFetch: Close ends a token fetch in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsTokenFetch(t *testing.T) {
	closetest.Check(t, func(path string) bool { return path == "/token" }, ErrClosed, func(url string, tc *tls.Config) (closetest.Client, error) {
		cfg := NewSimulator(simkit.NewRecorder(nil), SimOptions{}).ClientConfig(url, tc)
		cfg.Timeout = time.Minute
		return New(cfg)
	})
}
