package oppo

import (
	"strings"
	"testing"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the OPPO simulator refuses: a passthrough
// without text, a message without a channel, an unlisted category and
// banner level (16, a call's default) with an operational category; a
// blank title or content borrows the other's text, and long text is cut,
// so both go.
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
		{Name: "service category, banner", N: with(func(n *vendors.Notification) { n.Category, n.NotifyLevel = "ACCOUNT", 16 })},
		{Name: "operational category", N: with(func(n *vendors.Notification) { n.Category, n.NotifyLevel = "NEWS", 2 })},
		{Name: "operational category, banner", N: with(func(n *vendors.Notification) { n.Category, n.NotifyLevel = "MARKETING", 16 }),
			Refused: true, Part: vendors.PartResource},
		{Name: "unlisted category", N: with(func(n *vendors.Notification) { n.Category = "WORK" }), Refused: true, Part: vendors.PartResource},
		{Name: "call", N: with(func(n *vendors.Notification) { n.VoIP = true })},
		{Name: "call, service category", N: with(func(n *vendors.Notification) { n.VoIP, n.Category = true, "TODO" })},
		{Name: "call, operational category", N: with(func(n *vendors.Notification) { n.VoIP, n.Category = true, "NEWS" }),
			Refused: true, Part: vendors.PartResource},
		{Name: "call, level 1", N: with(func(n *vendors.Notification) { n.VoIP, n.Category, n.NotifyLevel = true, "NEWS", 1 })},
	}
	checktest.Run(t, vendors.OPPO, cases, e.client.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		return e.send(t, n, "CN_a")[0]
	})
}

// The categories the config accepts for OPPO are the ones Check and the
// simulator know, each of the same kind.
func TestCategoriesAgreeWithTheConfig(t *testing.T) {
	service, operational := configs.OPPOCategories()
	for _, c := range service {
		if known, svc := categoryKind(c); !known || !svc {
			t.Errorf("%s: known %v, service %v; the config calls it a service category", c, known, svc)
		}
	}
	for _, c := range operational {
		if known, svc := categoryKind(c); !known || svc {
			t.Errorf("%s: known %v, service %v; the config calls it operational", c, known, svc)
		}
	}
	n := 0
	for _, c := range []string{"IM", "ACCOUNT", "DEVICE_REMINDER", "ORDER", "TODO", "SUBSCRIPTION", "NEWS", "CONTENT", "MARKETING", "SOCIAL", "WORK", "VOIP"} {
		if known, _ := categoryKind(c); known {
			n++
		}
	}
	if n != len(service)+len(operational) {
		t.Errorf("categoryKind knows %d categories, the config %d", n, len(service)+len(operational))
	}
}
