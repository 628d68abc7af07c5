package huawei

import (
	"errors"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the simulator refuses: a notification
// message without text, an android.category Huawei does not know, and a
// body over 4096 bytes without its tokens; the pair on either side of the
// size limit is found by Check and sent through the real client.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := e.client(t, nil)
	with := func(f func(n *vendors.Notification)) *vendors.Notification {
		n := note("m-check")
		f(n)
		return n
	}
	passthrough := func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" }
	call := func(n *vendors.Notification) {
		n.VoIP, n.Title, n.Body = true, "Bob", "Incoming call"
		n.Data = map[string]string{"type": "call_invite", "call_id": "c1", "inviter": "bob"}
	}
	cases := []checktest.Case{
		{Name: "chat", N: note("m-check")},
		{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
		{Name: "body only", N: with(func(n *vendors.Notification) { n.Title = "" })},
		{Name: "passthrough", N: with(passthrough)},
		{Name: "call", N: with(call)},
		{Name: "call as passthrough", N: with(func(n *vendors.Notification) { call(n); passthrough(n) })},
		{Name: "passthrough with a category Huawei lacks", N: with(func(n *vendors.Notification) { passthrough(n); n.Category = "chat" })},
		{Name: "no text", N: with(func(n *vendors.Notification) { n.Title, n.Body = "", " " }), Refused: true, Part: vendors.PartText},
		{Name: "category Huawei lacks", N: with(func(n *vendors.Notification) { n.Category = "chat" }), Refused: true, Part: vendors.PartResource},
	}
	for _, shape := range []struct {
		name string
		n    *vendors.Notification
	}{
		{"chat", note("m-check")},
		{"passthrough", with(passthrough)},
		{"call", with(call)},
	} {
		fits, over := checktest.Sized(t, c.Check, 8000, func(pad int) *vendors.Notification { return checktest.Pad(*shape.n, pad) })
		var le *vendors.LimitError
		if err := c.Check(over); !errors.As(err, &le) || le.Size != maxBodyWithoutTokens+1 {
			t.Fatalf("Check: %v, want a LimitError of %d bytes", err, maxBodyWithoutTokens+1)
		}
		t.Logf("%s: the largest pad that fits is %d bytes", shape.name, len(fits.Data["pad"]))
		cases = append(cases,
			checktest.Case{Name: "large " + shape.name + " just fitting", N: fits},
			checktest.Case{Name: "large " + shape.name + " just over", N: over, Refused: true, Part: vendors.PartPayload})
	}
	checktest.Run(t, vendors.Huawei, cases, c.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		return send(t, c, n, "tok-check")[0]
	})
}
