package daemon

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
)

// GET /v1/messages/{id} follows a group message to done with exact
// counts per vendor: every member's Huawei device sent but the 1 in 25
// whose token Huawei declares invalid (its partial-success code
// 80100000: the batch had valid tokens too), and every OPPO device dead after
// its one allowed attempt. /failures lists exactly those devices, page by
// page, and both answers are the same after a restart.
func TestMessageStatusConverges(t *testing.T) {
	dir := t.TempDir()
	mut := func(c *configs.Config) {
		c.DataDir = dir
		c.Vendors.OPPO.Retry.MaxAttempts = 1
	}
	s1 := startDaemonManual(t, mut, Env{})
	const members = 100
	var ids []string
	for i := range members {
		u := fmt.Sprintf("u%03d", i)
		ids = append(ids, `"`+u+`"`)
		tok := "hw-" + u
		if i%25 == 0 {
			tok = "unregistered-" + u
		}
		wantStatus(t, s1.do(t, "PUT", "/v1/users/"+u+"/devices/hw", `{"vendor":"huawei","token":"`+tok+`"}`), 200)
		if i%10 == 0 {
			wantStatus(t, s1.do(t, "PUT", "/v1/users/"+u+"/devices/op", `{"vendor":"oppo","token":"unavailable-`+u+`"}`), 200)
		}
	}
	wantStatus(t, s1.do(t, "PUT", "/v1/groups/g1/members", `{"add":[`+strings.Join(ids, ",")+`]}`), 200)
	wantStatus(t, s1.do(t, "POST", "/v1/messages", `{"message_id":"m-group","from":"boss","to":{"type":"group","id":"g1"},"push":{"title":"t","content":"c"}}`), 202)

	st := s1.messageStatus(t, "m-group")
	want := map[string]api.MessageVendorStatus{
		"huawei": {Sent: members - 4, InvalidTokens: 4, FailedByCode: map[string]int64{"80100000": 4}},
		"oppo":   {Dead: members / 10, FailedByCode: map[string]int64{"-1": members / 10}},
	}
	checkStatus := func(s *testServer) {
		t.Helper()
		s.do(t, "GET", "/v1/messages/m-group", "").json(t, &st)
		if st.State != "done" || fmt.Sprint(st.Vendors) != fmt.Sprint(want) {
			t.Fatalf("status %s %v\nwant done %v", st.State, st.Vendors, want)
		}
		var got []string
		for _, f := range messageFailures(t, s.doer(t), "m-group", 3) {
			got = append(got, f.Vendor+"/"+f.UserID+"/"+f.Failure+"/"+f.Code)
		}
		wantF := []string{"huawei/u000/invalid_token/80100000", "huawei/u025/invalid_token/80100000", "huawei/u050/invalid_token/80100000", "huawei/u075/invalid_token/80100000"}
		for i := 0; i < members; i += 10 {
			wantF = append(wantF, fmt.Sprintf("oppo/u%03d/dead/-1", i))
		}
		if fmt.Sprint(got) != fmt.Sprint(wantF) {
			t.Fatalf("failures %v\nwant %v", got, wantF)
		}
	}
	checkStatus(&s1.testServer)
	s1.stop(t)
	s := startDaemon(t, mut, Env{})
	checkStatus(s)

	r := s.do(t, "GET", "/v1/messages/m-none", "")
	wantStatus(t, r, 404)
	// Cursors that are not one the listing gave out: not base64, not a
	// vendor/user/device triple, a vendor herald does not have.
	for _, c := range []string{"%21", b64("huawei"), b64("huawei\x00u1"), b64("nokia\x00u1\x00d")} {
		r := s.do(t, "GET", "/v1/messages/m-group/failures?after="+c, "")
		if r.status != 400 || !strings.Contains(string(r.body), `"field":"after"`) {
			t.Fatalf("cursor %q: %d %s", c, r.status, r.body)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// messageFailures pages through GET /v1/messages/{id}/failures, limit a
// page, and returns every failure listed (at most 50 pages).
func messageFailures(t *testing.T, do func(method, path, body string) resp, id string, limit int) []api.MessageFailure {
	t.Helper()
	var all []api.MessageFailure
	after := ""
	for page := 0; page < 50; page++ {
		var out struct {
			Failures []api.MessageFailure `json:"failures"`
			Next     string               `json:"next"`
		}
		r := do("GET", fmt.Sprintf("/v1/messages/%s/failures?limit=%d&after=%s", id, limit, url.QueryEscape(after)), "")
		wantStatus(t, r, 200)
		r.json(t, &out)
		all = append(all, out.Failures...)
		if after = out.Next; after == "" {
			return all
		}
	}
	t.Fatalf("the failures of %s span more than 50 pages", id)
	return nil
}
