package xiaomi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
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
	env := newSimEnv(t, SimOptions{KeepMultiForm: true}, nil)
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

// refBody is the body SendEach should send for the targets slots of ns
// (tokens regIDs): each message encoded on its own, the array written by
// encoding/json, the form by net/url.
func refBody(t *testing.T, enc encoder, ns []*vendors.Notification, regIDs []string, slots []int) string {
	t.Helper()
	type entry struct {
		Target  string          `json:"target"`
		Message json.RawMessage `json:"message"`
	}
	entries := make([]entry, len(slots))
	for j, i := range slots {
		entries[j] = entry{regIDs[j], enc.appendMessage(nil, ns[i])}
	}
	raw, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"messages": {string(raw)}}.Encode()
}

// The body is each sent target's message as appendMessage writes it, a
// run of one notification copied from its first encoding, also when the
// run is broken by a target left out (a malformed token, a refused
// notification) or when a notification comes back after another.
func TestSendEachBodyCopiesRuns(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: SimPackageName, ChannelID: "im-private"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := msg("m-a"), msg("m-b")
	b.Title = "Bob <&> \"马上\""
	noText := &vendors.Notification{MessageID: "m-x"}
	cases := []struct {
		name   string
		ns     []*vendors.Notification
		tokens []string
		slots  []int
	}{
		{"runs", []*vendors.Notification{a, a, a, b, a}, []string{"r1", "r2", "r3", "r4", "r5"}, []int{0, 1, 2, 3, 4}},
		{"a run broken by a bad token", []*vendors.Notification{a, a, a}, []string{"r1", "bad token", "r3"}, []int{0, 2}},
		{"a run broken by a refused notification", []*vendors.Notification{a, noText, a, b}, []string{"r1", "r2", "r3", "r4"}, []int{0, 2, 3}},
		{"one target", []*vendors.Notification{b}, []string{"r1"}, []int{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := make([]vendors.Result, len(tc.ns))
			regIDs, slots := c.eachTargets(tc.ns, targets(tc.tokens...), out)
			if !slices.Equal(slots, tc.slots) {
				t.Fatalf("slots %v, want %v", slots, tc.slots)
			}
			body, end := newEachBodies(c.enc, tc.ns, regIDs, slots, MaxEachBody).next(0)
			if end != len(slots) {
				t.Fatalf("one body holds %d of %d entries", end, len(slots))
			}
			if want := refBody(t, c.enc, tc.ns, regIDs, slots); string(body) != want {
				t.Errorf("body:\n got %s\nwant %s", body, want)
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatal(err)
			}
			var entries []refTargeted
			if err := json.Unmarshal([]byte(form.Get("messages")), &entries); err != nil || len(entries) != len(slots) {
				t.Fatalf("messages do not decode as %d targeted messages: %v %+v", len(slots), err, entries)
			}
			for j, i := range slots {
				if entries[j].Target != tc.tokens[i] || entries[j].Message.Extra["message_id"] != tc.ns[i].MessageID {
					t.Errorf("entry %d = %+v, want %s for %s", j, entries[j], tc.ns[i].MessageID, tc.tokens[i])
				}
			}
		})
	}
}

// A run of 1000 targets of one notification is encoded once: building its
// request takes a few allocations, as many as for ten targets.
func TestSendEachEncodesARunOnce(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: SimPackageName, ChannelID: "im-private"})
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(n int) float64 {
		one := goldenCases()["notification"]
		ns := make([]*vendors.Notification, n)
		tgs := make([]vendors.Target, n)
		for i := range ns {
			ns[i], tgs[i].Token = one, fmt.Sprintf("k3mJvLhV0yG1Mq2Yp9xXb8Zc7Ed6Rf5Tg4Hy3Uj2Ik1Ol0Pz+%06d=", i)
		}
		out := make([]vendors.Result, n)
		return testing.AllocsPerRun(20, func() {
			regIDs, slots := c.eachTargets(ns, tgs, out)
			bodies := newEachBodies(c.enc, ns, regIDs, slots, MaxEachBody)
			if _, end := bodies.next(0); end != n {
				t.Fatalf("%d of %d targets in one body", end, n)
			}
		})
	}
	const most = 25
	few, many := allocs(10), allocs(MaxBatch)
	t.Logf("%v allocations for 10 targets, %v for %d", few, many, MaxBatch)
	if many > most || many > few+2 {
		t.Errorf("%v allocations for %d targets of one notification (%v for 10), want at most %d and about as many as for 10",
			many, MaxBatch, few, most)
	}
}

