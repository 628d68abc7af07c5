package fcm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/herald-push/herald/vendors/simkit"
)

// rawClient talks to the simulator without the SDK.
type rawClient struct {
	e  *env
	hc *http.Client
}

func newRawClient(e *env) *rawClient {
	return &rawClient{e: e, hc: &http.Client{
		Transport: &http.Transport{TLSClientConfig: e.ca.ClientTLS(), ForceAttemptHTTP2: true},
		Timeout:   5 * time.Second,
	}}
}

type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	err    apiError
}

func (c *rawClient) do(t *testing.T, method, path, ctype, auth, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, c.e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := rawAnswer{status: resp.StatusCode, header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(a.body, &a.err)
	return a
}

// bearer runs the JWT-bearer flow for scopes and returns the header value.
func (c *rawClient) bearer(t *testing.T, scopes ...string) string {
	t.Helper()
	cfg, err := google.JWTConfigFromJSON(c.e.sim.ServiceAccountJSON(c.e.url+"/token"), scopes...)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)).Token()
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok.AccessToken
}

func (a rawAnswer) fcmCode() string {
	for _, d := range a.err.Error.Details {
		if d.Type == typeFcmError {
			return d.ErrorCode
		}
	}
	return ""
}

func TestSimTokenEndpoint(t *testing.T) {
	e := newEnv(t, SimOptions{AuthTokenTTL: 20 * time.Minute})
	c := newRawClient(e)
	form := func(v url.Values) string { return v.Encode() }
	cases := []struct {
		name, ctype, body, wantErr string
	}{
		{"json body", "application/json", `{}`, "invalid_request"},
		{"grant type", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {"client_credentials"}}), "unsupported_grant_type"},
		{"no assertion", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {grantTypeJWTBearer}}), "invalid_request"},
		{"garbage assertion", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {"a.b.c"}}), "invalid_grant"},
		{"unsigned assertion", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."}}), "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do(t, http.MethodPost, "/token", tc.ctype, "", tc.body)
			var got struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(a.body, &got)
			if a.status != http.StatusBadRequest || got.Error != tc.wantErr {
				t.Errorf("%d %s, want 400 %s", a.status, a.body, tc.wantErr)
			}
		})
	}
	t.Run("grant", func(t *testing.T) {
		cfg, _ := google.JWTConfigFromJSON(e.sim.ServiceAccountJSON(e.url+"/token"), Scope)
		tok, err := cfg.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)).Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || !strings.HasPrefix(tok.AccessToken, "ya29.sim.") || tok.Extra("expires_in") != float64(1200) {
			t.Errorf("token = %+v expires_in %v", tok, tok.Extra("expires_in"))
		}
	})
	if e.stats().Requests != 0 {
		t.Errorf("token calls counted as send requests")
	}
}

