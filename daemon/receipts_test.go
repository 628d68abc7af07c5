package daemon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/huawei"
	"github.com/herald-push/herald/vendors/simkit"
)

// receiptVendorKinds are the simulated vendors that post arrival receipts.
func receiptVendorKinds() []vendors.Kind {
	return []vendors.Kind{vendors.Huawei, vendors.Xiaomi, vendors.OPPO, vendors.Vivo}
}

func receiptsOn(dir string) func(*configs.Config) {
	return func(c *configs.Config) {
		c.Receipts.Enabled = true
		if dir != "" {
			c.DataDir = dir
		}
	}
}

// messageStatus waits until message id is done and returns its status.
func (s *testServer) messageStatus(t *testing.T, id string) api.MessageStatusResponse {
	t.Helper()
	var st api.MessageStatusResponse
	testutil.CheckFor(t, 60*time.Second, func() error {
		r := s.do(t, "GET", "/v1/messages/"+id, "")
		if r.status != 200 {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		r.json(t, &st)
		if st.State != "done" {
			return fmt.Errorf("state %s: %+v", st.State, st.Vendors)
		}
		return nil
	})
	return st
}

// waitReceipts waits until the simulators posted every receipt they hold.
func (s *testServer) waitReceipts(t *testing.T) map[string]simkit.ArrivalStats {
	t.Helper()
	sims, _ := s.d.Simulators()
	var st map[string]simkit.ArrivalStats
	testutil.CheckFor(t, 60*time.Second, func() error {
		st = sims.Arrivals.Stats()
		for v, a := range st {
			if a.Pending > 0 {
				return fmt.Errorf("%s: %d receipts pending", v, a.Pending)
			}
		}
		return nil
	})
	return st
}

// A group message to devices of every receipt vendor, with the
// simulators losing a share of the receipts as phones that never answer:
// each vendor's delivered count is exactly sent − lost, in the message
// status, /v1/stats and after a restart; APNs devices show no delivered
// count (APNs posts no receipts).
func TestArrivalReceiptsCountDelivered(t *testing.T) {
	dir := t.TempDir()
	s1 := startDaemonManual(t, receiptsOn(dir), Env{})
	sims, _ := s1.d.Simulators()
	sims.Arrivals.Set(0, 0.2)
	const users = 250 // 50 per vendor
	kinds := append([]vendors.Kind{vendors.APNs}, receiptVendorKinds()...)
	registerDevices(t, s1.doer(t), 0, users, func(i int) vendors.Kind { return kinds[i%len(kinds)] },
		func(i int) string { return fmt.Sprintf("tok-%04d", i) })
	var ids []string
	for i := range users {
		ids = append(ids, fmt.Sprintf(`"u%d"`, i))
	}
	wantStatus(t, s1.do(t, "PUT", "/v1/groups/g1/members", `{"add":[`+strings.Join(ids, ",")+`]}`), 200)
	wantStatus(t, s1.do(t, "POST", "/v1/messages", `{"message_id":"m-lossy","from":"boss","to":{"type":"group","id":"g1"},"push":{"title":"t","content":"c"}}`), 202)
	s1.messageStatus(t, "m-lossy")
	arr := s1.waitReceipts(t)
	var lostAny bool
	check := func(st api.MessageStatusResponse) {
		t.Helper()
		if d := st.Vendors["apns"].Delivered; d != nil {
			t.Errorf("apns shows delivered %d; APNs posts no receipts", *d)
		}
		for _, k := range receiptVendorKinds() {
			vs, a := st.Vendors[string(k)], arr[string(k)]
			if vs.Sent != int64(users/len(kinds)) {
				t.Fatalf("%s sent %d, want %d", k, vs.Sent, users/len(kinds))
			}
			if vs.Delivered == nil || *vs.Delivered != vs.Sent-a.Lost || a.Failed != 0 {
				t.Errorf("%s: delivered %v, want sent %d − lost %d (receipts %+v)", k, vs.Delivered, vs.Sent, a.Lost, a)
			}
		}
	}
	check(s1.messageStatus(t, "m-lossy"))
	var stats struct {
		Vendors map[string]api.VendorStats `json:"vendors"`
	}
	s1.do(t, "GET", "/v1/stats", "").json(t, &stats)
	for _, k := range receiptVendorKinds() {
		r, a := stats.Vendors[string(k)].Receipts, arr[string(k)]
		lostAny = lostAny || a.Lost > 0
		if r == nil || r.Asked != 50 || r.Delivered != 50-a.Lost || r.Duplicate != 0 || r.Unmatched != 0 {
			t.Errorf("%s /v1/stats receipts %+v, want asked 50, delivered %d", k, r, 50-a.Lost)
		}
	}
	if !lostAny {
		t.Fatal("the simulators lost no receipt at a 20% loss rate: the test proves nothing")
	}
	if r := stats.Vendors["apns"].Receipts; r != nil {
		t.Errorf("apns /v1/stats receipts %+v; want none", r)
	}
	s1.stop(t)

	s2 := startDaemonManual(t, receiptsOn(dir), Env{})
	check(s2.messageStatus(t, "m-lossy"))

	// Without loss, every sent notification is delivered.
	sims2, _ := s2.d.Simulators()
	sims2.Arrivals.Set(0, 0)
	wantStatus(t, s2.do(t, "POST", "/v1/messages", `{"message_id":"m-all","from":"boss","to":{"type":"group","id":"g1"},"push":{"title":"t","content":"c"}}`), 202)
	s2.messageStatus(t, "m-all")
	s2.waitReceipts(t)
	st := s2.messageStatus(t, "m-all")
	for _, k := range receiptVendorKinds() {
		vs := st.Vendors[string(k)]
		if vs.Delivered == nil || *vs.Delivered != vs.Sent || vs.Sent != 50 {
			t.Errorf("%s: delivered %v of sent %d, want all 50", k, vs.Delivered, vs.Sent)
		}
	}
}

// POST /v1/receipts/{vendor} refuses what is not a receipt: an unknown
// vendor, a body the vendor's decoder refuses (400 naming the body), a
// Huawei receipt without a valid signature (401); a reference herald never
// gave out counts as unmatched, and a repeated receipt as duplicate.
func TestReceiptEndpoint(t *testing.T) {
	s := startDaemon(t, func(c *configs.Config) {
		receiptsOn("")(c)
		c.Limits.MaxBodyBytes = 4 * configs.MiB // the receipt endpoint's own bound is lower
	}, Env{})
	wantCode := func(r resp, status int, code, field string) {
		t.Helper()
		var e struct {
			Error struct{ Code, Field string }
		}
		r.json(t, &e)
		if r.status != status || e.Error.Code != code || e.Error.Field != field {
			t.Fatalf("%d %s, want %d %s field %q", r.status, r.body, status, code, field)
		}
	}
	wantCode(s.do(t, "POST", "/v1/receipts/apns", `{}`), 404, "not_found", "vendor")
	wantCode(s.do(t, "POST", "/v1/receipts/oppo", `{"not":"an array"}`), 400, "invalid_argument", "body")
	wantCode(s.do(t, "POST", "/v1/receipts/oppo", `[`), 400, "invalid_argument", "body")
	wantCode(s.do(t, "POST", "/v1/receipts/oppo", "["+strings.Repeat(`{},`, 400000)+"{}]"), 413, "payload_too_large", "body")

	forged := `[{"messageId":"m","appId":"a","taskId":"t","registrationIds":"r1,r2","eventTime":"1","param":"AAAAAAAAAAAAAAAA","eventType":"push_arrive"}]`
	r := s.do(t, "POST", "/v1/receipts/oppo", forged)
	var out api.ReceiptResponse
	r.json(t, &out)
	if r.status != 200 || out != (api.ReceiptResponse{Unmatched: 2}) {
		t.Fatalf("forged reference: %d %s, want 200 with unmatched 2", r.status, r.body)
	}

	// A real reference: a message to one OPPO device.
	wantStatus(t, s.do(t, "PUT", "/v1/users/u1/devices/op", `{"vendor":"oppo","token":"op-u1"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m1","from":"a","to":{"type":"peer","id":"u1"},"push":{"title":"t","content":"c"}}`), 202)
	s.messageStatus(t, "m1")
	s.waitReceipts(t)
	ref := s.d.store.ReceiptRef("m1")
	body := `[{"messageId":"m","appId":"a","taskId":"t","registrationIds":"op-u1","eventTime":"1","param":"` + ref + `","eventType":"push_arrive"}]`
	r = s.do(t, "POST", "/v1/receipts/oppo", body)
	r.json(t, &out)
	if r.status != 200 || out != (api.ReceiptResponse{Duplicate: 1}) {
		t.Fatalf("repeated receipt: %d %s, want 200 with duplicate 1", r.status, r.body)
	}

	// Huawei signs its receipts: the simulator's, signed with the key
	// herald made for it, count; the same receipt unsigned, wrongly
	// signed or signed long ago is refused, and signed again it is a
	// duplicate.
	wantStatus(t, s.do(t, "PUT", "/v1/users/u2/devices/hw", `{"vendor":"huawei","token":"hw-u2"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m2","from":"a","to":{"type":"peer","id":"u2"},"push":{"title":"t","content":"c"}}`), 202)
	s.messageStatus(t, "m2")
	s.waitReceipts(t)
	if st := s.messageStatus(t, "m2"); st.Vendors["huawei"].Delivered == nil || *st.Vendors["huawei"].Delivered != 1 {
		t.Fatalf("huawei status %+v, want delivered 1 from the simulator's signed receipt", st.Vendors["huawei"])
	}
	hw := `{"statuses":[{"biTag":"` + s.d.store.ReceiptRef("m2") + `","appid":"a","token":"hw-u2","status":0,"timestamp":1,"requestId":"r"}]}`
	rs := s.d.receipts
	now := time.Now()
	wantCode(s.do(t, "POST", "/v1/receipts/huawei", hw), 401, "unauthenticated", "")
	wantCode(s.do(t, "POST", "/v1/receipts/huawei", hw, "X-HUAWEI-CALLBACK-ID", huawei.SignCallbackID(rs.huaweiUser, "wrong-key", now, "nonce-1")), 401, "unauthenticated", "")
	wantCode(s.do(t, "POST", "/v1/receipts/huawei", hw, "X-HUAWEI-CALLBACK-ID", huawei.SignCallbackID(rs.huaweiUser, rs.huaweiKey, now.Add(-time.Hour), "nonce-1")), 401, "unauthenticated", "")
	r = s.do(t, "POST", "/v1/receipts/huawei", hw, "X-HUAWEI-CALLBACK-ID", huawei.SignCallbackID(rs.huaweiUser, rs.huaweiKey, now, "nonce-2"))
	r.json(t, &out)
	if r.status != 200 || out != (api.ReceiptResponse{Duplicate: 1}) {
		t.Fatalf("signed repeat: %d %s, want 200 with duplicate 1", r.status, r.body)
	}
}

// Receipts off (the default): the endpoint answers 404 and nothing asks
// the vendors for receipts.
func TestReceiptsOff(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	r := s.do(t, "POST", "/v1/receipts/huawei", `{"statuses":[]}`)
	if r.status != 404 || !strings.Contains(string(r.body), "receipts.enabled") {
		t.Fatalf("%d %s, want 404 naming receipts.enabled", r.status, r.body)
	}
	if ref := s.d.store.ReceiptRef("m1"); ref != "" {
		t.Fatalf("store gives out receipt reference %q with receipts off", ref)
	}
}