// dataHeavy is the i-th of n distinct notifications carrying about 1.5 KB
// of data, much of it non-ASCII (three bytes each, then nine once
// form-escaped).
func dataHeavy(i int) *vendors.Notification {
	return &vendors.Notification{
		MessageID: fmt.Sprintf("heavy-%04d", i),
		Title:     "Alice", Body: "a long one",
		Data: map[string]string{
			"conv": fmt.Sprintf("c-%d", i),
			"text": fmt.Sprintf("%04d ", i) + strings.Repeat(`数据消息"<&>`, 95), // 1525 bytes, 765 characters
		},
	}
}

// SendEach splits what does not fit in MaxEachBody into further requests:
// 1000 data-heavy notifications (about 9 KB each in the body) all go, in
// order, in several requests none over the budget.
func TestSendEachSplitsAtTheByteBudget(t *testing.T) {
	env := newSimEnv(t, SimOptions{}, nil)
	ns := make([]*vendors.Notification, MaxBatch)
	tokens := make([]string, MaxBatch)
	for i := range ns {
		ns[i], tokens[i] = dataHeavy(i), fmt.Sprintf("r-%04d", i)
	}
	if n := len(ns[0].Data["text"]); n < 1400 || n > 1600 {
		t.Fatalf("data of %d bytes, want about 1.5 KB", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := env.client.SendEach(ctx, ns, targets(tokens...))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Verdict != vendors.Delivered {
			t.Fatalf("target %d: %v %s %s", i, r.Verdict, r.Code, r.Reason)
		}
	}
	st := env.stats()
	if st.Requests < 2 || st.Notifications != MaxBatch || st.Unique != MaxBatch {
		t.Errorf("stats %+v: want every target accepted once, in more than one request", st)
	}
	if got := env.maxLen.Load(); got > MaxEachBody || got == 0 {
		t.Errorf("largest request body %d bytes, budget %d", got, MaxEachBody)
	}
	var seen []string
	for _, r := range env.sim.Received() {
		for _, m := range r.Messages {
			seen = append(seen, m.RegID+"="+m.MessageID)
		}
	}
	for i := range seen {
		if want := tokens[i] + "=" + ns[i].MessageID; seen[i] != want {
			t.Fatalf("message %d at the simulator is %s, want %s", i, seen[i], want)
		}
	}
	if len(seen) != MaxBatch {
		t.Errorf("%d messages at the simulator", len(seen))
	}
	t.Logf("%d requests, largest %d bytes", st.Requests, env.maxLen.Load())
}

// cancelAfterAnswer cancels a context once the first answer has been
// read through it.
type cancelAfterAnswer struct {
	rt     http.RoundTripper
	cancel context.CancelFunc
}

func (c *cancelAfterAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.cancel()
	return resp, nil
}

// A ctx that ends between SendEach's requests is no error: the targets
// answered keep their results, the others are Retry.
func TestSendEachCancelledBetweenRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newSimEnv(t, SimOptions{}, func(c *Config) {
		tr := &http.Transport{TLSClientConfig: c.TLS, ForceAttemptHTTP2: true}
		t.Cleanup(tr.CloseIdleConnections)
		c.HTTPClient = &http.Client{Transport: &cancelAfterAnswer{rt: tr, cancel: cancel}}
	})
	ns := make([]*vendors.Notification, MaxBatch)
	tokens := make([]string, MaxBatch)
	for i := range ns {
		ns[i], tokens[i] = dataHeavy(i), fmt.Sprintf("r-%04d", i)
	}
	res, err := env.client.SendEach(ctx, ns, targets(tokens...))
	if err != nil {
		t.Fatal(err)
	}
	sent := len(env.sim.Received()[0].Messages)
	if sent == 0 || sent == MaxBatch || env.stats().Requests != 1 {
		t.Fatalf("%d targets in the first of %d requests", sent, env.stats().Requests)
	}
	for i, r := range res {
		want := verdict{vendors.Delivered, "0"}
		if i >= sent {
			want = verdict{vendors.Retry, "canceled"}
		}
		if r.Verdict != want.v || r.Code != want.code {
			t.Fatalf("target %d: %v %q (%s), want %v %q", i, r.Verdict, r.Code, r.Reason, want.v, want.code)
		}
	}
}

