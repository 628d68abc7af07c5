package oppo

import (
	"context"
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
	h := closetest.NewHang(t, func(path string) bool { return path == pathAuth }, nil)
	c, err := New(Config{AppKey: "k", MasterSecret: "s", Endpoint: h.URL, TLS: h.TLS, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	closetest.CloseEndsFetch(t, h, func(ctx context.Context) ([]vendors.Result, error) {
		return c.Send(ctx, chatNotification("m-1"), targets("CN_a"))
	}, c.Close, ErrClosed)
	_, err = c.SendEach(context.Background(), []*vendors.Notification{chatNotification("m-2")}, targets("CN_a"))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("SendEach after Close: %v", err)
	}
}
