package fcm

import (
	"context"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/closetest"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestCloseEndsTokenFetch: Close ends a token fetch in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsTokenFetch(t *testing.T) {
	h := closetest.NewHang(t, func(path string) bool { return path == "/token" }, nil)
	cfg := NewSimulator(simkit.NewRecorder(nil), SimOptions{}).ClientConfig(h.URL, h.TLS)
	cfg.Timeout = time.Minute
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	closetest.CloseEndsFetch(t, h, func(ctx context.Context) ([]vendors.Result, error) {
		return c.Send(ctx, chatNotification("m-1"), targets("tok-a"))
	}, c.Close, ErrClosed)
}
