package huawei

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/internal/closetest"
)

// TestCloseEndsTokenFetch: Close ends a token fetch in flight (the Send
// waiting for it returns), and later Sends fail with ErrClosed.
func TestCloseEndsTokenFetch(t *testing.T) {
	token := func(path string) bool { return strings.HasPrefix(path, "/oauth2/") }
	closetest.Check(t, token, ErrClosed, func(url string, tc *tls.Config) (closetest.Client, error) {
		return New(Config{AppID: "app", AppSecret: "s", AuthURL: url + "/oauth2/v3/token", PushURL: url, TLS: tc, Timeout: time.Minute})
	})
}
