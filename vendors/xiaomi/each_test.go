package xiaomi

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// Rows of different messages in one /v2/multi_messages/regids request:
// each target gets its own message, malformed tokens and a message MiPush
// would refuse stay out of the request, and the messages field is what
// encoding/json writes for the array of each notification's
// /v3/message/regid fields.
func TestSendEachPutsOneMessagePerTargetInOneRequest(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	a, b := msg("m-a"), msg("m-b")
	a.Channel = "im-private"
	b.Title, b.Body, b.TTL = "Bob <&>", "on my way \"now\" 马上", time.Hour
	pass := &vendors.Notification{MessageID: "m-p", Passthrough: true, Data: map[string]string{"k": "v"}}
	noText := &vendors.Notification{MessageID: "m-x"}
	ns := []*vendors.Notification{a, b, b, pass, noText, a, b}
	tokens := []string{"r-1", "r/2+x=", "unregistered-3", "r-4", "r-5", "bad token", "r-7"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := env.client.SendEach(ctx, ns, targets(tokens...))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.Delivered, "0"}, verdict{vendors.Delivered, "0"}, verdict{vendors.TokenInvalid, "bad_regids"},
		verdict{vendors.Delivered, "0"}, verdict{vendors.Rejected, "encode"}, verdict{vendors.TokenInvalid, "invalid_regid"},
		verdict{vendors.Delivered, "0"})
	want := simkit.Stats{Requests: 1, Notifications: 4, Unique: 4, Rejected: 1}
	if env.stats() != want {
		t.Errorf("simulator stats %+v, want %+v: the five sendable targets in one request, four accepted", env.stats(), want)
	}
	got := env.sim.Received()
	if len(got) != 1 {
		t.Fatalf("%d requests logged, want 1", len(got))
	}
	sent := []int{0, 1, 2, 3, 6} // the targets that went, in order
	if len(got[0].Messages) != len(sent) {
		t.Fatalf("received %+v", got[0].Messages)
	}
	for j, i := range sent {
		m := got[0].Messages[j]
		if m.RegID != tokens[i] || m.MessageID != ns[i].MessageID || m.PassThrough != ns[i].Passthrough {
			t.Errorf("message %d = %+v, want %s to get %s", j, m, tokens[i], ns[i].MessageID)
		}
	}
	if m := got[0].Messages[0]; m.ChannelID != "im-private" {
		t.Errorf("channel %q", m.ChannelID)
	}

	// The messages field, byte for byte.
	var ref []refTargeted
	for _, i := range sent {
		form, err := url.ParseQuery(string(env.client.enc.appendForm(nil, ns[i], []string{tokens[i]})))
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, refTargeted{Target: tokens[i], Message: refFromForm(t, form)})
	}
	wantJSON, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := got[0].Form.Get("messages"); got != string(wantJSON) {
		t.Errorf("messages:\n got %s\nwant %s", got, wantJSON)
	}
	if len(got[0].Form) != 1 {
		t.Errorf("form fields %v, want messages only", got[0].Form)
	}
}

// One encoding per run of one notification: the runs' messages are those
// appendMessage writes, escaped once each.
func TestSendEachEncodesARunOnce(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	a, b := msg("m-a"), msg("m-b")
	ns := []*vendors.Notification{a, a, a, b, a}
	out := make([]vendors.Result, len(ns))
	body, regIDs, slots := env.client.eachRequest(ns, targets("r1", "r2", "r3", "r4", "r5"), out)
	if len(regIDs) != 5 || len(slots) != 5 {
		t.Fatalf("regIDs %v slots %v", regIDs, slots)
	}
	msgs := map[*vendors.Notification][]byte{a: env.client.enc.appendMessage(nil, a), b: env.client.enc.appendMessage(nil, b)}
	raw := appendEach(nil, regIDs, func(j int) ([]byte, bool) { return msgs[ns[j]], false }, appendRaw)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("messages") != string(raw) {
		t.Errorf("messages:\n got %s\nwant %s", form.Get("messages"), raw)
	}
	var entries []refTargeted
	if err := json.Unmarshal(raw, &entries); err != nil || len(entries) != 5 || entries[3].Target != "r4" {
		t.Errorf("messages do not decode as five targeted messages: %v %+v", err, entries)
	}
}

