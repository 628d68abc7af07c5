package xiaomi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// TestClose: after Close, Send and SendEach fail with ErrClosed; a second
// Close is fine.
func TestClose(t *testing.T) {
	c, err := New(Config{AppSecret: "s3cret", PackageName: "p", Endpoint: "https://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(context.Background(), msg("m"), targets("a")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if _, err := c.SendEach(context.Background(), []*vendors.Notification{msg("m")}, targets("a")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendEach after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
