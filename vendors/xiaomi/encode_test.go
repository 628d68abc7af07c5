package xiaomi

import (
	"encoding/json"
	"flag"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var update = flag.Bool("update", false, "rewrite golden files")

func intp(i int) *int { return &i }

// goldenCases are the notifications whose exact wire form is pinned.
func goldenCases() map[string]*vendors.Notification {
	many := map[string]string{"message_id": "ignored: MessageID wins", "callback": "https://evil.example/cb",
		"notify_effect": "3", "channel_id": "other", "0first": "sorts before k01"}
	for _, k := range []string{"k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09", "k10", "k11"} {
		many[k] = "v" + k
	}
	return map[string]*vendors.Notification{
		"notification": {
			MessageID: "msg-1", Title: "Alice", Body: "hi there", Data: map[string]string{"conv": "c1", "a": "1"},
			TTL: time.Hour, CollapseID: "conv-c1", Sound: "ring.mp3", Channel: "im-private", Badge: intp(3),
			Category: "IM", ThreadID: "t", Mutable: true,
		},
		"passthrough": {
			MessageID: "msg-2", Data: map[string]string{"type": "sync", "seq": "42"}, Passthrough: true,
			Channel: "im-private",
		},
		"voip": {
			MessageID: "call-7", Title: "来电：一个非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常非常长的名字的联系人",
			Body: "Incoming call & more = <fun> 100%", Data: map[string]string{"call_id": "c-9", "payload": `{"x":"y"}`},
			VoIP: true, Priority: vendors.PriorityHigh, TTL: 30 * time.Second, Channel: "calls-private",
		},
		"many-data":  {MessageID: "msg-3", Title: "t", Body: "b", Data: many, Channel: "im-private"},
		"no-channel": {MessageID: "msg-4", Body: "only a body", Sound: "android.resource://x/raw/y"},
	}
}

func TestEncodeGolden(t *testing.T) {
	enc := encoder{pkg: "com.example.chat", channel: "fallback-public"}
	regIDs := []string{"regid-1", "regid/2+x="}
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			body := string(enc.appendForm(nil, n, regIDs))
			got := strings.ReplaceAll(body, "&", "\n") + "\n" // lossless: '&' in values is %26
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("wire form differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
			}
			checkDecoded(t, body, n, regIDs)
		})
	}
}

// checkDecoded checks the meaning of a body: it parses, carries every
// custom-data entry in payload and at most ten custom extras.
func checkDecoded(t *testing.T, body string, n *vendors.Notification, regIDs []string) {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("body does not parse: %v", err)
	}
	if got := form.Get("registration_id"); got != strings.Join(regIDs, ",") {
		t.Errorf("registration_id = %q", got)
	}
	var payload map[string]string
	if err := json.Unmarshal([]byte(form.Get("payload")), &payload); err != nil {
		t.Fatalf("payload is not a JSON object of strings: %v", err)
	}
	want := maps.Clone(n.Data)
	if want == nil {
		want = map[string]string{}
	}
	want[messageIDKey] = n.MessageID
	if !maps.Equal(payload, want) {
		t.Errorf("payload = %v, want %v", payload, want)
	}
	if got := form.Get("extra.message_id"); got != n.MessageID {
		t.Errorf("extra.message_id = %q, want %q", got, n.MessageID)
	}
	sim := &Simulator{pkg: "com.example.chat"}
	req, p := sim.parseSimRequest(form, regIDs)
	if e := sim.check(req, &p); e != nil {
		t.Errorf("the simulator refuses the encoding: %d %s", e.Code, e.Reason)
	}
}

