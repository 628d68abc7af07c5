package huawei

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// raw is a plain HTTP/2 client for poking the simulator directly.
func (e *env) raw(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: e.ca.ClientTLS(), ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func (e *env) accessToken(t *testing.T, hc *http.Client) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {SimAppID}, "client_secret": {SimAppSecret}}
	resp, err := hc.PostForm(e.base+"/oauth2/v2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok oauthToken
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 || tok.AccessToken == "" {
		t.Fatalf("token %+v", tok)
	}
	return tok.AccessToken
}

type rawAnswer struct {
	status int
	code   string
	msg    string
	body   string
}

func (e *env) post(t *testing.T, hc *http.Client, path, ctype, auth, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a simAnswer
	_ = json.Unmarshal(b, &a)
	return rawAnswer{status: resp.StatusCode, code: a.Code, msg: a.Msg, body: string(b)}
}

func TestSimulatorSendAnswers(t *testing.T) {
	e := newEnv(t, SimOptions{})
	hc := e.raw(t)
	tok := e.accessToken(t, hc)
	sendPath := "/v1/" + SimAppID + "/messages:send"
	const jsonType = "application/json;charset=UTF-8"
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprint("t", i)
	}
	manyJSON, _ := json.Marshal(many)
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		path   string
		ctype  string
		auth   string
		body   string
		status int
		code   string
	}{
		{"ok", sendPath, jsonType, tok, `{"message":{"data":"{}","token":["a"]}}`, 200, codeSuccess},
		{"no bearer", sendPath, jsonType, "", `{"message":{"data":"{}","token":["a"]}}`, 401, codeOAuthError},
		{"unknown bearer", sendPath, jsonType, "nope", `{"message":{"data":"{}","token":["a"]}}`, 401, codeOAuthError},
		{"other app", "/v1/123/messages:send", jsonType, tok, `{"message":{"data":"{}","token":["a"]}}`, 401, codeOAuthError},
		{"form body", sendPath, "application/x-www-form-urlencoded", tok, `message=x`, 400, codeBadParam},
		{"not json", sendPath, jsonType, tok, `{"message":`, 400, codeBadStructure},
		{"no message", sendPath, jsonType, tok, `{"validate_only":false}`, 400, codeBadStructure},
		{"token not an array", sendPath, jsonType, tok, `{"message":{"data":"{}","token":"a"}}`, 400, codeBadStructure},
		{"no tokens", sendPath, jsonType, tok, `{"message":{"data":"{}","token":[]}}`, 400, codeTooManyTokens},
		{"1001 tokens", sendPath, jsonType, tok, `{"message":{"data":"{}","token":` + string(manyJSON) + `}}`, 400, codeTooManyTokens},
		{"body too large", sendPath, jsonType, tok, `{"message":{"data":"` + big + `","token":["a"]}}`, 400, codeBodyTooLarge},
		{"bad ttl", sendPath, jsonType, tok, `{"message":{"data":"{}","android":{"ttl":"1d"},"token":["a"]}}`, 400, codeBadParam},
		{"ttl over 15 days", sendPath, jsonType, tok, `{"message":{"data":"{}","android":{"ttl":"1296001s"},"token":["a"]}}`, 400, codeBadParam},
		{"bad urgency", sendPath, jsonType, tok, `{"message":{"data":"{}","android":{"urgency":"URGENT"},"token":["a"]}}`, 400, codeBadParam},
		{"bad collapse_key", sendPath, jsonType, tok, `{"message":{"data":"{}","android":{"collapse_key":101},"token":["a"]}}`, 400, codeBadParam},
		{"bad category", sendPath, jsonType, tok, `{"message":{"data":"{}","android":{"category":"CHAT"},"token":["a"]}}`, 400, codeBadParam},
		{"no click_action", sendPath, jsonType, tok, `{"message":{"android":{"notification":{"title":"t","body":"b"}},"token":["a"]}}`, 400, codeBadParam},
		{"notification without title", sendPath, jsonType, tok, `{"message":{"notification":{"body":"b"},"android":{"notification":{"body":"b","click_action":{"type":3}}},"token":["a"]}}`, 400, codeBadStructure},
		{"notification with a blank body", sendPath, jsonType, tok, `{"message":{"notification":{"title":"t","body":" "},"android":{"notification":{"click_action":{"type":3}}},"token":["a"]}}`, 400, codeBadStructure},
		{"empty message", sendPath, jsonType, tok, `{"message":{"token":["a"]}}`, 400, codeBadStructure},
		{"partial", sendPath, jsonType, tok, `{"message":{"data":"{}","token":["a","unregistered-b"]}}`, 200, codePartial},
		{"all invalid", sendPath, jsonType, tok, `{"message":{"data":"{}","token":["unregistered-b"]}}`, 400, codeAllInvalid},
		{"unavailable", sendPath, jsonType, tok, `{"message":{"data":"{}","token":["a","unavailable-b"]}}`, 503, ""},
		{"validate only", sendPath, jsonType, tok, `{"validate_only":true,"message":{"data":"{}","token":["a"]}}`, 200, codeSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.post(t, hc, tt.path, tt.ctype, tt.auth, tt.body)
			if got.status != tt.status || got.code != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", got.status, got.code, got.body, tt.status, tt.code)
			}
		})
	}
	// Only "ok", "partial" (one token) reached the log; validate_only did not.
	if n := len(e.sim.Received()); n != 2 {
		t.Errorf("received %d sends, want 2", n)
	}
	t.Run("partial msg", func(t *testing.T) {
		got := e.post(t, hc, sendPath, jsonType, tok, `{"message":{"data":"{}","token":["a","unregistered-b","unregistered-c"]}}`)
		var p partialMsg
		if err := json.Unmarshal([]byte(got.msg), &p); err != nil {
			t.Fatalf("msg %q: %v", got.msg, err)
		}
		if p.Success != 1 || p.Failure != 2 || strings.Join(p.IllegalTokens, ",") != "unregistered-b,unregistered-c" {
			t.Errorf("partial %+v", p)
		}
	})
}

