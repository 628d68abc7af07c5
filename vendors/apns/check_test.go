package apns

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the APNs simulator refuses: a payload over
// 4096 bytes (5120 for VoIP) as composed, with the widest badge a target
// may carry when the push has a badge (push.CheckMessage sets it), and an
// apns-collapse-id over 64 bytes. Just over the limit, the text is what
// tips it (PartPayload); data over it alone is PartData. A push without a
// badge has the badge's room for its data.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	c := newClient(t, e.cfg)
	with := func(f func(n *vendors.Notification)) *vendors.Notification {
		n := note("m-check")
		f(n)
		return n
	}
	voip := func(n *vendors.Notification) {
		n.VoIP, n.Data = true, map[string]string{"call_id": "c1", "kind": "invite"}
	}
	textOnly := func(n *vendors.Notification) { n.Data = nil }
	widest := math.MaxInt
	fits, over := checktest.Sized(t, c.Check, 6000, func(pad int) *vendors.Notification {
		n := checktest.Pad(*note("m-check"), pad)
		n.Badge = &widest
		return n
	})
	unbadged := func(n *vendors.Notification) *vendors.Notification {
		c := *n
		c.Badge = nil
		return &c
	}
	voipFits, voipOver := checktest.Sized(t, c.Check, 6000, func(pad int) *vendors.Notification {
		return checktest.Pad(*with(voip), pad)
	})
	long := strings.Repeat("长", 1000) // 3000 bytes of UTF-8
	cases := []checktest.Case{
		{Name: "chat", N: note("m-check")},
		{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
		{Name: "passthrough", N: with(func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" })},
		{Name: "VoIP call", N: with(voip)},
		{Name: "VoIP without text", N: with(func(n *vendors.Notification) { voip(n); n.Title, n.Body = "", "" })},
		{Name: "64-byte collapse id", N: with(func(n *vendors.Notification) { n.CollapseID = strings.Repeat("c", 64) })},
		{Name: "65-byte collapse id", N: with(func(n *vendors.Notification) { n.CollapseID = strings.Repeat("c", 65) }),
			Refused: true, Part: vendors.PartPayload},
		{Name: "alert fitting", N: fits},
		{Name: "alert just over", N: over, Refused: true, Part: vendors.PartPayload},
		{Name: "alert just over, without a badge", N: unbadged(over)},
		{Name: "VoIP fitting", N: voipFits},
		{Name: "VoIP just over", N: voipOver, Refused: true, Part: vendors.PartPayload},
		{Name: "alert sized like VoIP", N: checktest.Pad(*note("m-check"), len(voipFits.Data["pad"])), Refused: true, Part: vendors.PartData},
		{Name: "long text", N: with(func(n *vendors.Notification) { textOnly(n); n.Title, n.Body = long, "" })},
		{Name: "text pushing data over", N: with(func(n *vendors.Notification) { n.Title, n.Body = long, long }),
			Refused: true, Part: vendors.PartPayload},
	}
	checktest.Run(t, vendors.APNs, cases, c.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		return send(t, c, n, prod("tok")...)[0]
	})

	var le *vendors.LimitError
	if err := c.Check(over); !errors.As(err, &le) || le.Size != maxPayload+1 {
		t.Errorf("alert just over: %v, want Size %d", err, maxPayload+1)
	}
	if err := c.Check(voipOver); !errors.As(err, &le) || le.Size != maxVoIPPayload+1 || !strings.Contains(le.Limit, "VoIP") {
		t.Errorf("VoIP just over: %v, want Size %d and VoIP named", err, maxVoIPPayload+1)
	}
	// The widest badge takes its room: without a badge, the alert that
	// just fits with one leaves exactly `,"badge":<math.MaxInt>` free.
	w, err := encode(unbadged(fits), c.cfg.Topic, c.cfg.Now())
	if err != nil {
		t.Fatal(err)
	}
	if free := maxPayload - len(w.Payload); free != len(`,"badge":`+strconv.Itoa(math.MaxInt)) {
		t.Errorf("the fitting alert leaves %d bytes free without a badge", free)
	}
}
