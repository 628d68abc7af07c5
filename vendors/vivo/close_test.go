package vivo

import (
	"context"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/closetest"
)

// TestCloseEndsAuthCall: Close ends an auth call in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsAuthCall(t *testing.T) {
	h := closetest.NewHang(t, func(path string) bool { return path == pathAuth }, nil)
	c, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", Endpoint: h.URL, TLS: h.TLS, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	closetest.CloseEndsFetch(t, h, func(ctx context.Context) ([]vendors.Result, error) {
		return c.Send(ctx, note("m-1"), targets("tok-a", "tok-b"))
	}, c.Close, ErrClosed)
}
