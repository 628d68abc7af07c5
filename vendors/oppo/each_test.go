package oppo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// Rows of different messages in one unicast_batch request: each target
// gets its own notification, and the form is what url.Values encodes for
// the array of each message as Send would write it alone.
func TestSendEachPutsOneMessagePerTargetInOneRequest(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	a, b := chatNotification("m-a"), chatNotification("m-b")
	b.Title, b.Body = "Bob", "on my way"
	pass := &vendors.Notification{MessageID: "m-p", Passthrough: true, Data: map[string]string{"k": "v"}}
	ns := []*vendors.Notification{a, b, b, pass, a}
	tokens := []string{"CN_1", "CN_2", "unregistered-3", "CN_4", "CN_5"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := e.client.SendEach(ctx, ns, targets(tokens...))
	if err != nil {
		t.Fatal(err)
	}
	wantVerdicts(t, res, vendors.Delivered, vendors.Delivered, vendors.TokenInvalid, vendors.Rejected, vendors.Delivered)
	if res[3].Code != "passthrough_unsupported" {
		t.Errorf("passthrough target: %+v", res[3])
	}
	if st := e.stats(); st.Requests != 1 || st.Notifications != 3 {
		t.Errorf("simulator stats %+v: want the four sendable targets in one request, three accepted", st)
	}
	got := map[string]string{}
	for _, r := range e.sim.Received() {
		got[r.RegID] = r.MessageID
	}
	want := map[string]string{"CN_1": "m-a", "CN_2": "m-b", "CN_5": "m-a"}
	if len(got) != len(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for reg, id := range want {
		if got[reg] != id {
			t.Errorf("%s got message %q, want %q", reg, got[reg], id)
		}
	}

	// The form, byte for byte: each message as encodeMessages writes it
	// for its own notification, in one array.
	var parts []string
	for i, n := range []*vendors.Notification{a, b, b} {
		one, err := encodeMessages(n, []string{tokens[i]})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, strings.TrimSuffix(strings.TrimPrefix(string(one), "["), "]"))
	}
	wantJSON := "[" + strings.Join(parts, ",") + "]"
	tails := map[*vendors.Notification][]byte{}
	for _, n := range []*vendors.Notification{a, b} {
		if tails[n], err = notificationTail(nil, n, "", appendRaw); err != nil {
			t.Fatal(err)
		}
	}
	each := []*vendors.Notification{a, b, b}
	gotJSON := appendEach(nil, tokens[:3], func(i int) (string, []byte) { return each[i].MessageID, tails[each[i]] }, appendRaw)
	if string(gotJSON) != wantJSON {
		t.Errorf("messages:\n got %s\nwant %s", gotJSON, wantJSON)
	}
}

func TestSendEachRefusesMismatchedLengthsAndNilNotifications(t *testing.T) {
	e := newEnv(t, SimOptions{}, nil)
	ctx := context.Background()
	if _, err := e.client.SendEach(ctx, []*vendors.Notification{chatNotification("m")}, targets("a", "b")); err == nil {
		t.Error("one notification for two targets: no error")
	}
	if _, err := e.client.SendEach(ctx, []*vendors.Notification{nil}, targets("a")); err == nil {
		t.Error("nil notification: no error")
	}
	if st := e.stats(); st.Requests != 0 {
		t.Errorf("requests sent for refused calls: %+v", st)
	}
}