func TestSimulatorTokenEndpoint(t *testing.T) {
	e := newEnv(t, SimOptions{})
	hc := e.raw(t)
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		path   string
		ctype  string
		body   string
		status int
		err    int
		sub    int
	}{
		{"v3 ok", "/oauth2/v3/token", formType, form("grant_type", "client_credentials", "client_id", SimAppID, "client_secret", SimAppSecret), 200, 0, 0},
		{"v2 ok", "/oauth2/v2/token", formType, form("grant_type", "client_credentials", "client_id", SimAppID, "client_secret", SimAppSecret), 200, 0, 0},
		{"bad secret", "/oauth2/v3/token", formType, form("grant_type", "client_credentials", "client_id", SimAppID, "client_secret", "x"), 400, 1101, 12304},
		{"no secret", "/oauth2/v3/token", formType, form("grant_type", "client_credentials", "client_id", SimAppID), 400, 1101, 20171},
		{"no client id", "/oauth2/v3/token", formType, form("grant_type", "client_credentials"), 400, 1102, 20001},
		{"malformed client id", "/oauth2/v3/token", formType, form("grant_type", "client_credentials", "client_id", "abc"), 400, 1101, 20003},
		{"unknown client id", "/oauth2/v3/token", formType, form("grant_type", "client_credentials", "client_id", "42", "client_secret", "x"), 400, 1203, 12303},
		{"no grant", "/oauth2/v3/token", formType, form("client_id", SimAppID), 400, 1102, 20181},
		{"wrong grant", "/oauth2/v3/token", formType, form("grant_type", "password", "client_id", SimAppID), 400, 1101, 20182},
		{"json body", "/oauth2/v3/token", "application/json", `{"grant_type":"client_credentials"}`, 400, 1102, 20181},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := hc.Post(e.base+tt.path, tt.ctype, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				oauthError
				oauthToken
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || got.Error != tt.err || got.SubError != tt.sub {
				t.Errorf("got %d %+v, want %d error %d sub %d", resp.StatusCode, got, tt.status, tt.err, tt.sub)
			}
			if tt.status == 200 && (got.AccessToken == "" || got.TokenType != "Bearer") {
				t.Errorf("token %+v", got.oauthToken)
			}
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		resp, err := hc.Get(e.base + "/oauth2/v3/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	if st := e.stats(); st.Requests != 0 {
		t.Errorf("token calls counted as send requests: %+v", st)
	}
}

func TestSimulatorExpiredToken(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: time.Minute})
	hc := e.raw(t)
	tok := e.accessToken(t, hc)
	e.clock.Advance(time.Minute)
	got := e.post(t, hc, "/v1/"+SimAppID+"/messages:send", "application/json", tok, `{"message":{"data":"{}","token":["a","b"]}}`)
	if got.status != 401 || got.code != codeTokenExpired {
		t.Errorf("got %+v", got)
	}
	if st := e.stats(); st.Requests != 1 || st.Rejected != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestSimulatorReceivedIsBounded(t *testing.T) {
	s := NewSimulator(nil, SimOptions{})
	for i := range maxReceived + 5 {
		s.record(Received{MessageID: fmt.Sprint(i)})
	}
	rc := s.Received()
	if len(rc) != maxReceived || rc[0].MessageID != "5" || rc[len(rc)-1].MessageID != fmt.Sprint(maxReceived+4) {
		t.Errorf("len %d first %s last %s", len(rc), rc[0].MessageID, rc[len(rc)-1].MessageID)
	}
}

func TestSimulatorReadsAndroidData(t *testing.T) {
	m := &simMessage{Data: strp(`{"message_id":"outer"}`), Android: &simAndroid{Data: strp(`{"message_id":"inner"}`)}}
	if rc := received(m, []string{"a"}, nil); rc.MessageID != "inner" || !rc.DataOnly {
		t.Errorf("received %+v", rc)
	}
	m.Data, m.Android = strp("not json"), nil
	if rc := received(m, []string{"a"}, nil); rc.MessageID != "" {
		t.Errorf("received %+v", rc)
	}
}

func strp(s string) *string { return &s }
