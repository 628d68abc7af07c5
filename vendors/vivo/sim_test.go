package vivo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// simCall sends one raw request to s and decodes vivo's answer.
func simCall(t *testing.T, s *Simulator, method, path, contentType, token, body string) (int, simAnswer) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("authToken", token)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	var a simAnswer
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s %s: answer %q: %v", method, path, w.Body.String(), err)
		}
	}
	return w.Code, a
}

const jsonType = "application/json"

func authBody(appID any, appKey string, ts int64, sig string) string {
	b, _ := json.Marshal(map[string]any{"appId": appID, "appKey": appKey, "timestamp": ts, "sign": sig})
	return string(b)
}

func simToken(t *testing.T, s *Simulator, now time.Time) string {
	t.Helper()
	ms := now.UnixMilli()
	_, a := simCall(t, s, "POST", pathAuth, jsonType, "", authBody(100001, SimAppKey, ms, sign(SimAppID, SimAppKey, ms, SimAppSecret)))
	if a.Result != codeOK || a.AuthToken == "" {
		t.Fatalf("auth: %+v", a)
	}
	return a.AuthToken
}

func TestSimAuth(t *testing.T) {
	clock := newClock()
	s := NewSimulator(simkit.NewRecorder(nil), SimOptions{Now: clock.Now})
	ms := clock.Now().UnixMilli()
	good := sign(SimAppID, SimAppKey, ms, SimAppSecret)
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"ok", authBody(100001, SimAppKey, ms, good), codeOK},
		{"appId as string", authBody("100001", SimAppKey, ms, good), codeOK},
		{"no appId", `{"appKey":"k","timestamp":1,"sign":"s"}`, codeAuthAppIDEmpty},
		{"no appKey", authBody(100001, "", ms, good), codeAuthAppKeyEmpty},
		{"no timestamp", `{"appId":100001,"appKey":"k","sign":"s"}`, codeAuthTimestampEmpty},
		{"no sign", authBody(100001, SimAppKey, ms, ""), codeAuthSignEmpty},
		{"other app", authBody(7, SimAppKey, ms, good), codeAuthAppIDInvalid},
		{"other key", authBody(100001, "k2", ms, good), codeAuthAppKeyInvalid},
		{"stale", authBody(100001, SimAppKey, ms-11*60*1000, sign(SimAppID, SimAppKey, ms-11*60*1000, SimAppSecret)), codeAuthTimestampBad},
		{"uppercase sign", authBody(100001, SimAppKey, ms, strings.ToUpper(good)), codeAuthSignInvalid},
		{"wrong secret", authBody(100001, SimAppKey, ms, sign(SimAppID, SimAppKey, ms, "x")), codeAuthSignInvalid},
		{"not JSON", `appId=1`, codeParamInvalid},
	} {
		if _, a := simCall(t, s, "POST", pathAuth, jsonType, "", tc.body); a.Result != tc.want {
			t.Errorf("%s: %+v, want %d", tc.name, a, tc.want)
		}
	}
	if _, a := simCall(t, s, "POST", pathAuth, "application/x-www-form-urlencoded", "", authBody(100001, SimAppKey, ms, good)); a.Result != codeParamInvalid {
		t.Errorf("form body: %+v", a)
	}
	if code, _ := simCall(t, s, "GET", pathAuth, "", "", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("GET auth: %d", code)
	}
	if code, _ := simCall(t, s, "POST", "/message/all", jsonType, "", "{}"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
}

