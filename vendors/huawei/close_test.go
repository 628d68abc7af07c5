package huawei

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/closetest"
)

// TestCloseEndsTokenFetch: Close ends a token fetch in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsTokenFetch(t *testing.T) {
	h := closetest.NewHang(t, func(path string) bool { return strings.HasPrefix(path, "/oauth2/") }, nil)
	c, err := New(Config{AppID: "app", AppSecret: "s", AuthURL: h.URL + "/oauth2/v3/token", PushURL: h.URL, TLS: h.TLS, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	closetest.CloseEndsFetch(t, h, func(ctx context.Context) ([]vendors.Result, error) {
		return c.Send(ctx, note("m1"), targets("tok-a"))
	}, c.Close, ErrClosed)
}
