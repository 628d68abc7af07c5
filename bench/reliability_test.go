package bench_test

import (
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
