package oppo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// simCall posts form to path on s directly and decodes the answer.
func simCall(t *testing.T, s *Simulator, method, path string, form url.Values) (int, json.RawMessage) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return -1000 - w.Code, nil
	}
	var a struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	return a.Code, a.Data
}

func newDirectSim(clock *fakeClock) *Simulator {
	return NewSimulator(simkit.NewRecorder(clock.Now), SimOptions{Now: clock.Now})
}

func simToken(t *testing.T, s *Simulator, now time.Time) string {
	t.Helper()
	code, data := simCall(t, s, http.MethodPost, pathAuth, authForm(SimAppKey, SimMasterSecret, now))
	var d simAuthData
	if code != 0 || json.Unmarshal(data, &d) != nil || d.AuthToken == "" {
		t.Fatalf("auth: code %d data %s", code, data)
	}
	return d.AuthToken
}

func TestSimAuthCodes(t *testing.T) {
	clock := newFakeClock(testStart)
	s := newDirectSim(clock)
	good := authForm(SimAppKey, SimMasterSecret, testStart)
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name   string
		method string
		form   url.Values
		code   int
	}{
		{"ok", http.MethodPost, good, 0},
		{"GET", http.MethodGet, good, codeHTTPActionNotAllowed},
		{"no app_key", http.MethodPost, with("app_key", ""), codeMissingAppKey},
		{"no sign", http.MethodPost, with("sign", ""), codeMissingSignature},
		{"no timestamp", http.MethodPost, with("timestamp", ""), codeMissingTimestamp},
		{"timestamp not a number", http.MethodPost, with("timestamp", "yesterday"), codeInvalidTimestamp},
		{"timestamp 11 min old", http.MethodPost, authForm(SimAppKey, SimMasterSecret, testStart.Add(-11*time.Minute)), codeInvalidTimestamp},
		{"timestamp 9 min ahead", http.MethodPost, authForm(SimAppKey, SimMasterSecret, testStart.Add(9*time.Minute)), 0},
		{"wrong app key", http.MethodPost, authForm("other", SimMasterSecret, testStart), codeInvalidAppKey},
		{"wrong sign", http.MethodPost, authForm(SimAppKey, "other", testStart), codeInvalidSignature},
	}
	for _, tc := range tests {
		if code, _ := simCall(t, s, tc.method, pathAuth, tc.form); code != tc.code {
			t.Errorf("%s: code %d, want %d", tc.name, code, tc.code)
		}
	}
}

func simMessageJSON(reg, notification string) string {
	return fmt.Sprintf(`{"target_type":2,"target_value":%q,"notification":%s}`, reg, notification)
}

const okNotification = `{"title":"t","content":"c","channel_id":"chat","action_parameters":"{\"message_id\":\"m\"}"}`

