package daemon

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// everyVendorDevice binds one offline device of every vendor kind to user
// (the iPhone with a PushKit token as well).
func everyVendorDevice(t *testing.T, s *testServer, user string) {
	t.Helper()
	for id, body := range map[string]string{
		"ios":     `{"vendor":"apns","token":"ios-` + user + `","voip_token":"voip-` + user + `"}`,
		"android": `{"vendor":"fcm","token":"fcm-` + user + `"}`,
		"browser": `{"vendor":"web","token":"web-` + user + `"}`,
		"hw":      `{"vendor":"huawei","token":"hw-` + user + `"}`,
		"mi":      `{"vendor":"xiaomi","token":"mi-` + user + `"}`,
		"op":      `{"vendor":"oppo","token":"op-` + user + `"}`,
		"vv":      `{"vendor":"vivo","token":"vv-` + user + `"}`,
	} {
		wantStatus(t, s.do(t, "PUT", "/v1/users/"+user+"/devices/"+id, body), 200)
	}
}

// reachedEveryVendor waits until every vendor's simulator has accepted
// at least n distinct pushes and the daemon is idle, and returns the
// simulators' counts.
func reachedEveryVendor(t *testing.T, s *testServer, what string, n int64) map[string]simkit.Stats {
	t.Helper()
	sims, _ := s.d.Simulators()
	waitStats(t, what+" on every vendor", 60*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		for _, k := range vendors.Kinds() {
			if st[string(k)].Unique < n {
				return false
			}
		}
		return true
	})
	s.waitIdle(t, 30*time.Second)
	return sims.Recorder.Snapshot()
}

// apiErrorBody is the error answer's JSON.
type apiErrorBody struct {
	Error struct {
		Code, Message, Field, Vendor string
	}
}

func wantRefusal(t *testing.T, r resp, field string) apiErrorBody {
	t.Helper()
	wantStatus(t, r, 400)
	var e apiErrorBody
	r.json(t, &e)
	if e.Error.Code != "invalid_argument" || e.Error.Field != field || e.Error.Vendor == "" ||
		!strings.Contains(e.Error.Message, e.Error.Vendor+" accepts") {
		t.Fatalf("want invalid_argument naming %s and the vendor's limit: %s", field, r.body)
	}
	return e
}

// A push with only a title is accepted and reaches every vendor, also
// those that need both a title and a content (vivo, OPPO, Xiaomi show the
// title as both).
func TestTitleOnlyPushReachesEveryVendor(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	everyVendorDevice(t, s, "ann")
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m-title","from":"bob","to":{"type":"peer","id":"ann"},
		"push":{"title":"hello"}}`), 202)
	st := reachedEveryVendor(t, s, "the push", 1)
	for _, k := range vendors.Kinds() {
		if got := st[string(k)]; got.Rejected != 0 {
			t.Errorf("%s refused the title-only push: %+v", k, got)
		}
	}
	var vivoBody struct{ Title, Content string }
	sims, _ := s.d.Simulators()
	rec := sims.Vivo.Received()
	if len(rec) != 1 || json.Unmarshal(rec[0].Payload, &vivoBody) != nil || vivoBody.Title != "hello" || vivoBody.Content != "hello" {
		t.Fatalf("vivo got %+v, want title and content hello", rec)
	}
}

// A message whose payload a vendor would refuse is answered 400 naming
// push.payload and the vendor, and nothing of it is kept or sent.
func TestOversizedPayloadRefusedAtTheDoor(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	everyVendorDevice(t, s, "ann")
	payload := strings.Repeat("p", 3000)
	wantRefusal(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m-big","from":"bob","to":{"type":"peer","id":"ann"},
		"push":{"title":"hi","content":"there","payload":"`+payload+`"}}`), "push.payload")
	if _, found, err := s.d.store.GetMessage("m-big"); err != nil || found {
		t.Fatalf("the refused message was stored (found=%v, err=%v)", found, err)
	}
	// The same id with a payload that fits is a new message, not a duplicate.
	r := s.do(t, "POST", "/v1/messages", `{"message_id":"m-big","from":"bob","to":{"type":"peer","id":"ann"},
		"push":{"title":"hi","content":"there","payload":"small"}}`)
	wantStatus(t, r, 202)
	var out struct{ Duplicate bool }
	r.json(t, &out)
	if out.Duplicate {
		t.Fatal("the refused message counted as accepted")
	}
}