func TestExtrasLimits(t *testing.T) {
	enc := encoder{pkg: "p", channel: "c"}
	n := &vendors.Notification{MessageID: "m", Title: "t", Body: "b", Data: map[string]string{
		"long-value": strings.Repeat("长", maxExtraLen+1), "ok-value": strings.Repeat("长", maxExtraLen),
		strings.Repeat("k", maxExtraLen+1): "long key",
	}}
	form, err := url.ParseQuery(string(enc.appendForm(nil, n, []string{"r"})))
	if err != nil {
		t.Fatal(err)
	}
	if form.Has("extra.long-value") || form.Has("extra."+strings.Repeat("k", maxExtraLen+1)) {
		t.Error("an extra over 1024 characters was sent")
	}
	if !form.Has("extra.ok-value") {
		t.Error("an extra of exactly 1024 characters was dropped")
	}
	if !strings.Contains(form.Get("payload"), "long-value") {
		t.Error("payload lost the long entry")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly-10", 10, "exactly-10"},
		{"eleven-char", 10, "eleven-ch…"},
		{"一二三四五六", 4, "一二三…"},
	} {
		if got := truncate(tc.in, tc.limit); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestNotifyID(t *testing.T) {
	a, _ := notifyID(&vendors.Notification{MessageID: "m1", CollapseID: "c"})
	b, _ := notifyID(&vendors.Notification{MessageID: "m2", CollapseID: "c"})
	c, _ := notifyID(&vendors.Notification{MessageID: "m1"})
	d, _ := notifyID(&vendors.Notification{MessageID: "m2"})
	if a != b {
		t.Errorf("same collapse id, different notify_id: %d %d", a, b)
	}
	if c == d {
		t.Errorf("distinct messages without collapse id share notify_id %d", c)
	}
	if _, ok := notifyID(&vendors.Notification{}); ok {
		t.Error("notify_id without collapse or message id")
	}
	for _, id := range []int32{a, c, d} {
		if id < 0 {
			t.Errorf("negative notify_id %d", id)
		}
	}
}

// refMessage is one /v2/multi_messages/regids message as the Go SDKs
// marshal theirs (numbers as JSON numbers, extras as a map, which
// encoding/json writes in sorted key order); refFromForm fills it from
// the /v3/message/regid form of the same notification.
type refMessage struct {
	RestrictedPackageName string            `json:"restricted_package_name"`
	PassThrough           int               `json:"pass_through"`
	Title                 *string           `json:"title,omitempty"`
	Description           *string           `json:"description,omitempty"`
	Payload               string            `json:"payload"`
	NotifyType            *int64            `json:"notify_type,omitempty"`
	NotifyID              *int64            `json:"notify_id,omitempty"`
	TimeToLive            *int64            `json:"time_to_live,omitempty"`
	Extra                 map[string]string `json:"extra,omitempty"`
}

type refTargeted struct {
	Target  string     `json:"target"`
	Message refMessage `json:"message"`
}

// refFromForm is the message object carrying exactly the fields of form.
func refFromForm(t *testing.T, form url.Values) refMessage {
	t.Helper()
	m := refMessage{RestrictedPackageName: form.Get("restricted_package_name"), Payload: form.Get("payload")}
	num := func(name string) *int64 {
		if !form.Has(name) {
			return nil
		}
		n, err := strconv.ParseInt(form.Get(name), 10, 64)
		if err != nil {
			t.Fatalf("%s = %q", name, form.Get(name))
		}
		return &n
	}
	m.PassThrough = int(*num("pass_through"))
	m.NotifyType, m.NotifyID, m.TimeToLive = num("notify_type"), num("notify_id"), num("time_to_live")
	for _, f := range []struct {
		name string
		dst  **string
	}{{"title", &m.Title}, {"description", &m.Description}} {
		if form.Has(f.name) {
			v := form.Get(f.name)
			*f.dst = &v
		}
	}
	for k, vs := range form {
		name, ok := strings.CutPrefix(k, "extra.")
		switch {
		case ok:
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[name] = vs[0]
		case k == "registration_id", k == "restricted_package_name", k == "payload", k == "pass_through",
			k == "notify_type", k == "notify_id", k == "time_to_live", k == "title", k == "description":
		default:
			t.Errorf("form field %q has no place in refMessage", k)
		}
	}
	return m
}

// The message object of /v2/multi_messages/regids: pinned by golden files,
// byte for byte what encoding/json writes for the fields of the same
// notification's /v3/message/regid form, and accepted by the simulator.
func TestEncodeMessageGolden(t *testing.T) {
	enc := encoder{pkg: "com.example.chat", channel: "fallback-public"}
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			got := enc.appendMessage(nil, n)
			path := filepath.Join("testdata", name+".message.golden")
			if *update {
				if err := os.WriteFile(path, append(slices.Clone(got), '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if string(got)+"\n" != string(want) {
				t.Errorf("message differs from %s:\n got %s\nwant %s", path, got, want)
			}
			form, err := url.ParseQuery(string(enc.appendForm(nil, n, []string{"r"})))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := json.Marshal(refFromForm(t, form))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(ref) {
				t.Errorf("message is not the form's fields as encoding/json writes them:\n got %s\nwant %s", got, ref)
			}
			sim := &Simulator{pkg: "com.example.chat"}
			targets, _, e := newSimDecoder().decode(`[{"target":"r","message":` + string(got) + `}]`)
			if e == nil {
				e = sim.checkParams(&targets[0].p)
			}
			if e != nil {
				t.Fatalf("the simulator refuses the message: %d %s", e.Code, e.Reason)
			}
			if targets[0].messageID != n.MessageID {
				t.Errorf("simulator read message id %q, want %q", targets[0].messageID, n.MessageID)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	withChannel := encoder{pkg: "p", channel: "c"}
	without := encoder{pkg: "p"}
	for _, tc := range []struct {
		name string
		enc  encoder
		n    vendors.Notification
		want string // substring of the refusal; "" = none
	}{
		{"text and channel", withChannel, vendors.Notification{Title: "t"}, ""},
		{"body only", without, vendors.Notification{Body: "b", Channel: "x"}, ""},
		{"blank text", withChannel, vendors.Notification{Title: " ", Body: "\t"}, "10016"},
		{"no channel", without, vendors.Notification{Title: "t"}, ""},
		{"passthrough needs no text", without, vendors.Notification{Passthrough: true}, ""},
		{"payload of 4096 characters", withChannel, vendors.Notification{Title: "t", Data: map[string]string{"k": strings.Repeat("x", maxPayload+1-len(`{"k":""}`))}}, "payload"},
		{"payload of 4095 characters", withChannel, vendors.Notification{Title: "t", Data: map[string]string{"k": strings.Repeat("x", maxPayload-len(`{"k":""}`))}}, ""},
	} {
		got := tc.enc.refusal(&tc.n)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: refusal %q, want one with %q", tc.name, got, tc.want)
		}
	}
}
