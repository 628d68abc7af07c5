package push

import (
	"math"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// CheckMessage tells, before m is accepted, whether a configured vendor
// would refuse its push as herald composes it: for every client in
// clients that is a vendors.Checker (in vendors.Kinds order), the
// notification a device of that vendor would get under the push resources
// res is checked, and the first refusal is returned (a *vendors.LimitError
// when the vendor names a limit). Every configured vendor is checked, not
// only those of the recipients' devices: whether a push is accepted does
// not depend on which devices are bound at the moment, and a group's
// devices are not known until its fan-out. A message without a push
// passes.
func CheckMessage(clients map[vendors.Kind]vendors.Sender, res map[string]configs.Resource, m *store.Message) error {
	if !m.HasPush {
		return nil
	}
	ttl := time.Duration(m.TTLSeconds) * time.Second
	// A message that raises the badge carries each target's count (a
	// sender sets it per target): checked with the widest count there is,
	// the push fits every target's. One that does not carries none.
	var badge *int
	if m.BadgeIncrement != 0 {
		widest := math.MaxInt
		badge = &widest
	}
	return eachChecker(clients, func(k vendors.Kind, c vendors.Checker) error {
		n := MessageNotification(m, res, k, false, ttl)
		n.Badge = badge
		return c.Check(&n)
	})
}

// CheckCall is CheckMessage for a call invitation, checked as ttl before
// its deadline, and its cancel notices: both in every form a device may
// get them (an APNs device's VoIP push on its PushKit token and an
// ordinary push on its token; every other vendor's call form).
func CheckCall(clients map[vendors.Kind]vendors.Sender, res map[string]configs.Resource, call *store.Call, ttl time.Duration) error {
	return eachChecker(clients, func(k vendors.Kind, c vendors.Checker) error {
		for _, voip := range ringForms(k) {
			n := InviteNotification(call, res, k, voip, ttl)
			if err := c.Check(&n); err != nil {
				return err
			}
			// "accept" is the cancel notice with the longest text and reason.
			n = CancelNotification(call, "accept", res, k, voip)
			if err := c.Check(&n); err != nil {
				return err
			}
		}
		return nil
	})
}

// ringForms are the voip values a ringing push to a device of vendor k
// may be composed with (see Route).
func ringForms(k vendors.Kind) []bool {
	if k == vendors.APNs {
		return []bool{true, false}
	}
	return []bool{true}
}

func eachChecker(clients map[vendors.Kind]vendors.Sender, check func(vendors.Kind, vendors.Checker) error) error {
	for _, k := range vendors.Kinds() {
		c, ok := clients[k].(vendors.Checker)
		if !ok {
			continue
		}
		if err := check(k, c); err != nil {
			return err
		}
	}
	return nil
}
