package daemon

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/store"
)

// GET /v1/admin/dead-letters without vendor lists every vendor's dead
// letters, each with its kind (a call's rows name the call and the cancel
// reason), and its next cursor pages through them, a call row at a page's
// end included.
func TestDeadLettersOfEveryVendor(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	rows := []store.Queued{
		{Key: store.OutboxKey{Vendor: "apns", RowID: store.RowID{Kind: store.RowCallCancel, ID: "call-1", Reason: "timeout"}, UserID: "u1", DeviceID: "d"}, Entry: store.OutboxEntry{Token: "t1", Badge: -1, LastCode: "BadDeviceToken"}},
		{Key: store.OutboxKey{Vendor: "huawei", RowID: store.RowID{ID: "m1"}, UserID: "u2", DeviceID: "d"}, Entry: store.OutboxEntry{Token: "t2", Badge: -1, LastCode: "80300007"}},
		{Key: store.OutboxKey{Vendor: "vivo", RowID: store.RowID{Kind: store.RowCallInvite, ID: "call-1"}, UserID: "u3", DeviceID: "d"}, Entry: store.OutboxEntry{Token: "t3", Badge: -1, LastCode: "10050"}},
	}
	if err := s.d.store.DeadLetter(rows); err != nil {
		t.Fatal(err)
	}
	type page struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
		Next        string           `json:"next"`
	}
	var got []api.DeadLetter
	next := ""
	for i := 0; ; i++ {
		path := "/v1/admin/dead-letters?limit=1"
		if next != "" {
			path += "&after=" + url.QueryEscape(next)
		}
		r := s.do(t, "GET", path, "")
		var p page
		if r.status != 200 || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("page %d: %d %s", i, r.status, r.body)
		}
		got = append(got, p.DeadLetters...)
		if next = p.Next; next == "" || i > 5 {
			break
		}
	}
	want := []api.DeadLetter{
		{Vendor: "apns", Kind: "call_cancel", MessageID: "call-1", Reason: "timeout", UserID: "u1", DeviceID: "d", PushID: "apns:t1", LastCode: "BadDeviceToken"},
		{Vendor: "huawei", Kind: "message", MessageID: "m1", UserID: "u2", DeviceID: "d", PushID: "huawei:t2", LastCode: "80300007"},
		{Vendor: "vivo", Kind: "call_invite", MessageID: "call-1", UserID: "u3", DeviceID: "d", PushID: "vivo:t3", LastCode: "10050"},
	}
	if len(got) != len(want) {
		t.Fatalf("listed %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"/v1/admin/dead-letters?vendor=nokia", "/v1/admin/dead-letters?after=%21%21"} {
		if r := s.do(t, "GET", bad, ""); r.status != 400 {
			t.Fatalf("%s: %d %s, want 400", bad, r.status, r.body)
		}
	}
	// A cursor of the every-vendor listing does not page another vendor's.
	r := s.do(t, "GET", "/v1/admin/dead-letters?vendor=vivo&after="+url.QueryEscape(rows[0].Key.Cursor()), "")
	if r.status != 400 {
		t.Fatalf("apns cursor on vivo's listing: %d %s, want 400", r.status, r.body)
	}
}
