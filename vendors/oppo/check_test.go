package oppo

import (
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the OPPO simulator refuses: a passthrough
// without text and a message without a channel; a blank title or content
// borrows the other's text, and long text is cut, so both go.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	with := func(f func(n *vendors.Notification)) *vendors.Notification {
		n := chatNotification("m-check")
		f(n)
		return n
	}
	long := strings.Repeat("长", 300)
	cases := []checktest.Case{
		{Name: "chat", N: chatNotification("m-check")},
		{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
		{Name: "content only", N: with(func(n *vendors.Notification) { n.Title = "" })},
		{Name: "long text", N: with(func(n *vendors.Notification) { n.Title, n.Body = long, long })},
		{Name: "passthrough with text", N: with(func(n *vendors.Notification) { n.Passthrough = true })},
		{Name: "passthrough without text", N: with(func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" }),
			Refused: true, Part: vendors.PartText},
		{Name: "no text", N: with(func(n *vendors.Notification) { n.Title, n.Body = "", "" }), Refused: true, Part: vendors.PartText},
		{Name: "blank text", N: with(func(n *vendors.Notification) { n.Title, n.Body = "", " " })},
		{Name: "no channel", N: with(func(n *vendors.Notification) { n.Channel = "" }), Refused: true, Part: vendors.PartResource},
		{Name: "large data", N: checktest.Pad(*chatNotification("m-check"), 8000)},
	}
	checktest.Run(t, vendors.OPPO, cases, e.client.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		return e.send(t, n, "CN_a")[0]
	})
}
