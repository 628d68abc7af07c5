package xiaomi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	// rawMsg is one entry whose message is fields (the members of the
	// object, written as is) plus an extra object of extras members.
	rawMsg := func(fields, extras string) func(*testing.T) string {
		return func(*testing.T) string {
			return raw(`[{"target":"r1","message":{"restricted_package_name":"` + SimPackageName + `",` +
				`"pass_through":0,"payload":"{}",` + fields + `,"extra":{"channel_id":"im-private"` + extras + `}}}]`)
		}
	}
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
		{"raw message valid", rawMsg(`"title":"t","description":"d"`, ""), auth, CodeOK},
		{"NaN", rawMsg(`"title":"t","description":"d","notify_id":NaN`, ""), auth, CodeIllegalParam},
		{"Inf", rawMsg(`"title":"t","description":"d","time_to_live":Inf`, ""), auth, CodeIllegalParam},
		{"-Inf", rawMsg(`"title":"t","description":"d","time_to_live":-Inf`, ""), auth, CodeIllegalParam},
		{"leading zero", rawMsg(`"title":"t","description":"d","notify_id":012`, ""), auth, CodeIllegalParam},
		{"raw control character", rawMsg("\"title\":\"a\x01b\",\"description\":\"d\"", ""), auth, CodeIllegalParam},
		{"raw newline", rawMsg("\"title\":\"a\nb\",\"description\":\"d\"", ""), auth, CodeIllegalParam},
		{"bad escape", rawMsg(`"title":"a\qb","description":"d"`, ""), auth, CodeIllegalParam},
		{"short unicode escape", rawMsg(`"title":"a\u12","description":"d"`, ""), auth, CodeIllegalParam},
		{"trailing comma", rawMsg(`"title":"t","description":"d",`, ""), auth, CodeIllegalParam},
		{"single quotes", func(*testing.T) string { return raw(`[{'target':'r1'}]`) }, auth, CodeIllegalParam},
		{"good escapes", rawMsg(`"title":"\u0074\"\\\/\b","description":"d\uD83D\uDE00"`, ""), auth, CodeOK},
		{"title twice", rawMsg(`"title":"t","description":"d","title":"u"`, ""), auth, CodeIllegalParam},
		{"title twice, once escaped", rawMsg(`"title":"t","description":"d","ti\u0074le":"u"`, ""), auth, CodeIllegalParam},
		{"unknown key twice", rawMsg(`"title":"t","description":"d","x":1,"x":2`, ""), auth, CodeIllegalParam},
		{"extra twice", rawMsg(`"title":"t","description":"d","extra":{"k":"v"}`, ""), auth, CodeIllegalParam},
		{"extra key twice", rawMsg(`"title":"t","description":"d"`, `,"k":"v","k":"v"`), auth, CodeIllegalParam},
		{"channel_id twice", rawMsg(`"title":"t","description":"d"`, `,"channel_id":"public"`), auth, CodeIllegalParam},
		{"extra key twice among many", rawMsg(`"title":"t","description":"d"`, `,"notify_foreground":"1","sound_uri":"s",`+
			`"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11","l":"12","m":"13","n":"14","o":"15","i":"16"`),
			auth, CodeIllegalParam},
		{"target twice", func(*testing.T) string {
			return raw(`[{"target":"r1","target":"r2","message":{"restricted_package_name":"` + SimPackageName +
				`","title":"t","description":"d","extra":{"channel_id":"im-private"}}}]`)
		}, auth, CodeIllegalParam},
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
		}, auth, CodeOK},
		// Read, the flattened unknown channel would be answered 27001.
		{"flattened extras are not read", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { delete(m, "extra"); m["extra.channel_id"] = "public" })))
		}, auth, CodeOK},
		{"payload of 4095 characters", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["payload"] = strings.Repeat("字", maxPayload) })))
		}, auth, CodeOK},
		{"payload of 4096 characters", func(t *testing.T) string {
			return multiBody(t, entry("r1", with(func(m map[string]any) { m["payload"] = strings.Repeat("x", maxPayload+1) })))
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

// pass_through is exactly 0 or 1 on both endpoints: as form text, as a
// JSON string, as a JSON number.
func TestSimulatorPassThroughIsExactly0Or1(t *testing.T) {
	auth := "key=" + SimAppSecret
	cases := []struct {
		text string // form value and JSON string
		ok   bool
	}{
		{"0", true}, {"1", true},
		{"01", false}, {"00", false}, {"+1", false}, {"-0", false}, {" 1", false}, {"1 ", false},
		{"1.0", false}, {"1e0", false}, {"2", false}, {"-1", false}, {"true", false}, {"0x1", false},
	}
	want := func(ok bool) int {
		if ok {
			return CodeOK
		}
		return CodeIllegalParam
	}
	check := func(t *testing.T, path, body string, code int) {
		t.Helper()
		sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{Channels: []string{"im-private"}})
		if w, a := post(t, sim, http.MethodPost, path, auth, formType, body); w.Code != http.StatusOK || a.Code != code {
			t.Errorf("HTTP %d code %d (%s), want code %d", w.Code, a.Code, a.Reason, code)
		}
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("text=%q", tc.text), func(t *testing.T) {
			f := validForm()
			f.Set("pass_through", tc.text)
			check(t, SendPath, f.Encode(), want(tc.ok))
			m := validMulti()
			m["pass_through"] = tc.text
			check(t, MultiPath, multiBody(t, entry("r1", m)), want(tc.ok))
		})
	}
	// JSON numbers, written as is (encoding/json would normalise them).
	for _, tc := range []struct {
		number string
		ok     bool
	}{{"0", true}, {"1", true}, {"-0", false}, {"1.0", false}, {"1e0", false}, {"0.1e1", false}, {"2", false}, {"-1", false}} {
		t.Run("number="+tc.number, func(t *testing.T) {
			body := `[{"target":"r1","message":{"restricted_package_name":"` + SimPackageName + `","pass_through":` + tc.number +
				`,"title":"t","description":"d","payload":"{}","extra":{"channel_id":"im-private"}}}]`
			check(t, MultiPath, url.Values{"messages": {body}}.Encode(), want(tc.ok))
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
	if got.Form != nil {
		t.Errorf("form kept without KeepMultiForm: %d fields", len(got.Form))
	}
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

// FuzzSimMultiMessages: no messages field may panic the simulator, its
// decoder, its checks or its log: served through ServeHTTP, it answers a
// code MiPush documents for the request, and logs the request with one
// message per target when the messages decoded. The decoder is fuzzed
// directly too, and reused from one input to the next as the pool does.
func FuzzSimMultiMessages(f *testing.F) {
	for _, s := range []string{
		`[{"target":"r1","message":{"restricted_package_name":"com.herald.sim","pass_through":0,"title":"t","description":"d","payload":"{\"message_id\":\"m\"}","extra":{"channel_id":"c","message_id":"m"}}}]`,
		`[{"target":"r1","message":{"pass_through":"1","payload":"{}","notify_id":1e3,"time_to_live":-1,"extra":{"k":1}}}]`,
		`[{"target":"unregistered-1","message":{"restricted_package_name":"com.herald.sim","pass_through":1,"payload":"{\"message_id\":\"p\"}"}},` +
			`{"target":"r2","message":{"restricted_package_name":"com.herald.sim","pass_through":1,"payload":"x"}}]`,
		`[{"target":"r1","message":{"title":"t","title":"u","extra":{"k":"v","k":"w"}}}]`,
		`[{"target":"r1","message":{"notify_id":NaN,"time_to_live":01}}]`,
		`[{"target":null,"message":null}]`, `[null]`, `{}`, `[1]`, `[]`, `[{"target":"a","message":{"extra":[]}}]`, ``,
	} {
		f.Add(s)
	}
	rec := simkit.NewRecorder(nil)
	sim := NewSimulator(rec, SimOptions{Channels: []string{"c"}, LogSize: 1})
	d := newSimDecoder()
	codes := map[int]bool{CodeOK: true, CodeMissingParam: true, CodeIllegalParam: true, CodeBadPackage: true,
		CodeChannelMismatch: true, CodeSendFailed: true, CodeSystemBusy: true}
	f.Fuzz(func(t *testing.T, field string) {
		targets, n, e := d.decode(field)
		if e != nil {
			if e.Code != CodeMissingParam && e.Code != CodeIllegalParam {
				t.Fatalf("decode error code %d", e.Code)
			}
		} else {
			if len(targets) != n || n == 0 {
				t.Fatalf("%d targets for %d entries", len(targets), n)
			}
			for i := range targets {
				_ = sim.checkParams(&targets[i].p)
			}
		}

		rec.Reset()
		req := httptest.NewRequest(http.MethodPost, MultiPath, strings.NewReader(url.Values{"messages": {field}}.Encode()))
		req.Header.Set("Authorization", "key="+SimAppSecret)
		req.Header.Set("Content-Type", formType)
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, req)
		var a simAnswer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != http.StatusOK {
			t.Fatalf("HTTP %d, answer %q: %v", w.Code, w.Body, err)
		}
		if !codes[a.Code] || (a.Code == CodeOK) != (a.Result == "ok") {
			t.Fatalf("answer %+v", a)
		}
		logged := sim.Received()
		if len(logged) != 1 {
			t.Fatalf("%d requests logged", len(logged))
		}
		got := logged[0]
		if got.Form != nil {
			t.Fatal("form kept without KeepMultiForm")
		}
		if (e == nil) != (got.Messages != nil) || len(got.Messages) != len(got.RegIDs) || len(got.Messages) != len(targets) {
			t.Fatalf("decoded %d (%v), logged %d messages for %d regids", len(targets), e, len(got.Messages), len(got.RegIDs))
		}
		for i, m := range got.Messages {
			if m.RegID != got.RegIDs[i] {
				t.Fatalf("message %d for %q, regid %q", i, m.RegID, got.RegIDs[i])
			}
		}
		st := rec.Snapshot()[vendorName]
		if a.Code == CodeOK && st.Notifications+st.Rejected != int64(len(got.RegIDs)) {
			t.Fatalf("accepted: stats %+v for %d targets", st, len(got.RegIDs))
		}
	})
}
