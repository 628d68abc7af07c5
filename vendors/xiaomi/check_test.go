package xiaomi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/checktest"
)

// Check refuses exactly what the MiPush simulator refuses: a notification
// message without text and a payload of 4096 characters or more. A blank
// title or body borrows the other's text, long text is cut, a message
// without a channel goes to MiPush's default channel and a passthrough
// message needs no text, so all of those go.
func TestCheckAgreesWithTheSimulator(t *testing.T) {
	// No Config.ChannelID: a notification without Channel goes without
	// extra.channel_id.
	e := newSimEnv(t, SimOptions{Channels: []string{"im-private"}}, func(c *Config) { c.ChannelID = "" })
	chat := func() *vendors.Notification {
		n := msg("m-check")
		n.Channel = "im-private"
		return n
	}
	with := func(f func(n *vendors.Notification)) *vendors.Notification {
		n := chat()
		f(n)
		return n
	}
	long := strings.Repeat("长", 300)
	padded := func(s string) func(pad int) *vendors.Notification {
		return func(pad int) *vendors.Notification {
			return with(func(n *vendors.Notification) { n.Data["pad"] = strings.Repeat(s, pad) })
		}
	}
	fits, over := checktest.Sized(t, e.client.Check, 5000, padded("x"))
	wideFits, wideOver := checktest.Sized(t, e.client.Check, 5000, padded("字"))
	// "<" travels as \u003c in the JSON payload: six characters each.
	escFits, escOver := checktest.Sized(t, e.client.Check, 5000, padded("<"))
	passFits, passOver := checktest.Sized(t, e.client.Check, 5000, func(pad int) *vendors.Notification {
		return with(func(n *vendors.Notification) {
			n.Passthrough, n.Title, n.Body = true, "", ""
			n.Data["pad"] = strings.Repeat("x", pad)
		})
	})
	cases := []checktest.Case{
		{Name: "chat", N: chat()},
		{Name: "title only", N: with(func(n *vendors.Notification) { n.Body = "" })},
		{Name: "content only", N: with(func(n *vendors.Notification) { n.Title = "" })},
		{Name: "blank title", N: with(func(n *vendors.Notification) { n.Title = " \t" })},
		{Name: "no text", N: with(func(n *vendors.Notification) { n.Title, n.Body = "", " " }), Refused: true, Part: vendors.PartText},
		{Name: "long text", N: with(func(n *vendors.Notification) { n.Title, n.Body = long, long })},
		{Name: "passthrough with text", N: with(func(n *vendors.Notification) { n.Passthrough = true })},
		{Name: "passthrough without text", N: with(func(n *vendors.Notification) { n.Passthrough, n.Title, n.Body = true, "", "" })},
		{Name: "VoIP call", N: with(func(n *vendors.Notification) {
			n.VoIP, n.TTL = true, 30*time.Second
			n.Data = map[string]string{"call_id": "c1", "kind": "invite", "payload": `{"from":"alice"}`}
		})},
		{Name: "no channel", N: with(func(n *vendors.Notification) { n.Channel = "" })},
		{Name: "11 data pairs", N: with(func(n *vendors.Notification) {
			for _, k := range strings.Fields("a b c d e f g h i j k") {
				n.Data[k] = "v"
			}
		})},
		{Name: "extra over 1024 characters", N: with(func(n *vendors.Notification) { n.Data["big"] = strings.Repeat("v", 2000) })},
		{Name: "4 KB of data", N: checktest.Pad(*chat(), 4096), Refused: true, Part: vendors.PartData},
		{Name: "large data fitting", N: fits},
		{Name: "large data just over", N: over, Refused: true, Part: vendors.PartData},
		{Name: "wide data fitting", N: wideFits},
		{Name: "wide data just over", N: wideOver, Refused: true, Part: vendors.PartData},
		{Name: "escaped data fitting", N: escFits},
		{Name: "escaped data just over", N: escOver, Refused: true, Part: vendors.PartData},
		{Name: "passthrough data fitting", N: passFits},
		{Name: "passthrough data just over", N: passOver, Refused: true, Part: vendors.PartData},
	}
	checktest.Run(t, vendors.Xiaomi, cases, e.client.Check, func(t *testing.T, n *vendors.Notification) vendors.Result {
		res, err := e.client.Send(context.Background(), n, targets("tok-a"))
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	})

	// The payload of the padded chat is {"conv":"c1","message_id":"m-check","pad":"<pad>"}.
	room := maxPayload - len(`{"conv":"c1","message_id":"m-check","pad":""}`)
	for _, c := range []struct {
		name string
		n    *vendors.Notification
		want int // pad characters
	}{{"ASCII", fits, room}, {"two-byte", wideFits, room}, {"escaped", escFits, room / 6}} {
		if got := len([]rune(c.n.Data["pad"])); got != c.want {
			t.Errorf("%s: the largest pad that fits is %d characters, want %d", c.name, got, c.want)
		}
	}
	var le *vendors.LimitError
	if err := e.client.Check(over); !errors.As(err, &le) || le.Size != maxPayload+1 {
		t.Errorf("just over: %v, want Size %d", err, maxPayload+1)
	}
}

// SendEach leaves out, Rejected "encode", the message Check refuses for
// its payload, and delivers the one that fits in the same call.
func TestSendEachRefusesWhatCheckRefuses(t *testing.T) {
	e := newSimEnv(t, SimOptions{}, nil)
	fits, over := checktest.Sized(t, e.client.Check, 5000, func(pad int) *vendors.Notification {
		return checktest.Pad(*msg("m-each"), pad)
	})
	res, err := e.client.SendEach(context.Background(), []*vendors.Notification{fits, over}, targets("tok-a", "tok-b"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Delivered, "0"}, verdict{vendors.Rejected, "encode"})
	if !strings.Contains(res[1].Reason, "payload") {
		t.Errorf("reason %q does not name the payload", res[1].Reason)
	}
}
