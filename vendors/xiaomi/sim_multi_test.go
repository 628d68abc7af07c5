package xiaomi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors/simkit"
)

// validMulti is a message object the simulator accepts.
func validMulti() map[string]any {
	return map[string]any{
		"restricted_package_name": SimPackageName,
		"pass_through":            0,
		"title":                   "t",
		"description":             "d",
		"payload":                 `{"message_id":"m"}`,
		"extra":                   map[string]any{"channel_id": "im-private", "message_id": "m"},
	}
}

// multiBody is the form body for entries, each {"target","message"}.
func multiBody(t *testing.T, entries ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"messages": {string(b)}}.Encode()
}

func entry(target any, message any) map[string]any {
	return map[string]any{"target": target, "message": message}
}

func TestSimulatorMultiValidation(t *testing.T) {
	auth := "key=" + SimAppSecret
	with := func(mutate func(m map[string]any)) map[string]any {
		m := validMulti()
		mutate(m)
		return m
	}
	extras := func(m map[string]any) map[string]any { return m["extra"].(map[string]any) }
	many := make([]map[string]any, MaxBatch+1)
	for i := range many {
		many[i] = entry(fmt.Sprintf("r%d", i), validMulti())
	}
	raw := func(s string) string { return url.Values{"messages": {s}}.Encode() }
	cases := []struct {
		name string
		body func(t *testing.T) string
		auth string
		code int
	}{
		{"valid", func(t *testing.T) string { return multiBody(t, entry("r1", validMulti()), entry("r2", validMulti())) }, auth, CodeOK},
		{"wrong secret", func(t *testing.T) string { return multiBody(t, entry("r1", validMulti())) }, "key=nope", CodeAuthFailed},
		{"no messages field", func(*testing.T) string { return "a=b" }, auth, CodeMissingParam},
		{"not JSON", func(*testing.T) string { return raw(`[{"target":"r1",`) }, auth, CodeIllegalParam},
		{"an object", func(*testing.T) string { return raw(`{"target":"r1"}`) }, auth, CodeIllegalParam},
		{"empty array", func(*testing.T) string { return raw(`[]`) }, auth, CodeMissingParam},
		{"a number entry", func(*testing.T) string { return raw(`[1]`) }, auth, CodeIllegalParam},
		{"no target", func(t *testing.T) string { return multiBody(t, map[string]any{"message": validMulti()}) }, auth, CodeMissingParam},
		{"numeric target", func(t *testing.T) string { return multiBody(t, entry(5, validMulti())) }, auth, CodeIllegalParam},
		{"target with a comma", func(t *testing.T) string { return multiBody(t, entry("r1,r2", validMulti())) }, auth, CodeIllegalParam},
		{"no message", func(t *testing.T) string { return multiBody(t, map[string]any{"target": "r1"}) }, auth, CodeMissingParam},
		{"null message", func(t *testing.T) string { return multiBody(t, entry("r1", nil)) }, auth, CodeMissingParam},
		{"string message", func(t *testing.T) string { return multiBody(t, entry("r1", "hi")) }, auth, CodeIllegalParam},
		{"too many", func(t *testing.T) string { return multiBody(t, many...) }, auth, CodeIllegalParam},
		{"second message without title", func(t *testing.T) string {
			return multiBody(t, entry("r1", validMulti()), entry("r2", with(func(m map[string]any) { delete(m, "title") })))
		}, auth, CodeMissingParam},
		{"title of 50", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["title"] = strings.Repeat("字", 50) })))
		}, auth, CodeIllegalParam},
		{"numeric title", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["title"] = 7 })))
		}, auth, CodeOK},
		{"boolean title", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["title"] = true })))
		}, auth, CodeIllegalParam},
		{"no channel", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { delete(extras(m), "channel_id") })))
		}, auth, CodeIllegalParam},
		{"flattened extras are not read", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { delete(m, "extra"); m["extra.channel_id"] = "im-private" })))
		}, auth, CodeIllegalParam},
		{"unknown channel", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { extras(m)["channel_id"] = "public" })))
		}, auth, CodeChannelMismatch},
		{"other package", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["restricted_package_name"] = "com.other" })))
		}, auth, CodeBadPackage},
		{"pass_through 2", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["pass_through"] = 2 })))
		}, auth, CodeIllegalParam},
		{"pass_through as text, no title", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["pass_through"] = "1"; delete(m, "title") })))
		}, auth, CodeOK},
		{"notify_type 0", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["notify_type"] = 0 })))
		}, auth, CodeIllegalParam},
		{"notify_id 1.5", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["notify_id"] = 1.5 })))
		}, auth, CodeIllegalParam},
		{"time_to_live text", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["time_to_live"] = "1h" })))
		}, auth, CodeIllegalParam},
		{"extra an array", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["extra"] = []string{"x"} })))
		}, auth, CodeIllegalParam},
		{"extra value an object", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { extras(m)["k"] = map[string]any{} })))
		}, auth, CodeIllegalParam},
		{"eleven custom extras", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) {
				for i := range 10 {
					extras(m)[fmt.Sprintf("k%d", i)] = "v"
				}
			})))
		}, auth, CodeIllegalParam},
		{"extra over 1024", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { extras(m)["k"] = strings.Repeat("v", 1025) })))
		}, auth, CodeIllegalParam},
		{"all unregistered", func(t *testing.T) string {
			return multiBody(t, entry("unregistered-1", validMulti()), entry("unregistered-2", validMulti()))
		}, auth, CodeSendFailed},
		{"one unavailable", func(t *testing.T) string {
			return multiBody(t, entry("r1", validMulti()), entry("unavailable-1", validMulti()))
		}, auth, CodeSystemBusy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{Channels: []string{"im-private"}})
			w, a := post(t, sim, http.MethodPost, MultiPath, tc.auth, formType, tc.body(t))
			if w.Code != http.StatusOK || a.Code != tc.code {
				t.Fatalf("HTTP %d code %d (%s), want 200 code %d", w.Code, a.Code, a.Reason, tc.code)
			}
			if want := map[bool]string{true: "ok", false: "error"}[tc.code == CodeOK]; a.Result != want {
				t.Errorf("result %q, want %q", a.Result, want)
			}
		})
	}
}

