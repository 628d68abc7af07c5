package daemon

import (
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
)

// POST /v1/admin/dead-letters/replay moves the matching dead letters back
// to the outbox and sends them again: here OPPO fails the push again, so
// the simulator sees a second request and the row is a dead letter once
// more. Filters that match nothing replay nothing; bad input is a 400
// naming the field.
func TestDeadLettersReplay(t *testing.T) {
	// The simulator answers OPPO's "service unavailable" (-1) for this
	// token, and one attempt is all OPPO gets: each send dead-letters it.
	s := startDaemon(t, func(c *configs.Config) { c.Vendors.OPPO.Retry.MaxAttempts = 1 }, Env{})
	wantStatus(t, s.do(t, "PUT", "/v1/users/olga/devices/reno", `{"vendor":"oppo","token":"unavailable-olga"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"no-title","from":"x","to":{"type":"peer","id":"olga"},"push":{"content":"c"}}`), 202)
	failed := func(n int64) {
		t.Helper()
		testutil.WaitFor(t, 20*time.Second, func() bool {
			return s.d.senders.Stats()[vendors.OPPO].Failed >= n
		}, "oppo to fail %d notifications", n)
	}
	failed(1)
	requests := func() int64 { return s.d.push.sims.Recorder.Snapshot()["oppo"].Requests }
	before := requests()

	for _, tc := range []struct{ body, field string }{
		{`{}`, "vendor"},
		{`{"vendor":"nokia"}`, "vendor"},
		{`{"vendor":"oppo","limit":0}`, "limit"},
		{`{"vendor":"oppo","limit":10001}`, "limit"},
		{`{"vendor":"oppo","max":1}`, "max"},
	} {
		r := s.do(t, "POST", "/v1/admin/dead-letters/replay", tc.body)
		var e errBody
		r.json(t, &e)
		if r.status != 400 || e.Error.Field != tc.field {
			t.Fatalf("replay %s: %d %s; want 400 naming %s", tc.body, r.status, r.body, tc.field)
		}
	}
	var out struct {
		Replayed int  `json:"replayed"`
		More     bool `json:"more"`
	}
	r := s.do(t, "POST", "/v1/admin/dead-letters/replay", `{"vendor":"oppo","message_id":"other"}`)
	wantStatus(t, r, 200)
	if r.json(t, &out); out.Replayed != 0 {
		t.Fatalf("replay of another message: %s", r.body)
	}
	r = s.do(t, "POST", "/v1/admin/dead-letters/replay", `{"vendor":"oppo","last_code":"-1","limit":5}`)
	wantStatus(t, r, 200)
	if r.json(t, &out); out.Replayed != 1 || out.More {
		t.Fatalf("replay: %s; want 1 replayed, no more", r.body)
	}
	failed(2) // sent again, failed again
	if got := requests(); got != before+1 {
		t.Fatalf("oppo simulator requests %d, want %d (one more for the replay)", got, before+1)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool {
		r := s.do(t, "GET", "/v1/admin/dead-letters?vendor=oppo", "")
		var dl struct {
			DeadLetters []api.DeadLetter `json:"dead_letters"`
		}
		r.json(t, &dl)
		return len(dl.DeadLetters) == 1 && dl.DeadLetters[0].LastCode == "-1" && dl.DeadLetters[0].Attempts == 1
	}, "the dead letter back")
	// By message id: the scan covers that message's rows alone.
	r = s.do(t, "POST", "/v1/admin/dead-letters/replay", `{"vendor":"oppo","message_id":"no-title"}`)
	wantStatus(t, r, 200)
	if r.json(t, &out); out.Replayed != 1 || out.More {
		t.Fatalf("replay by message id: %s; want 1 replayed", r.body)
	}
	failed(3)
}
