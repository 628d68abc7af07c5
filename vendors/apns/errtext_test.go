package apns

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// A request that got no answer is reported without its URL, whose path
// holds the device token.
func TestTransportFailureHidesTheToken(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://api.push.apple.com/3/device/abab0123", Err: errors.New("stream error")}
	r := transportFailure(context.Background(), context.Background(), err)
	if r.Code != "TransportError" || strings.Contains(r.Reason, "abab0123") || !strings.Contains(r.Reason, "stream error") {
		t.Fatalf("result %+v", r)
	}
}