func TestSimulatorMultiPartialSuccess(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	sim := NewSimulator(rec, SimOptions{})
	other := validMulti()
	delete(other["extra"].(map[string]any), "message_id")
	other["payload"] = `{"message_id":"from-payload"}`
	body := multiBody(t, entry("r1", validMulti()), entry("unregistered-x", validMulti()), entry("r2", other), entry("r1", other))
	_, a := post(t, sim, http.MethodPost, MultiPath, "key="+SimAppSecret, formType, body)
	if a.Code != CodeOK || a.Data.BadRegIDs != "unregistered-x" || a.Data.ID == "" {
		t.Errorf("answer %+v", a)
	}
	want := simkit.Stats{Requests: 1, Notifications: 3, Unique: 3, Rejected: 1}
	if s := rec.Snapshot()[vendorName]; s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
	got := sim.Received()[0]
	var ids []string
	for _, m := range got.Messages {
		ids = append(ids, m.RegID+"="+m.MessageID)
	}
	if strings.Join(ids, " ") != "r1=m unregistered-x=m r2=from-payload r1=from-payload" ||
		strings.Join(got.RegIDs, ",") != "r1,unregistered-x,r2,r1" {
		t.Errorf("logged %v, regids %v", ids, got.RegIDs)
	}
}

// The decoder keeps nothing of one request in the next one's targets.
func TestSimDecoderReuse(t *testing.T) {
	d := newSimDecoder()
	first, _, e := d.decode(`[{"target":"a","message":{"title":"x","extra":{"k1":"v","k2":"v"}}},{"target":"b","message":{}}]`)
	if e != nil || len(first) != 2 || first[0].p.customExtras != 2 {
		t.Fatalf("%+v %v", first, e)
	}
	second, n, e := d.decode(`[{"target":"c","message":{}}]`)
	if e != nil || n != 1 || second[0].regID != "c" || second[0].p.title != "" || second[0].p.customExtras != 0 {
		t.Errorf("%+v %d %v", second, n, e)
	}
}

// FuzzSimMultiMessages: no messages field may panic the simulator's
// decoder or its checks, and a decoded batch has one target per entry.
func FuzzSimMultiMessages(f *testing.F) {
	for _, s := range []string{
		`[{"target":"r1","message":{"restricted_package_name":"com.herald.sim","pass_through":0,"title":"t","description":"d","payload":"{\"message_id\":\"m\"}","extra":{"channel_id":"c","message_id":"m"}}}]`,
		`[{"target":"r1","message":{"pass_through":"1","payload":"{}","notify_id":1e3,"time_to_live":-1,"extra":{"k":1}}}]`,
		`[{"target":null,"message":null}]`, `[null]`, `{}`, `[1]`, `[]`, `[{"target":"a","message":{"extra":[]}}]`, ``,
	} {
		f.Add(s)
	}
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{Channels: []string{"c"}})
	d := newSimDecoder()
	f.Fuzz(func(t *testing.T, field string) {
		targets, n, e := d.decode(field)
		if e != nil {
			if e.Code != CodeMissingParam && e.Code != CodeIllegalParam {
				t.Fatalf("decode error code %d", e.Code)
			}
			return
		}
		if len(targets) != n || n == 0 {
			t.Fatalf("%d targets for %d entries", len(targets), n)
		}
		for i := range targets {
			_ = sim.checkParams(&targets[i].p)
		}
	})
}
