package vivo

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the vivo simulator (or the client, before
// sending) refuses: a push without text and a clientCustomMap past 1024
// characters or with an empty key. A blank title or content borrows the
// other's text, long text is cut, and custom data past ten pairs is
// packed under herald_more, so all of those go.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	e := newEnv(t, SimOptions{})
	with := func(f func(n *vendors.Notification)) *vendors.Notification {
		n := note("m-check")
		f(n)
		return n
	}
	pairs := func(count int) *vendors.Notification {
		return with(func(n *vendors.Notification) {
			n.Data = make(map[string]string, count)
			for i := range count {
				n.Data[fmt.Sprintf("k%02d", i)] = "v"
			}
		})
	}
	long := strings.Repeat("长", 300)
	// The pad is the only data key past the others (with eleven of them
	// it travels JSON-encoded inside herald_more), in ASCII or in
	// two-byte characters (vivo counts characters, not bytes).
	fits, over := checktest.Sized(t, e.client.Check, 2000, func(pad int) *vendors.Notification {
		return checktest.Pad(*note("m-check"), pad)
	})
	packedFits, packedOver := checktest.Sized(t, e.client.Check, 2000, func(pad int) *vendors.Notification {
		return checktest.Pad(*pairs(11), pad)
	})
	wide := func(pad int) *vendors.Notification {
		return with(func(n *vendors.Notification) { n.Data["pad"] = strings.Repeat("é", pad) })
	}
	wideFits, wideOver := checktest.Sized(t, e.client.Check, 2000, wide)
	cases := []checktest.Case{
		{Name: "chat", N: note("m-check")},
		{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
		{Name: "content only", N: with(func(n *vendors.Notification) { n.Title = "" })},
		{Name: "blank title", N: with(func(n *vendors.Notification) { n.Title = " \t" })},
		{Name: "no text", N: with(func(n *vendors.Notification) { n.Title, n.Body = "", " " }), Refused: true, Part: vendors.PartText},
		{Name: "long text", N: with(func(n *vendors.Notification) { n.Title, n.Body = long, long })},
		{Name: "passthrough with text", N: with(func(n *vendors.Notification) { n.Passthrough = true })},
		{Name: "passthrough without text", N: with(func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" }),
			Refused: true, Part: vendors.PartText},
		{Name: "VoIP call", N: with(func(n *vendors.Notification) {
			n.VoIP, n.Data = true, map[string]string{"call_id": "c1", "kind": "invite", "payload": `{"from":"alice"}`}
		})},
		{Name: "no channel", N: with(func(n *vendors.Notification) { n.Channel = "" })},
		{Name: "9 data pairs", N: pairs(9)},
		{Name: "10 data pairs", N: pairs(10)},
		{Name: "11 data pairs", N: pairs(11)},
		{Name: "empty data key", N: with(func(n *vendors.Notification) { n.Data[""] = "v" }), Refused: true, Part: vendors.PartData},
		{Name: "4 KB of data", N: checktest.Pad(*note("m-check"), 4096), Refused: true, Part: vendors.PartData},
		{Name: "large data fitting", N: fits},
		{Name: "large data just over", N: over, Refused: true, Part: vendors.PartData},
		{Name: "packed data fitting", N: packedFits},
		{Name: "packed data just over", N: packedOver, Refused: true, Part: vendors.PartData},
		{Name: "wide data fitting", N: wideFits},
		{Name: "wide data just over", N: wideOver, Refused: true, Part: vendors.PartData},
	}
	checktest.Run(t, vendors.Vivo, cases, e.client.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		return send(t, e.client, n, "tok-a")[0]
	})

	// message_id "m-check" (17) + payload "p1" (9) + the key "pad" (3):
	// 995 characters of pad fill the 1024.
	if got := len(fits.Data["pad"]); got != maxCustomChars-17-9-3 {
		t.Errorf("the largest pad that fits is %d characters", got)
	}
	if got := len([]rune(wideFits.Data["pad"])); got != len(fits.Data["pad"]) {
		t.Errorf("a pad of two-byte characters fits at %d characters, ASCII at %d", got, len(fits.Data["pad"]))
	}
	var le *vendors.LimitError
	if err := e.client.Check(over); !errors.As(err, &le) || le.Size != maxCustomChars+1 {
		t.Errorf("just over: %v, want Size %d", err, maxCustomChars+1)
	}
	if m := customMap(packedFits.MessageID, packedFits.Data); len(m) != maxCustomPairs || !strings.Contains(m[overflowKey], `"pad"`) {
		t.Errorf("the packed pad does not travel in %s: %v pairs", overflowKey, len(m))
	}
}

// A push refused for its data is refused on the list path too
// (saveListPayload), and one that fits is delivered to every token.
func TestCheckedSizesOnTheListPath(t *testing.T) {
	e := newEnv(t, SimOptions{})
	fits, over := checktest.Sized(t, e.client.Check, 2000, func(pad int) *vendors.Notification {
		return checktest.Pad(*note("m-list"), pad)
	})
	for _, r := range send(t, e.client, fits, "tok-a", "tok-b") {
		if r.Verdict != vendors.Delivered {
			t.Errorf("fits: %+v", r)
		}
	}
	for _, r := range send(t, e.client, over, "tok-a", "tok-b") {
		if r.Verdict == vendors.Delivered {
			t.Errorf("over: %+v", r)
		}
	}
}
