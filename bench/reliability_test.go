package bench_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-push/herald/bench"
)

// TestOutageScenario: a 2 000-user fan-out while APNs is down for 3 s,
// from the group message's 2xx on: the simulator refused requests, the
// breaker opened, every notification arrived (the APNs ones after the
// outage), nothing was dead-lettered, the requests stayed within what the
// breaker allows, and the report validates.
func TestOutageScenario(t *testing.T) {
	sc := scenario(t, "outage")
	sc.Users, sc.WarmupUsers = 2000, 200
	sc.VendorShares = map[string]float64{"apns": 2, "fcm": 1, "huawei": 1}
	sc.OutageVendor, sc.OutageAfter, sc.Outage = "apns", 0, bench.Duration(3*time.Second)
	rep := run(t, bench.Options{Scenario: sc})
	checkClean(t, rep)
	o := rep.Outage
	if o == nil {
		t.Fatal("no outage section")
	}
	t.Logf("outage %+v", *o)
	if o.Expected != 1000 || o.DeliveredAfter == 0 || o.DeliveredBefore+o.DeliveredDuring+o.DeliveredAfter != o.Expected {
		t.Fatalf("apns notifications: %+v, want 1000 with some delivered after the outage", o)
	}
	if o.Requests == 0 || !o.WithinBound || o.BreakerOpened < 1 {
		t.Fatalf("requests %d (bound %d), breaker opened %d: want refused requests within the bound and the breaker open", o.Requests, o.RequestBound, o.BreakerOpened)
	}
	opened := false
	for _, tr := range o.Transitions {
		opened = opened || tr.Vendor == "apns" && tr.To == "open"
	}
	if !opened {
		t.Errorf("no apns closed → open transition seen: %+v", o.Transitions)
	}
	if len(o.DeadLetters) != 7 {
		t.Fatalf("dead letters %+v, want one count per vendor", o.DeadLetters)
	}
	if len(rep.Failures) != 0 {
		t.Fatalf("failures %q", rep.Failures)
	}
}

// TestOverloadScenario: 3 s of peer messages at 2000/s against APNs
// limited to 100/s with 200 notifications held in memory: herald answers
// 503 overloaded with Retry-After for what it cannot queue and nothing
// else goes wrong, and every accepted message is delivered (by id).
func TestOverloadScenario(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfgPath, []byte("log: {level: error}\nvendors:\n  apns: {limits: {qps: 100, burst: 100, max_in_flight: 10, max_queued: 200}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := scenario(t, "overload")
	sc.Users, sc.Conns = 500, 32
	sc.Rate, sc.Duration = 2000, bench.Duration(3*time.Second)
	rep := run(t, bench.Options{Scenario: sc, DaemonConfig: cfgPath})
	checkClean(t, rep)
	o := rep.Overload
	if o == nil {
		t.Fatal("no overload section")
	}
	t.Logf("overload %+v", *o)
	if o.SustainablePerSecond != 100 || o.Factor != 20 || o.Scheduled != 6000 {
		t.Fatalf("offered %v sustainable %v factor %v scheduled %d", o.OfferedPerSecond, o.SustainablePerSecond, o.Factor, o.Scheduled)
	}
	if o.Overloaded == 0 || o.OverloadedRetryAfter != o.Overloaded || o.Accepted == 0 {
		t.Fatalf("%d accepted, %d 503 (%d with Retry-After): want both, every 503 with Retry-After", o.Accepted, o.Overloaded, o.OverloadedRetryAfter)
	}
	if len(o.OtherStatus) != 0 || o.Failed != 0 || o.Sent != o.Accepted+o.Overloaded {
		t.Fatalf("answers other than 2xx and 503: %+v", o)
	}
	if o.AcceptedLost != 0 || o.RefusedDelivered != 0 || rep.Totals.Expected != o.Accepted {
		t.Fatalf("by id: %d accepted lost, %d refused delivered; expected %d for %d accepted", o.AcceptedLost, o.RefusedDelivered, rep.Totals.Expected, o.Accepted)
	}
	if o.RSSChecked {
		t.Fatal("in-process: the RSS is the whole process's and must not be checked")
	}
}
