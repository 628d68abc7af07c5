package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// While a vendor holds max_queued peer notifications waiting (its qps far
// below the ingress), a further peer message for it gets 503 overloaded
// with Retry-After, naming the vendor, and nothing of it is kept; the
// messages accepted before it are all still owed.
func TestPeerMessageGets503WhileItsVendorIsBacklogged(t *testing.T) {
	s := startDaemon(t, func(c *configs.Config) {
		l := &c.Vendors.Huawei.Limits
		l.QPS, l.Burst, l.MaxInFlight, l.BatchSize, l.MaxQueued = 0.001, 1, 1, 1, 1 // holds max(1, 2×1×1) = 2
	}, Env{})
	wantStatus(t, s.do(t, "PUT", "/v1/users/bob/devices/p", `{"vendor":"huawei","token":"hw-bob"}`), 200)
	post := func(id string) resp {
		return s.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":%q,"from":"al","to":{"type":"peer","id":"bob"},"push":{"title":"t","content":"c"}}`, id))
	}
	wantStatus(t, post("m1"), 202) // the bucket's one token: sent
	waitStats(t, "m1 at the simulator", 10*time.Second, s.d.push.sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["huawei"].Unique == 1
	})
	wantStatus(t, post("m2"), 202)
	wantStatus(t, post("m3"), 202)
	backlogged := func() bool { _, full := s.d.senders.Backlogged(vendors.Huawei); return full }
	testutil.WaitFor(t, 10*time.Second, backlogged, "m2 and m3 to fill huawei's queue")
	r := post("m4")
	wantStatus(t, r, 503)
	var e errBody
	r.json(t, &e)
	if e.Error.Code != "overloaded" || !strings.Contains(e.Error.Message, "huawei") || r.header.Get("Retry-After") == "" {
		t.Fatalf("503 body %s, Retry-After %q: want overloaded naming huawei, with Retry-After", r.body, r.header.Get("Retry-After"))
	}
	if u := s.user(t, "bob"); u.InboxPending != 3 {
		t.Fatalf("bob's inbox holds %d; want m1..m3 (the refused m4 must not be kept)", u.InboxPending)
	}
	// The refused id was not recorded: once there is room it is a new message.
	def := configs.Default().Vendors.Huawei
	s.d.senders.SetConfig(vendors.Huawei, senderConfig(&def))
	waitStats(t, "m2 and m3 at the simulator", 10*time.Second, s.d.push.sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["huawei"].Unique == 3
	})
	testutil.WaitFor(t, 10*time.Second, func() bool { return !backlogged() }, "huawei's queue to drain")
	wantStatus(t, post("m4"), 202)
}
