package fcm

import (
	"errors"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the simulator refuses, for both kinds: a
// reserved data key, and a payload (data keys and values, title and body)
// over 4096 bytes; the pair on either side of the limit is found by
// Check and sent through the real client.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	for _, kind := range []vendors.Kind{vendors.FCM, vendors.Web} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, SimOptions{Kind: kind})
			c := e.client(t, nil)
			with := func(f func(n *vendors.Notification)) *vendors.Notification {
				n := chatNotification("m-check")
				f(n)
				return n
			}
			call := func(n *vendors.Notification) {
				n.VoIP, n.Data = true, map[string]string{"type": "call_invite", "call_id": "c1", "inviter": "alice"}
			}
			passthrough := func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" }
			cases := []checktest.Case{
				{Name: "chat", N: chatNotification("m-check")},
				{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
				{Name: "passthrough", N: with(passthrough)},
				{Name: "call", N: with(call)},
				{Name: "data key notification", N: with(func(n *vendors.Notification) { n.Data = map[string]string{"notification": "x"} })},
				{Name: "reserved data key", N: with(func(n *vendors.Notification) { n.Data = map[string]string{"google.c.a.e": "1"} }),
					Refused: true, Part: vendors.PartData},
				{Name: "reserved key from", N: with(func(n *vendors.Notification) { n.Data = map[string]string{"from": "x"} }),
					Refused: true, Part: vendors.PartData},
			}
			// The largest padding that passes, and one byte more, for a
			// visible push (its text counts: PartPayload) and for data
			// only (PartData).
			for _, shape := range []struct {
				name string
				n    *vendors.Notification
				part vendors.Part
			}{
				{"chat", chatNotification("m-check"), vendors.PartPayload},
				{"passthrough", with(passthrough), vendors.PartData},
				{"call", with(call), callPart(kind)},
			} {
				fits, over := checktest.Sized(t, c.Check, 8000, func(pad int) *vendors.Notification { return checktest.Pad(*shape.n, pad) })
				wantOver(t, c.Check(over), maxPayloadBytes+1)
				t.Logf("%s: the largest pad that fits is %d bytes", shape.name, len(fits.Data["pad"]))
				cases = append(cases,
					checktest.Case{Name: "large " + shape.name + " just fitting", N: fits},
					checktest.Case{Name: "large " + shape.name + " just over", N: over, Refused: true, Part: shape.part})
			}
			checktest.Run(t, kind, cases, c.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
				return send(t, c, n, "tok-check")[0]
			})
		})
	}
}

// callPart is the part at fault for a call over the limit: FCM sends a
// call as data only; Web shows its title and body.
func callPart(kind vendors.Kind) vendors.Part {
	if kind == vendors.Web {
		return vendors.PartPayload
	}
	return vendors.PartData
}

// wantOver asserts err is a *vendors.LimitError of size bytes.
func wantOver(t *testing.T, err error, size int) {
	t.Helper()
	var le *vendors.LimitError
	if !errors.As(err, &le) || le.Size != size {
		t.Fatalf("Check: %v, want a LimitError of %d bytes", err, size)
	}
}
