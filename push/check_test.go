package push

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// checkingSender stands in for a vendor client: it records what it was
// asked to check and refuses what refuse says.
type checkingSender struct {
	kind    vendors.Kind
	checked []vendors.Notification
	refuse  func(n *vendors.Notification) bool
}

func (c *checkingSender) Kind() vendors.Kind { return c.kind }
func (c *checkingSender) MaxBatch() int      { return 1 }
func (c *checkingSender) Send(context.Context, *vendors.Notification, []vendors.Target) ([]vendors.Result, error) {
	return nil, errors.New("not for sending")
}
func (c *checkingSender) Check(n *vendors.Notification) error {
	c.checked = append(c.checked, *n)
	if c.refuse != nil && c.refuse(n) {
		return &vendors.LimitError{Vendor: c.kind, Part: vendors.PartData, Limit: "less"}
	}
	return nil
}

// plainSender is a client that cannot check: it is skipped.
type plainSender struct{}

func (plainSender) Kind() vendors.Kind { return vendors.FCM }
func (plainSender) MaxBatch() int      { return 1 }
func (plainSender) Send(context.Context, *vendors.Notification, []vendors.Target) ([]vendors.Result, error) {
	return nil, errors.New("not for sending")
}

func clientsOf(kinds ...vendors.Kind) (map[vendors.Kind]vendors.Sender, map[vendors.Kind]*checkingSender) {
	clients := map[vendors.Kind]vendors.Sender{}
	checkers := map[vendors.Kind]*checkingSender{}
	for _, k := range kinds {
		c := &checkingSender{kind: k}
		clients[k], checkers[k] = c, c
	}
	return clients, checkers
}

// CheckMessage checks the notification each configured vendor's devices
// would get (its resource settings, the payload and message id in the
// data, never the VoIP form unless the resource asks for it), and a
// message without a push not at all.
func TestCheckMessageComposesForEveryConfiguredVendor(t *testing.T) {
	clients, checkers := clientsOf(vendors.APNs, vendors.OPPO, vendors.Vivo)
	clients[vendors.FCM] = plainSender{}
	res := map[string]configs.Resource{"chat": {Vendors: map[string]configs.ResourceVendor{"oppo": {ChannelID: "im"}}}}
	m := &store.Message{MessageID: "m1", HasPush: true, Title: "t", Payload: "p", ResourcesID: "chat", TTLSeconds: 60}
	if err := CheckMessage(clients, res, m); err != nil {
		t.Fatal(err)
	}
	for k, c := range checkers {
		if len(c.checked) != 1 {
			t.Fatalf("%s checked %d notifications, want 1", k, len(c.checked))
		}
		n := c.checked[0]
		if n.VoIP || n.Title != "t" || n.Data["payload"] != "p" || n.Data["message_id"] != "m1" || n.TTL != time.Minute {
			t.Errorf("%s checked %+v", k, n)
		}
	}
	if b := checkers[vendors.APNs].checked[0].Badge; b != nil {
		t.Errorf("a message that leaves the badge alone was checked with badge %d", *b)
	}
	// A message that raises the badge is checked with the widest count a
	// target may carry.
	if err := CheckMessage(clients, res, &store.Message{MessageID: "m3", HasPush: true, Title: "t", BadgeIncrement: 1}); err != nil {
		t.Fatal(err)
	}
	if b := checkers[vendors.APNs].checked[1].Badge; b == nil || *b != math.MaxInt {
		t.Errorf("a badge-raising message was checked with badge %v, want math.MaxInt", b)
	}
	for _, c := range checkers {
		c.checked = c.checked[:1]
	}
	if ch := checkers[vendors.OPPO].checked[0].Channel; ch != "im" {
		t.Errorf("oppo checked channel %q, want the resource's im", ch)
	}
	if err := CheckMessage(clients, res, &store.Message{MessageID: "m2"}); err != nil || len(checkers[vendors.APNs].checked) != 1 {
		t.Fatalf("a message without a push was checked (err %v)", err)
	}
}

// CheckCall checks an APNs invitation in both forms (VoIP on a PushKit
// token, an ordinary push without one) and every other vendor's call
// form, each with its cancel notice; the first refusal in vendors.Kinds
// order is the answer.
func TestCheckCallChecksEveryRingingForm(t *testing.T) {
	clients, checkers := clientsOf(vendors.APNs, vendors.Huawei)
	call := &store.Call{CallID: "c1", Inviter: "amy", Title: "amy calling", Content: "video", Data: []byte(`{"room":"r"}`)}
	if err := CheckCall(clients, nil, call, time.Minute); err != nil {
		t.Fatal(err)
	}
	type form struct {
		voip   bool
		invite bool
	}
	want := map[vendors.Kind][]form{vendors.APNs: {{true, true}, {true, false}, {false, true}, {false, false}},
		vendors.Huawei: {{true, true}, {true, false}}}
	for k, c := range checkers {
		var got []form
		for _, n := range c.checked {
			got = append(got, form{n.VoIP, n.Data["type"] == "call_invite"})
			if n.Data["type"] == "call_invite" && n.Data["call_data"] != `{"room":"r"}` {
				t.Errorf("%s: invitation without the call data: %+v", k, n)
			}
		}
		if len(got) != len(want[k]) {
			t.Fatalf("%s checked %v, want %v", k, got, want[k])
		}
		for i := range got {
			if got[i] != want[k][i] {
				t.Fatalf("%s checked %v, want %v", k, got, want[k])
			}
		}
	}

	checkers[vendors.APNs].refuse = func(n *vendors.Notification) bool { return !n.VoIP }
	checkers[vendors.Huawei].refuse = func(*vendors.Notification) bool { return true }
	var le *vendors.LimitError
	if err := CheckCall(clients, nil, call, time.Minute); !errors.As(err, &le) || le.Vendor != vendors.APNs {
		t.Fatalf("CheckCall = %v, want APNs's refusal (first in order)", err)
	}
}
