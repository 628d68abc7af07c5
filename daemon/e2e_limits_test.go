package daemon

import (
	"encoding/json"
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
	sims, _ := s.d.Simulators()
	waitStats(t, "the push on every vendor", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		for _, k := range vendors.Kinds() {
			if st[string(k)].Unique < 1 {
				return false
			}
		}
		return true
	})
	s.waitIdle(t, 20*time.Second)
	st := sims.Recorder.Snapshot()
	for _, k := range vendors.Kinds() {
		if got := st[string(k)]; got.Rejected != 0 {
			t.Errorf("%s refused the title-only push: %+v", k, got)
		}
	}
	var vivoBody struct{ Title, Content string }
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
	sims, _ := s.d.Simulators()
	waitStats(t, "the invitation on every vendor", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		for _, k := range vendors.Kinds() {
			if st[string(k)].Unique < 1 {
				return false
			}
		}
		return true
	})
	s.waitIdle(t, 20*time.Second)
	st := sims.Recorder.Snapshot()
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