// Bodies stay within the budget, entries in order; an entry over the
// budget goes alone; a large first message does not size the body for
// 999 more like it.
func TestEachBodiesBudget(t *testing.T) {
	c, err := New(Config{AppSecret: "s", PackageName: SimPackageName, ChannelID: "im-private"})
	if err != nil {
		t.Fatal(err)
	}
	huge := dataHeavy(0)
	huge.Data["blob"] = strings.Repeat("字", 100<<10) // 300 KB, 900 KB escaped
	ns := []*vendors.Notification{huge}
	for i := 1; i < MaxBatch; i++ {
		ns = append(ns, dataHeavy(i))
	}
	tgs := make([]vendors.Target, len(ns))
	for i := range tgs {
		tgs[i].Token = fmt.Sprintf("r-%04d", i)
	}
	out := make([]vendors.Result, len(ns))
	regIDs, slots := c.eachTargets(ns, tgs, out)
	for _, budget := range []int{MaxEachBody, 64 << 10} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			bodies := newEachBodies(c.enc, ns, regIDs, slots, budget)
			var got []refTargeted
			requests := 0
			for start := 0; start < len(slots); requests++ {
				body, end := bodies.next(start)
				if end <= start {
					t.Fatalf("no progress at %d", start)
				}
				if len(body) > budget && end-start > 1 {
					t.Errorf("body [%d,%d) of %d bytes, budget %d", start, end, len(body), budget)
				}
				if start == 0 && cap(body) > max(budget, len(body)) {
					t.Errorf("first body reserved %d bytes for %d, budget %d", cap(body), len(body), budget)
				}
				form, err := url.ParseQuery(string(body))
				if err != nil {
					t.Fatal(err)
				}
				var entries []refTargeted
				if err := json.Unmarshal([]byte(form.Get("messages")), &entries); err != nil || len(entries) != end-start {
					t.Fatalf("body [%d,%d): %v, %d entries", start, end, err, len(entries))
				}
				got = append(got, entries...)
				start = end
			}
			for j, e := range got {
				if e.Target != regIDs[j] {
					t.Fatalf("entry %d for %s, want %s", j, e.Target, regIDs[j])
				}
			}
			if len(got) != len(slots) || requests < 2 {
				t.Errorf("%d entries in %d bodies", len(got), requests)
			}
		})
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
	send := func(ns []*vendors.Notification, tokens ...string) []vendors.Result {
		t.Helper()
		res, err := env.client.SendEach(ctx, ns, targets(tokens...))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res = send([]*vendors.Notification{msg("a"), msg("b")}, "r1", "unavailable-2")
	checkResults(t, res, verdict{vendors.Retry, "10002"}, verdict{vendors.Retry, "10002"})
	res = send([]*vendors.Notification{msg("a"), msg("b")}, "unregistered-1", "unregistered-2")
	checkResults(t, res, verdict{vendors.TokenInvalid, "20301"}, verdict{vendors.TokenInvalid, "20301"})
	other := msg("b")
	other.Channel = "public" // MiPush answers one code per request: one bad message fails them all
	res = send([]*vendors.Notification{msg("a"), other}, "r1", "r2")
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