func TestSendEachArguments(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	ctx := context.Background()
	if _, err := env.client.SendEach(ctx, []*vendors.Notification{msg("m")}, targets("a", "b")); err == nil {
		t.Error("one notification for two targets: no error")
	}
	if _, err := env.client.SendEach(ctx, []*vendors.Notification{msg("m"), nil}, targets("a", "b")); err == nil {
		t.Error("nil notification: no error")
	}
	many := make([]*vendors.Notification, MaxBatch+1)
	for i := range many {
		many[i] = msg("m")
	}
	if _, err := env.client.SendEach(ctx, many, make([]vendors.Target, len(many))); err == nil {
		t.Error("1001 targets: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := env.client.SendEach(cancelled, []*vendors.Notification{msg("m")}, targets("a")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v", err)
	}
	if res, err := env.client.SendEach(ctx, nil, nil); err != nil || len(res) != 0 {
		t.Errorf("no targets: %v %v", res, err)
	}
	res, err := env.client.SendEach(ctx, []*vendors.Notification{msg("m"), {MessageID: "no text"}}, targets("", "r"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.TokenInvalid, "invalid_regid"}, verdict{vendors.Rejected, "encode"})
	if st := env.stats(); st.Requests != 0 {
		t.Errorf("requests sent for calls with nothing to send: %+v", st)
	}
}

// Whole-request answers reach every sent target and only them.
func TestSendEachWholeRequestAnswers(t *testing.T) {
	ctx := context.Background()
	bad := newSimEnv(t, SimOptions{}, func(c *Config) { c.AppSecret = "wrong-secret" })
	res, err := bad.client.SendEach(ctx, []*vendors.Notification{msg("a"), msg("b"), msg("c")}, targets("r1", "", "r3"))
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, res, verdict{vendors.CredentialsBroken, "21301"}, verdict{vendors.TokenInvalid, "invalid_regid"},
		verdict{vendors.CredentialsBroken, "21301"})
	if st := bad.stats(); st.Requests != 1 || st.Rejected != 2 || len(bad.sim.Received()) != 0 {
		t.Errorf("stats %+v, %d logged", st, len(bad.sim.Received()))
	}

	env := newSimEnv(t, SimOptions{Channels: []string{"im-private"}}, nil)
	res, _ = env.client.SendEach(ctx, []*vendors.Notification{msg("a"), msg("b")}, targets("r1", "unavailable-2"))
	checkResults(t, res, verdict{vendors.Retry, "10002"}, verdict{vendors.Retry, "10002"})
	res, _ = env.client.SendEach(ctx, []*vendors.Notification{msg("a"), msg("b")}, targets("unregistered-1", "unregistered-2"))
	checkResults(t, res, verdict{vendors.TokenInvalid, "20301"}, verdict{vendors.TokenInvalid, "20301"})
	other := msg("b")
	other.Channel = "public" // MiPush answers one code per request: one bad message fails them all
	res, _ = env.client.SendEach(ctx, []*vendors.Notification{msg("a"), other}, targets("r1", "r2"))
	checkResults(t, res, verdict{vendors.Rejected, "27001"}, verdict{vendors.Rejected, "27001"})
	if !strings.Contains(res[0].Reason, "messages[1]") {
		t.Errorf("reason %q does not name the message at fault", res[0].Reason)
	}
}

// The senders (actors.eachOf) put peer messages' rows through SendEach of
// a batch client that is an EachSender and makes no request per target.
func TestClientIsABatchEachSender(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var s vendors.Sender = c
	if _, ok := s.(vendors.EachSender); !ok || vendors.RequestPerTarget(s) {
		t.Errorf("EachSender %v, RequestPerTarget %v", ok, vendors.RequestPerTarget(s))
	}
}
