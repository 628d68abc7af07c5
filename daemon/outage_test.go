package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestVendorOutageOfAMinuteLosesNothingOnEveryVendor takes every vendor's
// simulator down (each answers its own transient failure: 503, UNAVAILABLE
// or its documented busy code) in the middle of a group fan-out over all
// seven kinds, for 60 s of the daemon's injected clock. Through the real
// vendor clients, each transient answer must be a retry: nothing is
// dead-lettered, each vendor's breaker opens and holds its requests to a
// few probes, and once the vendors are back every device gets its
// notification exactly once.
func TestVendorOutageOfAMinuteLosesNothingOnEveryVendor(t *testing.T) {
	const perKind = 100
	n := perKind * len(vendors.Kinds())
	clock := testutil.NewClock(time.Unix(1_800_000_000, 0))
	s := startDaemon(t, func(c *configs.Config) {
		for _, v := range c.Vendors.ByName() {
			// Far above the traffic: the limits must not pace the test
			// (their token buckets run on the injected clock).
			v.Limits.QPS, v.Limits.Burst, v.Limits.MaxInFlight, v.Limits.BatchSize = 10000, 10000, 4, 20
		}
	}, Env{Clock: clock})
	do := s.doer(t)
	sims := s.d.push.sims
	registerUsers(t, do, 0, n, func(i int) string { return fmt.Sprint("outage-tok-", i) })
	addMembers(t, do, "all", 0, n)
	for _, k := range vendors.Kinds() {
		if err := sims.Outage.Set(string(k), true); err != nil {
			t.Fatal(err)
		}
	}
	msg := `{"message_id":"m-outage","from":"nobody","to":{"type":"group","id":"all"},"body":{"t":1},"push":{"title":"t","content":"c"}}`
	wantStatus(t, do("POST", "/v1/messages", msg), 202)

	stats := func() map[string]api.VendorStats {
		var out struct {
			Vendors map[string]api.VendorStats `json:"vendors"`
		}
		do("GET", "/v1/stats", "").json(t, &out)
		return out.Vendors
	}
	// Every vendor gets its rows and fails its first batches; then a minute
	// of the injected clock passes, a second at a time, each second once
	// the senders have nothing in flight.
	testutil.WaitFor(t, 30*time.Second, func() bool {
		for _, k := range vendors.Kinds() {
			if stats()[string(k)].BreakerOpened == 0 {
				return false
			}
		}
		return true
	}, "every vendor's breaker to open")
	idle := func() bool {
		for _, v := range stats() {
			if v.InFlight != 0 {
				return false
			}
		}
		return true
	}
	for range 60 {
		testutil.WaitFor(t, 30*time.Second, idle, "the senders to have nothing in flight")
		clock.Advance(time.Second)
	}
	testutil.WaitFor(t, 30*time.Second, idle, "the senders to have nothing in flight")
	refused := sims.Outage.Status()
	for _, k := range vendors.Kinds() {
		v := stats()[string(k)]
		if v.Dead != 0 || v.Failed != 0 {
			t.Errorf("%s: dead %d, failed %d during a transient outage; want 0", k, v.Dead, v.Failed)
		}
		// Without a breaker every row is retried ~7 times in a minute of
		// backoff (0.5 s doubling): ~700 requests to a per-token vendor
		// (APNs, FCM, Web), ~35 to a batch one. With it (seen here: 9–11
		// and 2–5): what was in flight when it opened (max_in_flight 4),
		// then one probe per open period (1, 2, 4, 8, 16, 30 s).
		if r := refused[string(k)].Refused; r > 20 {
			t.Errorf("%s: %d requests reached the down vendor in a minute; the breaker should hold it to a few probes", k, r)
		}
		if r := do("GET", "/v1/admin/dead-letters?vendor="+string(k), ""); r.status != 200 || string(r.body) != `{"dead_letters":[],"next":""}` {
			t.Errorf("%s dead letters after the outage: %d %s", k, r.status, r.body)
		}
	}

	for _, k := range vendors.Kinds() {
		if err := sims.Outage.Set(string(k), false); err != nil {
			t.Fatal(err)
		}
	}
	// The next probe (at most 30 s of the clock away) closes each breaker.
	waitStats(t, "every device's notification after the outage", 60*time.Second, func() map[string]simkit.Stats {
		clock.Advance(time.Second)
		return sims.Recorder.Snapshot()
	}, func(st map[string]simkit.Stats) bool {
		for _, k := range vendors.Kinds() {
			if st[string(k)].Unique < perKind {
				return false
			}
		}
		return true
	})
	testutil.WaitFor(t, 30*time.Second, idle, "the senders to have nothing in flight")
	st := sims.Recorder.Snapshot()
	for _, k := range vendors.Kinds() {
		if got := st[string(k)]; got.Unique != perKind || got.Duplicates != 0 {
			t.Errorf("%s after the outage: %+v; want %d unique, no duplicates", k, got, perKind)
		}
		if v := stats()[string(k)]; v.Dead != 0 || v.Breaker != "closed" {
			t.Errorf("%s after the outage: dead %d, breaker %s; want 0 and closed", k, v.Dead, v.Breaker)
		}
	}
}