func TestSimSendCodes(t *testing.T) {
	clock := newFakeClock(testStart)
	s := newDirectSim(clock)
	tok := simToken(t, s, testStart)
	batch := func(msgs ...string) url.Values {
		return url.Values{"auth_token": {tok}, "messages": {"[" + strings.Join(msgs, ",") + "]"}}
	}
	notif := func(extra string) string {
		return simMessageJSON("CN_a", strings.Replace(okNotification, "{", "{"+extra, 1))
	}
	tooMany := make([]string, 1001)
	for i := range tooMany {
		tooMany[i] = simMessageJSON("CN_"+strconv.Itoa(i), okNotification)
	}
	tests := []struct {
		name string
		form url.Values
		code int
	}{
		{"ok", batch(simMessageJSON("CN_a", okNotification)), 0},
		{"no auth_token", url.Values{"messages": {"[]"}}, codeMissingAuthToken},
		{"unknown auth_token", url.Values{"auth_token": {"nope"}, "messages": {"[]"}}, codeInvalidAuthToken},
		{"no messages", url.Values{"auth_token": {tok}}, codeMissingArguments},
		{"messages not JSON", url.Values{"auth_token": {tok}, "messages": {"[{"}}, codeInvalidArguments},
		{"title not a string", batch(simMessageJSON("CN_a", `{"title":1}`)), codeInvalidArguments},
		{"empty array", batch(), codeMissingArguments},
		{"1001 messages", batch(tooMany...), codeInvalidArguments},
		{"no target_type", batch(`{"target_value":"CN_a","notification":` + okNotification + `}`), codeMissingArguments},
		{"target_type 3", batch(`{"target_type":3,"target_value":"CN_a","notification":` + okNotification + `}`), codeInvalidArguments},
		{"no target_value", batch(simMessageJSON("", okNotification)), codeMissingArguments},
		{"no notification", batch(`{"target_type":2,"target_value":"CN_a"}`), codeMissingArguments},
		{"no title", batch(simMessageJSON("CN_a", `{"content":"c","channel_id":"x"}`)), codeMissingArguments},
		{"title 51 chars", batch(simMessageJSON("CN_a", `{"title":"`+strings.Repeat("x", 51)+`","content":"c","channel_id":"x"}`)), codeInvalidArguments},
		{"content 51 chars", batch(simMessageJSON("CN_a", `{"title":"t","content":"`+strings.Repeat("x", 51)+`","channel_id":"x"}`)), codeInvalidArguments},
		{"content 51 chars, style 2", batch(simMessageJSON("CN_a", `{"style":2,"title":"t","content":"`+strings.Repeat("x", 51)+`","channel_id":"x"}`)), 0},
		{"style 9", batch(notif(`"style":9,`)), codeInvalidArguments},
		{"click_action_type 3", batch(notif(`"click_action_type":3,`)), codeInvalidArguments},
		{"action_parameters not JSON", batch(simMessageJSON("CN_a", `{"title":"t","content":"c","channel_id":"x","action_parameters":"a=b"}`)), codeInvalidArguments},
		{"off_line_ttl 11 days", batch(notif(`"off_line_ttl":950400,`)), codeInvalidArguments},
		{"no channel_id", batch(simMessageJSON("CN_a", `{"title":"t","content":"c"}`)), codeMissingArguments},
		{"unknown category", batch(notif(`"category":"GAMES",`)), codeCategoryError},
		{"notify_level without category", batch(notif(`"notify_level":2,`)), codeCategoryError},
		{"notify_level 4", batch(notif(`"category":"IM","notify_level":4,`)), codeCategoryError},
		{"notify_level 16 on NEWS", batch(notif(`"category":"NEWS","notify_level":16,`)), codeCategoryError},
		{"notify_level 16 on IM", batch(notif(`"category":"IM","notify_level":16,`)), 0},
		{"unavailable- target", batch(simMessageJSON("CN_a", okNotification), simMessageJSON("unavailable-b", okNotification)), codeUnavailable},
	}
	for _, tc := range tests {
		if code, _ := simCall(t, s, http.MethodPost, pathBatch, tc.form); code != tc.code {
			t.Errorf("%s: code %d, want %d", tc.name, code, tc.code)
		}
	}
	if code, _ := simCall(t, s, http.MethodGet, pathBatch, batch()); code != codeHTTPActionNotAllowed {
		t.Errorf("GET: code %d", code)
	}
	if code, _ := simCall(t, s, http.MethodPost, "/server/v1/nope", nil); code != -1404 {
		t.Errorf("unknown path: code %d, want HTTP 404", code)
	}
}

func TestSimUnicast(t *testing.T) {
	clock := newFakeClock(testStart)
	s := newDirectSim(clock)
	tok := simToken(t, s, testStart)
	code, data := simCall(t, s, http.MethodPost, pathUnicast,
		url.Values{"auth_token": {tok}, "message": {simMessageJSON("CN_a", okNotification)}})
	var d struct {
		MessageID string `json:"messageId"`
	}
	if code != 0 || json.Unmarshal(data, &d) != nil || !strings.HasPrefix(d.MessageID, SimAppKey+"-1-1-") {
		t.Errorf("unicast: code %d data %s", code, data)
	}
	code, _ = simCall(t, s, http.MethodPost, pathUnicast,
		url.Values{"auth_token": {tok}, "message": {simMessageJSON("unregistered-a", okNotification)}})
	if code != codeInvalidRegID {
		t.Errorf("unregistered unicast: code %d, want 10000", code)
	}
	if got := s.rec.Snapshot()[vendorName]; got != (simkit.Stats{Requests: 2, Notifications: 1, Unique: 1, Rejected: 1}) {
		t.Errorf("stats %+v", got)
	}
}

func TestSimTokenExpires(t *testing.T) {
	clock := newFakeClock(testStart)
	s := NewSimulator(nil, SimOptions{Now: clock.Now, AuthTokenTTL: time.Hour})
	tok := simToken(t, s, testStart)
	form := url.Values{"auth_token": {tok}, "messages": {"[" + simMessageJSON("CN_a", okNotification) + "]"}}
	if code, _ := simCall(t, s, http.MethodPost, pathBatch, form); code != 0 {
		t.Fatalf("fresh token: code %d", code)
	}
	clock.Advance(time.Hour)
	if code, _ := simCall(t, s, http.MethodPost, pathBatch, form); code != codeInvalidAuthToken {
		t.Fatalf("expired token: code %d, want 11", code)
	}
}

func TestSimReceivedIsBounded(t *testing.T) {
	s := NewSimulator(nil, SimOptions{})
	s.mu.Lock()
	for i := range maxReceived + 5 {
		s.record(Received{RegID: strconv.Itoa(i)})
	}
	s.mu.Unlock()
	got := s.Received()
	if len(got) != maxReceived || got[0].RegID != "5" || got[len(got)-1].RegID != strconv.Itoa(maxReceived+4) {
		t.Fatalf("len %d first %q last %q", len(got), got[0].RegID, got[len(got)-1].RegID)
	}
}
