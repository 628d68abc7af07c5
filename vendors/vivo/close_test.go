package vivo

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/internal/closetest"
)

// TestCloseEndsAuthCall: Close ends an auth call in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsAuthCall(t *testing.T) {
	closetest.Check(t, func(path string) bool { return path == pathAuth }, ErrClosed, func(url string, tc *tls.Config) (closetest.Client, error) {
		return New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: url, TLS: tc, Timeout: time.Minute})
	})
}