func sendBody(mut func(m map[string]any)) string {
	m := map[string]any{
		"appId": 100001, "regId": "r1", "notifyType": 2, "title": "t", "content": "c",
		"skipType": 1, "classification": 1, "category": "IM", "requestId": "q1",
		"clientCustomMap": map[string]string{"message_id": "m1"},
	}
	if mut != nil {
		mut(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestSimSendValidation(t *testing.T) {
	clock := newClock()
	rec := simkit.NewRecorder(nil)
	s := NewSimulator(rec, SimOptions{Now: clock.Now})
	tok := simToken(t, s, clock.Now())
	many := map[string]string{}
	for i := range 11 {
		many[fmt.Sprint(i)] = "v"
	}
	for _, tc := range []struct {
		name string
		mut  func(m map[string]any)
		want int
	}{
		{"ok", nil, codeOK},
		{"networkType as string", func(m map[string]any) { m["networkType"] = "1" }, codeOK},
		{"alias target", func(m map[string]any) { delete(m, "regId"); m["alias"] = "al" }, codeOK},
		{"other app", func(m map[string]any) { m["appId"] = 5 }, codeAppMismatch},
		{"no appId", func(m map[string]any) { delete(m, "appId") }, codeParamInvalid},
		{"no target", func(m map[string]any) { delete(m, "regId") }, codeParamInvalid},
		{"bad notifyType", func(m map[string]any) { m["notifyType"] = 5 }, codeParamInvalid},
		{"no title", func(m map[string]any) { m["title"] = "" }, codeParamInvalid},
		{"long title", func(m map[string]any) { m["title"] = strings.Repeat("标", 21) }, codeParamInvalid},
		{"long content", func(m map[string]any) { m["content"] = strings.Repeat("x", 101) }, codeParamInvalid},
		{"short ttl", func(m map[string]any) { m["timeToLive"] = 10 }, codeParamInvalid},
		{"skipType 2 without content", func(m map[string]any) { m["skipType"] = 2 }, codeParamInvalid},
		{"11 custom pairs", func(m map[string]any) { m["clientCustomMap"] = many }, codeParamInvalid},
		{"custom map too long", func(m map[string]any) {
			m["clientCustomMap"] = map[string]string{"k": strings.Repeat("v", 1024)}
		}, codeParamInvalid},
		{"long requestId", func(m map[string]any) { m["requestId"] = strings.Repeat("r", 65) }, codeParamInvalid},
		{"no requestId", func(m map[string]any) { delete(m, "requestId") }, codeParamInvalid},
		{"unknown category", func(m map[string]any) { m["category"] = "im" }, codeCategoryInvalid},
		{"IM as operational", func(m map[string]any) { m["classification"] = 0 }, codeCategoryMismatch},
		{"IM default classification", func(m map[string]any) { delete(m, "classification") }, codeCategoryMismatch},
		{"NEWS as system", func(m map[string]any) { m["category"] = "NEWS" }, codeCategoryMismatch},
		{"wrong type", func(m map[string]any) { m["clientCustomMap"] = map[string]int{"a": 1} }, codeParamInvalid},
	} {
		if _, a := simCall(t, s, "POST", pathSend, jsonType, tok, sendBody(tc.mut)); a.Result != tc.want {
			t.Errorf("%s: %+v, want %d", tc.name, a, tc.want)
		}
	}
	if _, a := simCall(t, s, "POST", pathSend, jsonType, "", sendBody(nil)); a.Result != codeAuthFailed {
		t.Errorf("no authToken: %+v", a)
	}
	if _, a := simCall(t, s, "POST", pathSend, jsonType, "bogus", sendBody(nil)); a.Result != codeAuthFailed {
		t.Errorf("unknown authToken: %+v", a)
	}
	if _, a := simCall(t, s, "POST", pathSend, jsonType, tok, "{"); a.Result != codeParamInvalid {
		t.Errorf("bad JSON: %+v", a)
	}
	if code, _ := simCall(t, s, "PUT", pathSend, jsonType, tok, sendBody(nil)); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", code)
	}
	clock.Advance(24 * time.Hour)
	if _, a := simCall(t, s, "POST", pathSend, jsonType, tok, sendBody(nil)); a.Result != codeAuthFailed || !strings.Contains(a.Desc, "过期") {
		t.Errorf("expired authToken: %+v", a)
	}
	st := rec.Snapshot()[vendorName]
	if st.Requests != 26 || st.Notifications != 3 || st.Rejected != 23 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSimPushToList(t *testing.T) {
	clock := newClock()
	rec := simkit.NewRecorder(nil)
	s := NewSimulator(rec, SimOptions{Now: clock.Now})
	tok := simToken(t, s, clock.Now())
	_, saved := simCall(t, s, "POST", pathSaveList, jsonType, tok, sendBody(func(m map[string]any) { delete(m, "regId") }))
	if saved.Result != codeOK || saved.TaskID == "" {
		t.Fatalf("saveListPayload: %+v", saved)
	}
	list := func(regIDs []string, taskID string) string {
		b, _ := json.Marshal(map[string]any{"appId": 100001, "regIds": regIDs, "taskId": taskID, "requestId": "q"})
		return string(b)
	}
	big := make([]string, 1001)
	for i := range big {
		big[i] = fmt.Sprint("r", i)
	}
	for _, tc := range []struct {
		name string
		body string
		want int
	}{
		{"one regId", list([]string{"a"}, saved.TaskID), codeParamInvalid},
		{"1001 regIds", list(big, saved.TaskID), codeParamInvalid},
		{"empty regId", list([]string{"a", ""}, saved.TaskID), codeParamInvalid},
		{"unknown task", list([]string{"a", "b"}, "404"), codeTaskIDInvalid},
		{"no task", list([]string{"a", "b"}, ""), codeParamInvalid},
		{"ok", list([]string{"a", "unregistered-b", "c"}, saved.TaskID), codeOK},
	} {
		if _, a := simCall(t, s, "POST", pathPushToList, jsonType, tok, tc.body); a.Result != tc.want {
			t.Errorf("%s: %+v, want %d", tc.name, a, tc.want)
		}
	}
	_, a := simCall(t, s, "POST", pathPushToList, jsonType, tok, list([]string{"unregistered-x", "unregistered-y"}, saved.TaskID))
	if a.Result != codeOK || a.InvalidUsers == nil || len(*a.InvalidUsers) != 2 || (*a.InvalidUsers)[0] != (simInvalid{Status: 1, UserID: "unregistered-x"}) {
		t.Errorf("all invalid: %+v", a)
	}
	if code, _ := simCall(t, s, "POST", pathPushToList, jsonType, tok, list([]string{"a", "unavailable-b"}, saved.TaskID)); code != http.StatusInternalServerError {
		t.Errorf("unavailable: HTTP %d", code)
	}
	if _, a := simCall(t, s, "POST", pathSaveList, jsonType, tok, sendBody(func(m map[string]any) { m["category"] = "XX" })); a.Result != codeCategoryInvalid {
		t.Errorf("saveListPayload bad category: %+v", a)
	}
	st := rec.Snapshot()[vendorName]
	if st.Requests != 8 || st.Notifications != 2 || st.Rejected != 1001+1+2+2+2+1+2+2 {
		t.Errorf("stats = %+v", st)
	}
	if got := s.Received(); len(got) != 1 || len(got[0].RegIDs) != 2 || got[0].MessageID != "m1" {
		t.Errorf("received = %+v", got)
	}
}

func TestSimReceivedBounded(t *testing.T) {
	s := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	for i := range receivedLimit + 5 {
		s.logReceived(Received{MessageID: fmt.Sprint(i)})
	}
	got := s.Received()
	if len(got) != receivedLimit || got[0].MessageID != "5" || got[len(got)-1].MessageID != fmt.Sprint(receivedLimit+4) {
		t.Errorf("len %d first %q last %q", len(got), got[0].MessageID, got[len(got)-1].MessageID)
	}
}