func TestSimAuthAnswers(t *testing.T) {
	e := newEnv(t, SimOptions{})
	c := newRawClient(e)
	good := c.bearer(t, Scope)
	body := `{"message":{"token":"tok-a"}}`
	path := "/v1/projects/herald-sim/messages:send"
	cases := []struct {
		name, path, auth string
		status           int
		code, reason     string
	}{
		{"missing", path, "", 401, "UNAUTHENTICATED", "CREDENTIALS_MISSING"},
		{"unknown", path, "Bearer ya29.forged", 401, "UNAUTHENTICATED", ""},
		{"scope", path, c.bearer(t, "https://www.googleapis.com/auth/userinfo.email"), 403, "PERMISSION_DENIED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"},
		{"cloud-platform scope", path, c.bearer(t, scopeCloudPlatform), 200, "", ""},
		{"project", "/v1/projects/other/messages:send", good, 403, "PERMISSION_DENIED", "IAM_PERMISSION_DENIED"},
		{"ok", path, good, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do(t, http.MethodPost, tc.path, "application/json", tc.auth, body)
			if a.status != tc.status || a.err.Error.Status != tc.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			if tc.reason != "" && !strings.Contains(string(a.body), tc.reason) {
				t.Errorf("body %s lacks reason %s", a.body, tc.reason)
			}
			if tc.status == 401 && a.fcmCode() != "" {
				t.Errorf("a refused bearer must carry no FcmError detail: %s", a.body)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		a := c.do(t, http.MethodPost, path, "application/json", good, body)
		if a.status != 401 || !strings.Contains(string(a.body), "ACCESS_TOKEN_EXPIRED") || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%d %v %s", a.status, a.header, a.body)
		}
	})
	if st := e.stats(); st.Requests != 7 || st.Rejected != 5 || st.Notifications != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSimRejectsMalformedSends(t *testing.T) {
	e := newEnv(t, SimOptions{Kind: "web"})
	c := newRawClient(e)
	auth := c.bearer(t, Scope)
	big := strings.Repeat("x", 4100)
	half := strings.Repeat("x", 2050) // data and text each fit, together they do not
	cases := []struct {
		name, ctype, body string
		fcm               string // FcmError detail expected ("" = none)
	}{
		{"not json", "application/json", `{"message":`, ""},
		{"trailing", "application/json", `{"message":{"token":"a"}} {}`, ""},
		{"form", "application/x-www-form-urlencoded", `message=x`, ""},
		{"unknown field", "application/json", `{"msg":{"token":"a"}}`, ""},
		{"unknown message field", "application/json", `{"message":{"token":"a","priority":"high"}}`, ""},
		{"no message", "application/json", `{"validate_only":false}`, ""},
		{"no target", "application/json", `{"message":{"data":{"a":"b"}}}`, "INVALID_ARGUMENT"},
		{"two targets", "application/json", `{"message":{"token":"a","topic":"news"}}`, "INVALID_ARGUMENT"},
		{"bad token", "application/json", `{"message":{"token":"a b"}}`, "INVALID_ARGUMENT"},
		{"number data", "application/json", `{"message":{"token":"a","data":{"n":12}}}`, ""},
		{"data not object", "application/json", `{"message":{"token":"a","data":"x"}}`, ""},
		{"reserved key", "application/json", `{"message":{"token":"a","data":{"google.sent_time":"1"}}}`, "INVALID_ARGUMENT"},
		{"data too big", "application/json", `{"message":{"token":"a","data":{"k":"` + big + `"}}}`, "INVALID_ARGUMENT"},
		{"data and title too big", "application/json", `{"message":{"token":"a","data":{"k":"` + half + `"},"notification":{"title":"` + half + `"}}}`, "INVALID_ARGUMENT"},
		{"data and web body too big", "application/json", `{"message":{"token":"a","data":{"k":"` + half + `"},"webpush":{"notification":{"body":"` + half + `"}}}}`, "INVALID_ARGUMENT"},
		{"android title too big", "application/json", `{"message":{"token":"a","android":{"notification":{"title":"` + big + `"}}}}`, "INVALID_ARGUMENT"},
		{"android priority", "application/json", `{"message":{"token":"a","android":{"priority":"urgent"}}}`, "INVALID_ARGUMENT"},
		{"android ttl unit", "application/json", `{"message":{"token":"a","android":{"ttl":"3600"}}}`, "INVALID_ARGUMENT"},
		{"android ttl max", "application/json", `{"message":{"token":"a","android":{"ttl":"2419201s"}}}`, "INVALID_ARGUMENT"},
		{"android not object", "application/json", `{"message":{"token":"a","android":[]}}`, ""},
		{"web urgency", "application/json", `{"message":{"token":"a","webpush":{"headers":{"Urgency":"asap"}}}}`, "INVALID_ARGUMENT"},
		{"web topic", "application/json", `{"message":{"token":"a","webpush":{"headers":{"Topic":"a.b"}}}}`, "INVALID_ARGUMENT"},
		{"web ttl", "application/json", `{"message":{"token":"a","webpush":{"headers":{"TTL":"soon"}}}}`, "INVALID_ARGUMENT"},
	}
	path := "/v1/projects/herald-sim/messages:send"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do(t, http.MethodPost, path, tc.ctype, auth, tc.body)
			if a.status != 400 || a.err.Error.Status != "INVALID_ARGUMENT" || a.err.Error.Code != 400 || a.fcmCode() != tc.fcm {
				t.Errorf("%d %s, want 400 INVALID_ARGUMENT with FcmError %q", a.status, a.body, tc.fcm)
			}
		})
	}
	if st := e.stats(); st.Requests != int64(len(cases)) || st.Rejected != int64(len(cases)) || st.Notifications != 0 {
		t.Errorf("stats = %+v", st)
	}

	t.Run("validate only", func(t *testing.T) {
		a := c.do(t, http.MethodPost, path, "application/json", auth, `{"validate_only":true,"message":{"token":"a"}}`)
		if a.status != 200 || !strings.Contains(string(a.body), "fake_message_id") {
			t.Errorf("%d %s", a.status, a.body)
		}
	})
	t.Run("topic", func(t *testing.T) {
		a := c.do(t, http.MethodPost, path, "application/json", auth, `{"message":{"topic":"news","data":{"message_id":"t1"}}}`)
		if a.status != 200 {
			t.Errorf("%d %s", a.status, a.body)
		}
	})
	t.Run("method and path", func(t *testing.T) {
		if a := c.do(t, http.MethodGet, path, "", auth, ""); a.status != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", a.status)
		}
		if a := c.do(t, http.MethodPost, "/v2/nothing", "application/json", auth, "{}"); a.status != 404 || a.err.Error.Status != "NOT_FOUND" {
			t.Errorf("unknown path: %d %s", a.status, a.body)
		}
	})
	if st := e.stats(); st.Notifications != 1 {
		t.Errorf("validate_only or topic miscounted: %+v", st)
	}
}

func TestSimQuotaAnswerShape(t *testing.T) {
	e := newEnv(t, SimOptions{Limits: simkit.Limits{QPS: 0.25}})
	c := newRawClient(e)
	auth := c.bearer(t, Scope)
	path := "/v1/projects/herald-sim/messages:send"
	body := `{"message":{"token":"a"}}`
	_ = c.do(t, http.MethodPost, path, "application/json", auth, body) // takes the burst
	a := c.do(t, http.MethodPost, path, "application/json", auth, body)
	if a.status != 429 || a.err.Error.Status != "RESOURCE_EXHAUSTED" || a.fcmCode() != "QUOTA_EXCEEDED" || a.header.Get("Retry-After") != "4" {
		t.Errorf("%d %v %s", a.status, a.header, a.body)
	}
}

func TestSimReceivedIsBounded(t *testing.T) {
	s := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	for i := range receivedCap + 5 {
		s.record(Received{Token: strconv.Itoa(i)})
	}
	got := s.Received()
	if len(got) != receivedCap || got[0].Token != "5" || got[len(got)-1].Token != strconv.Itoa(receivedCap+4) {
		t.Errorf("len %d first %q last %q", len(got), got[0].Token, got[len(got)-1].Token)
	}
}
