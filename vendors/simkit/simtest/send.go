package simtest

import (
	"context"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// SendUntilAnswered sends one notification with id (to the target
// "tok-"+id, production for APNs) through s, again while the answer is a
// Retry (a connection a stopped or restarted simulator closed), for up to
// 20 seconds, and returns the last result.
func SendUntilAnswered(t testing.TB, s vendors.Sender, id string) vendors.Result {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := s.Send(ctx, &vendors.Notification{MessageID: id, Title: "t", Body: "b", Channel: "im"},
			[]vendors.Target{{Token: "tok-" + id, APNsEnv: "production"}})
		cancel()
		if err != nil {
			t.Fatalf("%s: Send: %v", s.Kind(), err)
		}
		if len(res) != 1 {
			t.Fatalf("%s: %d results for 1 target", s.Kind(), len(res))
		}
		if res[0].Verdict != vendors.Retry || time.Now().After(deadline) {
			return res[0]
		}
	}
}
