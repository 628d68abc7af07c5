package oppo

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/closetest"
)

// TestCloseEndsAuthCall: Close ends an auth call in flight (the Send
// waiting for it returns), and later Sends and SendEachs fail with
// ErrClosed.
func TestCloseEndsAuthCall(t *testing.T) {
	var c *Client
	closetest.Check(t, func(path string) bool { return path == pathAuth }, ErrClosed, func(url string, tc *tls.Config) (closetest.Client, error) {
		var err error
		c, err = New(Config{AppKey: "k", MasterSecret: "s", Endpoint: url, TLS: tc, Timeout: time.Minute})
		return c, err
	})
	_, err := c.SendEach(context.Background(), []*vendors.Notification{chatNotification("m-2")}, targets("CN_a"))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("SendEach after Close: %v", err)
	}
}
