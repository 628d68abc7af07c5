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

// validForm is a notification request the simulator accepts.
func validForm() url.Values {
	return url.Values{
		"registration_id":         {"r1"},
		"restricted_package_name": {SimPackageName},
		"pass_through":            {"0"},
		"title":                   {"t"},
		"description":             {"d"},
		"payload":                 {`{"message_id":"m"}`},
		"extra.channel_id":        {"im-private"},
		"extra.message_id":        {"m"},
	}
}

type simAnswer struct {
	Result string `json:"result"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Data   struct {
		ID        string `json:"id"`
		BadRegIDs string `json:"bad_regids"`
	} `json:"data"`
}

func post(t *testing.T, h http.Handler, method, path, auth, contentType, body string) (*httptest.ResponseRecorder, simAnswer) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var a simAnswer
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
			t.Fatalf("answer %q is not JSON: %v", w.Body, err)
		}
	}
	return w, a
}

const formType = "application/x-www-form-urlencoded;charset=UTF-8"

func TestSimulatorValidation(t *testing.T) {
	auth := "key=" + SimAppSecret
	many := make([]string, MaxBatch+1)
	for i := range many {
		many[i] = fmt.Sprintf("r%d", i)
	}
	cases := []struct {
		name   string
		mutate func(url.Values)
		auth   string
		code   int
	}{
		{"valid", func(url.Values) {}, auth, CodeOK},
		{"v2 path twin", nil, auth, CodeOK},
		{"missing auth", func(url.Values) {}, "", CodeAuthFailed},
		{"wrong secret", func(url.Values) {}, "key=nope", CodeAuthFailed},
		{"uppercase Key", func(url.Values) {}, "Key=" + SimAppSecret, CodeAuthFailed},
		{"no registration_id", func(f url.Values) { f.Del("registration_id") }, auth, CodeMissingParam},
		{"too many regids", func(f url.Values) { f.Set("registration_id", strings.Join(many, ",")) }, auth, CodeIllegalParam},
		{"empty regid in list", func(f url.Values) { f.Set("registration_id", "r1,,r2") }, auth, CodeIllegalParam},
		{"no package", func(f url.Values) { f.Del("restricted_package_name") }, auth, CodeMissingParam},
		{"other package", func(f url.Values) { f.Set("restricted_package_name", "com.other") }, auth, CodeBadPackage},
		{"no title", func(f url.Values) { f.Del("title") }, auth, CodeMissingParam},
		{"blank description", func(f url.Values) { f.Set("description", "  ") }, auth, CodeMissingParam},
		{"title of 50", func(f url.Values) { f.Set("title", strings.Repeat("字", 50)) }, auth, CodeIllegalParam},
		{"title of 49", func(f url.Values) { f.Set("title", strings.Repeat("字", 49)) }, auth, CodeOK},
		// MiPush documents extra.channel_id as optional: a message without
		// one goes to the app's default channel.
		{"no channel", func(f url.Values) { f.Del("extra.channel_id") }, auth, CodeOK},
		{"payload of 4095 characters", func(f url.Values) { f.Set("payload", strings.Repeat("字", maxPayload)) }, auth, CodeOK},
		{"payload of 4096 characters", func(f url.Values) { f.Set("payload", strings.Repeat("x", maxPayload+1)) }, auth, CodeIllegalParam},
		{"passthrough payload of 4096 characters", func(f url.Values) {
			f.Set("pass_through", "1")
			f.Set("payload", strings.Repeat("x", maxPayload+1))
		}, auth, CodeIllegalParam},
		{"unknown channel", func(f url.Values) { f.Set("extra.channel_id", "public") }, auth, CodeChannelMismatch},
		{"passthrough without title or channel", func(f url.Values) {
			f.Set("pass_through", "1")
			f.Del("title")
			f.Del("description")
			f.Del("extra.channel_id")
		}, auth, CodeOK},
		{"passthrough without payload", func(f url.Values) { f.Set("pass_through", "1"); f.Del("payload") }, auth, CodeMissingParam},
		{"pass_through 2", func(f url.Values) { f.Set("pass_through", "2") }, auth, CodeIllegalParam},
		{"notify_type 0", func(f url.Values) { f.Set("notify_type", "0") }, auth, CodeIllegalParam},
		{"notify_id negative", func(f url.Values) { f.Set("notify_id", "-1") }, auth, CodeIllegalParam},
		{"time_to_live text", func(f url.Values) { f.Set("time_to_live", "1h") }, auth, CodeIllegalParam},
		{"eleven custom extras", func(f url.Values) {
			for i := range 10 {
				f.Set(fmt.Sprintf("extra.k%d", i), "v")
			}
		}, auth, CodeIllegalParam},
		{"ten custom extras", func(f url.Values) {
			for i := range 9 {
				f.Set(fmt.Sprintf("extra.k%d", i), "v")
			}
		}, auth, CodeOK},
		{"extra over 1024", func(f url.Values) { f.Set("extra.k", strings.Repeat("v", 1025)) }, auth, CodeIllegalParam},
		{"all unregistered", func(f url.Values) { f.Set("registration_id", "unregistered-1,unregistered-2") }, auth, CodeSendFailed},
		{"one unavailable", func(f url.Values) { f.Set("registration_id", "r1,unavailable-1") }, auth, CodeSystemBusy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{Channels: []string{"im-private"}})
			f := validForm()
			path := SendPath
			if tc.mutate == nil {
				path = "/v2/message/regid"
			} else {
				tc.mutate(f)
			}
			w, a := post(t, sim, http.MethodPost, path, tc.auth, formType, f.Encode())
			if w.Code != http.StatusOK || a.Code != tc.code {
				t.Fatalf("HTTP %d code %d (%s), want 200 code %d", w.Code, a.Code, a.Reason, tc.code)
			}
			if want := map[bool]string{true: "ok", false: "error"}[tc.code == CodeOK]; a.Result != want {
				t.Errorf("result %q, want %q", a.Result, want)
			}
		})
	}
}

func TestSimulatorBadRequests(t *testing.T) {
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	auth := "key=" + SimAppSecret
	if w, _ := post(t, sim, http.MethodGet, SendPath, auth, "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", w.Code)
	}
	if w, _ := post(t, sim, http.MethodPost, "/v3/message/alias", auth, formType, ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown path: HTTP %d", w.Code)
	}
	if _, a := post(t, sim, http.MethodPost, SendPath, auth, "application/json", `{"registration_id":"r"}`); a.Code != CodeMissingParam {
		t.Errorf("JSON body: code %d", a.Code)
	}
	if _, a := post(t, sim, http.MethodPost, SendPath, auth, formType, "a=%zz"); a.Code != CodeIllegalParam {
		t.Errorf("malformed form: code %d", a.Code)
	}
	if _, a := post(t, sim, http.MethodPost, SendPath, auth, formType, strings.Repeat("x", maxSimBody+1)); a.Code != CodeIllegalParam {
		t.Errorf("huge body: code %d", a.Code)
	}
}

func TestSimulatorPartialSuccess(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	sim := NewSimulator(rec, SimOptions{})
	f := validForm()
	f.Set("registration_id", "r1,unregistered-x,r2,unregistered-y")
	_, a := post(t, sim, http.MethodPost, SendPath, "key="+SimAppSecret, formType, f.Encode())
	if a.Code != CodeOK || a.Data.BadRegIDs != "unregistered-x,unregistered-y" || a.Data.ID == "" {
		t.Errorf("answer %+v", a)
	}
	want := simkit.Stats{Requests: 1, Notifications: 2, Unique: 2, Rejected: 2}
	if s := rec.Snapshot()[vendorName]; s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
}

func TestSimulatorMessageIDFromPayload(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	sim := NewSimulator(rec, SimOptions{})
	f := validForm()
	f.Del("extra.message_id")
	f.Set("payload", `{"message_id":"from-payload"}`)
	post(t, sim, http.MethodPost, SendPath, "key="+SimAppSecret, formType, f.Encode())
	post(t, sim, http.MethodPost, SendPath, "key="+SimAppSecret, formType, f.Encode())
	if got := sim.Received()[0].MessageID; got != "from-payload" {
		t.Errorf("MessageID %q", got)
	}
	if s := rec.Snapshot()[vendorName]; s.Unique != 1 || s.Duplicates != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestSimulatorLogIsBounded(t *testing.T) {
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{LogSize: 3})
	for i := range 5 {
		f := validForm()
		f.Set("extra.message_id", fmt.Sprint(i))
		post(t, sim, http.MethodPost, SendPath, "key="+SimAppSecret, formType, f.Encode())
	}
	var ids []string
	for _, r := range sim.Received() {
		ids = append(ids, r.MessageID)
	}
	if strings.Join(ids, ",") != "2,3,4" {
		t.Errorf("log holds %v, want the last three oldest first", ids)
	}
	off := NewSimulator(simkit.NewRecorder(nil), SimOptions{LogSize: -1})
	post(t, off, http.MethodPost, SendPath, "key="+SimAppSecret, formType, validForm().Encode())
	if len(off.Received()) != 0 {
		t.Error("log kept with LogSize < 0")
	}
}

func TestSimulatorClientConfig(t *testing.T) {
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{AppSecret: "x", PackageName: "com.p", Channels: []string{"b", "a"}})
	cfg := sim.ClientConfig("https://127.0.0.1:8090/xiaomi", nil)
	if cfg.AppSecret != "x" || cfg.PackageName != "com.p" || cfg.ChannelID != "a" || cfg.Endpoint != "https://127.0.0.1:8090/xiaomi" {
		t.Errorf("config %+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Error(err)
	}
}