// A call whose data makes the invitation too big for a vendor is answered
// 400 naming data; the largest data every vendor accepts rings every
// device. The boundary is found with the same check the API runs, and both
// sides are then sent through the API and, for the one that fits, to the
// simulators.
func TestCallDataAtTheVendorLimits(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	everyVendorDevice(t, s, "ann")
	const timeout = 30 * time.Second
	dataOf := func(pad int) string { return `{"room":"` + strings.Repeat("r", pad) + `"}` }
	callWith := func(id string, pad int) *store.Call {
		now := s.d.clock.Now()
		return &store.Call{CallID: id, Inviter: "bob", Title: "bob is calling", Content: "Incoming call",
			Data: []byte(dataOf(pad)), Invitees: []store.Invitee{{UserID: "ann", State: store.CallRinging}},
			CreatedAt: now.UnixMilli(), DeadlineAt: now.Add(timeout).UnixMilli()}
	}
	fits := func(pad int) bool {
		return push.CheckCall(s.d.push.senders, s.d.composer.Resources(), callWith("call-fit", pad), timeout) == nil
	}
	lo, hi := 0, 4000
	if !fits(lo) || fits(hi) {
		t.Fatalf("fits(0)=%v fits(4000)=%v: want true, false", fits(lo), fits(hi))
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	t.Logf("the largest call data every vendor accepts: %d bytes of JSON", len(dataOf(lo)))
	body := func(pad int) string {
		return `{"call_id":"call-fit","inviter":"bob","invitees":["ann"],"timeout_s":30,"data":` + dataOf(pad) + `}`
	}
	wantRefusal(t, s.do(t, "POST", "/v1/calls", body(hi)), "data")
	wantRefusal(t, s.do(t, "POST", "/v1/calls", strings.Replace(body(3900), "call-fit", "call-4k", 1)), "data")
	wantStatus(t, s.do(t, "POST", "/v1/calls", body(lo)), 201)
	st := reachedEveryVendor(t, s, "the invitation", 1)
	for _, k := range vendors.Kinds() {
		if got := st[string(k)]; got.Rejected != 0 || got.Unique != 1 {
			t.Errorf("%s: %+v, want the invitation delivered once", k, got)
		}
	}
}

// A call whose VoIP invitation is over APNs' 5120 bytes (its data inside
// the 4 KiB the API allows, its text making up the rest) is refused
// naming APNs and the VoIP limit, and nothing of it is kept: the same
// call_id then rings.
func TestCallOverAPNsVoIPLimitRefused(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	everyVendorDevice(t, s, "ann")
	call := func(title string) string {
		return `{"call_id":"call-voip","inviter":"bob","invitees":["ann"],"timeout_s":30,
			"data":{"room":"` + strings.Repeat("r", 3000) + `"},
			"push":{"title":"` + title + `","content":"Incoming call"}}`
	}
	e := wantRefusal(t, s.do(t, "POST", "/v1/calls", call(strings.Repeat("t", 2500))), "data")
	if e.Error.Vendor != "apns" || !strings.Contains(e.Error.Message, "5120 bytes") || !strings.Contains(e.Error.Message, "VoIP") {
		t.Fatalf("want APNs' VoIP limit named: %+v", e.Error)
	}
	if r := s.do(t, "GET", "/v1/calls/call-voip", ""); r.status != 404 {
		t.Fatalf("the refused call was kept: %d %s", r.status, r.body)
	}
	// The same call with a short title passes APNs but not vivo's 1024
	// characters of custom data: every configured vendor is checked.
	if e := wantRefusal(t, s.do(t, "POST", "/v1/calls", call("bob")), "data"); e.Error.Vendor != "vivo" {
		t.Fatalf("want vivo named: %+v", e.Error)
	}
}

// Every documented edge shape of a push, sent to a user with a device of
// every vendor: each is accepted or refused at the door, and every
// accepted one is delivered by all seven vendors' simulators with nothing
// refused and nothing dead-lettered. The size limits are probed through
// the API (the largest payload, text and call data that are accepted, in
// ASCII, in characters JSON escapes and in three-byte characters), so the
// pushes right at each limit are among those delivered.
func TestEveryAcceptedEdgeShapeIsDelivered(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	everyVendorDevice(t, s, "ann")
	var messages, calls int
	// post answers whether the request was accepted; a refusal must name a
	// vendor's limit.
	post := func(path, body string) bool {
		t.Helper()
		r := s.do(t, "POST", path, body)
		switch r.status {
		case 202, 201:
			return true
		case 400:
			var e apiErrorBody
			r.json(t, &e)
			if e.Error.Vendor == "" {
				t.Fatalf("refused without a vendor: %s\n%s", r.body, body)
			}
			return false
		}
		t.Fatalf("%s: %d %s", path, r.status, r.body)
		return false
	}
	message := func(id, pushJSON string) bool {
		t.Helper()
		ok := post("/v1/messages", `{"message_id":"`+id+`","from":"bob","to":{"type":"peer","id":"ann"},"push":`+pushJSON+`}`)
		if ok {
			messages++
		}
		return ok
	}
	call := func(id, dataJSON, title string) bool {
		t.Helper()
		ok := post("/v1/calls", `{"call_id":"`+id+`","inviter":"bob","invitees":["ann"],"timeout_s":600,"data":`+dataJSON+
			`,"push":{"title":`+strconvQuote(title)+`,"content":"Incoming call"}}`)
		if ok {
			calls++
		}
		return ok
	}
	shapes := []struct {
		name, push string
		accepted   bool
	}{
		{"title-only", `{"title":"hello"}`, true},
		{"content-only", `{"content":"hello"}`, true},
		{"blank-title", `{"title":"  ","content":"hello"}`, true},
		{"passthrough-with-text", `{"title":"t","content":"c","passthrough":true,"payload":"p"}`, true},
		{"passthrough-without-text", `{"passthrough":true,"payload":"p"}`, false}, // OPPO and vivo have no passthrough
		{"emoji", `{"title":"👋🏽 Ann","content":"héllo 世界 \u2028 ✓"}`, true},
		{"escapes", `{"title":"\"quoted\" \\ back","content":"tab\tnew\nline <b>&amp;</b>","payload":"{\"k\":\"\\\"v\\\"\"}"}`, true},
		{"collapse-64", `{"title":"t","content":"c","collapse_id":"` + strings.Repeat("c", 64) + `"}`, true},
		{"badge-max", `{"title":"t","content":"c","badge_increment":10000}`, true},
		{"normal-no-ttl", `{"title":"t","content":"c","priority":"normal","ttl_s":0}`, true},
		{"ttl-28-days", `{"title":"t","content":"c","ttl_s":2419200}`, true},
	}
	for _, sh := range shapes {
		if got := message("m-"+sh.name, sh.push); got != sh.accepted {
			t.Errorf("%s: accepted=%v, want %v", sh.name, got, sh.accepted)
		}
	}
	// largest is the largest n in [0, hi) for which accept(n) holds, by
	// bisection through the API (accept(0) must hold, accept(hi) not).
	largest := func(what string, hi int, accept func(n int) bool) int {
		t.Helper()
		if !accept(0) || accept(hi) {
			t.Fatalf("%s: the smallest must be accepted and %d refused", what, hi)
		}
		lo := 0
		for hi-lo > 1 {
			if mid := (lo + hi) / 2; accept(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo
	}
	probe := 0
	id := func(prefix string) string { probe++; return prefix + "-" + strconv.Itoa(probe) }
	for _, unit := range []struct{ name, s string }{{"ascii", "x"}, {"escaped", `\"`}, {"cjk", "长"}} {
		// Below the API's own 4 KiB caps on text and call data, as written.
		hi := 4000 / len(unit.s)
		n := largest("payload of "+unit.name, hi, func(n int) bool {
			return message(id("m-payload"), `{"title":"t","content":"c","payload":"`+strings.Repeat(unit.s, n)+`"}`)
		})
		t.Logf("the largest payload accepted: %d × %q", n, unit.s)
		n = largest("title of "+unit.name, hi, func(n int) bool {
			return message(id("m-title"), `{"title":"`+strings.Repeat(unit.s, n)+`","content":"c"}`)
		})
		t.Logf("the largest title accepted: %d × %q", n, unit.s)
		n = largest("call data of "+unit.name, hi, func(n int) bool {
			return call(id("call-data"), `{"room":"`+strings.Repeat(unit.s, n)+`"}`, "bob is calling")
		})
		t.Logf("the largest call data accepted: %d × %q", n, unit.s)
	}
	if messages == 0 || calls == 0 {
		t.Fatalf("accepted %d messages and %d calls", messages, calls)
	}
	// Each accepted message and call reaches every vendor once (a call's
	// invitation; its cancel notice comes only when it ends).
	st := reachedEveryVendor(t, s, "every accepted push", int64(messages+calls))
	for _, k := range vendors.Kinds() {
		if got := st[string(k)]; got.Rejected != 0 || got.Unique != int64(messages+calls) {
			t.Errorf("%s: %+v, want %d pushes delivered and none refused", k, got, messages+calls)
		}
	}
	r := s.do(t, "GET", "/v1/admin/dead-letters", "")
	var dead struct {
		DeadLetters []json.RawMessage `json:"dead_letters"`
	}
	if r.json(t, &dead); r.status != 200 || len(dead.DeadLetters) != 0 {
		t.Fatalf("dead letters after accepted pushes: %d %s", r.status, r.body)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
