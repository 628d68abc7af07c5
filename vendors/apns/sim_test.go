package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"

	"github.com/herald-push/herald/vendors/simkit"
)

func TestSimulatorProtocol(t *testing.T) {
	clock := newFakeClock()
	e := startSim(t, SimOptions{Now: clock.Now}, nil)
	good := "bearer " + signJWT(t, e, nil, DefaultSimKeyID, DefaultSimTeamID, clock.Now())
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": DefaultSimTeamID, "iat": clock.Now().Unix()}).SignedString([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{"authorization": good, "apns-topic": DefaultSimTopic, "apns-push-type": "alert"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	const body = `{"aps":{"alert":"hi"},"message_id":"m1"}`
	cases := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   string
		status int
		reason string
	}{
		{"ok", "POST", "/production/3/device/tok", hdr(), body, 200, ""},
		{"ok-dev", "POST", "/development/3/device/dev-tok", hdr(), body, 200, ""},
		{"ok-no-push-type", "POST", "/production/3/device/tok", hdr("apns-push-type", "-"), body, 200, ""},
		{"ok-apns-id", "POST", "/production/3/device/tok", hdr("apns-id", "123e4567-e89b-12d3-a456-426655440000"), body, 200, ""},
		{"bad-path", "POST", "/3/device/tok", hdr(), body, 404, "BadPath"},
		{"bad-path-env", "POST", "/staging/3/device/tok", hdr(), body, 404, "BadPath"},
		{"bad-path-extra", "POST", "/production/3/device/tok/x", hdr(), body, 404, "BadPath"},
		{"method", "GET", "/production/3/device/tok", hdr(), "", 405, "MethodNotAllowed"},
		{"missing-token", "POST", "/production/3/device/", hdr(), body, 400, "MissingDeviceToken"},
		{"wrong-env-prod", "POST", "/production/3/device/dev-tok", hdr(), body, 400, "BadDeviceToken"},
		{"wrong-env-dev", "POST", "/development/3/device/tok", hdr(), body, 400, "BadDeviceToken"},
		{"no-jwt", "POST", "/production/3/device/tok", hdr("authorization", "-"), body, 403, "MissingProviderToken"},
		{"not-bearer", "POST", "/production/3/device/tok", hdr("authorization", "basic abc"), body, 403, "InvalidProviderToken"},
		{"garbage-jwt", "POST", "/production/3/device/tok", hdr("authorization", "bearer a.b.c"), body, 403, "InvalidProviderToken"},
		{"other-key", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+signJWT(t, e, otherKey, DefaultSimKeyID, DefaultSimTeamID, clock.Now())), body, 403, "InvalidProviderToken"},
		{"other-kid", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+signJWT(t, e, nil, "OTHER", DefaultSimTeamID, clock.Now())), body, 403, "InvalidProviderToken"},
		{"other-iss", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+signJWT(t, e, nil, DefaultSimKeyID, "OTHER", clock.Now())), body, 403, "InvalidProviderToken"},
		{"hs256", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+hs256), body, 403, "InvalidProviderToken"},
		{"old-iat", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+signJWT(t, e, nil, DefaultSimKeyID, DefaultSimTeamID, clock.Now().Add(-61*time.Minute))), body, 403, "ExpiredProviderToken"},
		{"future-iat", "POST", "/production/3/device/tok", hdr("authorization", "bearer "+signJWT(t, e, nil, DefaultSimKeyID, DefaultSimTeamID, clock.Now().Add(2*time.Hour))), body, 403, "InvalidProviderToken"},
		{"push-type", "POST", "/production/3/device/tok", hdr("apns-push-type", "fax"), body, 400, "InvalidPushType"},
		{"no-topic", "POST", "/production/3/device/tok", hdr("apns-topic", "-"), body, 400, "MissingTopic"},
		{"other-topic", "POST", "/production/3/device/tok", hdr("apns-topic", "com.other.app"), body, 400, "BadTopic"},
		{"voip-topic-for-alert", "POST", "/production/3/device/tok", hdr("apns-topic", DefaultSimTopic+".voip"), body, 400, "DeviceTokenNotForTopic"},
		{"alert-topic-for-voip", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip"), body, 400, "DeviceTokenNotForTopic"},
		{"voip", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip", "apns-topic", DefaultSimTopic+".voip"), body, 200, ""},
		{"priority", "POST", "/production/3/device/tok", hdr("apns-priority", "7"), body, 400, "BadPriority"},
		{"background-priority-10", "POST", "/production/3/device/tok", hdr("apns-push-type", "background", "apns-priority", "10"), body, 400, "BadPriority"},
		{"expiration", "POST", "/production/3/device/tok", hdr("apns-expiration", "tomorrow"), body, 400, "BadExpirationDate"},
		{"collapse-id", "POST", "/production/3/device/tok", hdr("apns-collapse-id", strings.Repeat("c", 65)), body, 400, "BadCollapseId"},
		{"apns-id", "POST", "/production/3/device/tok", hdr("apns-id", "not-a-uuid"), body, 400, "BadMessageId"},
		{"empty", "POST", "/production/3/device/tok", hdr(), "", 400, "PayloadEmpty"},
		{"not-json", "POST", "/production/3/device/tok", hdr(), "{", 400, "BadPayload"},
		{"no-aps", "POST", "/production/3/device/tok", hdr(), `{"message_id":"m1"}`, 400, "BadPayload"},
		{"aps-not-object", "POST", "/production/3/device/tok", hdr(), `{"aps":1}`, 400, "BadPayload"},
		{"voip-no-aps", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip", "apns-topic", DefaultSimTopic+".voip"), `{"call_id":"c1"}`, 200, ""},
		{"voip-array", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip", "apns-topic", DefaultSimTopic+".voip"), `[1]`, 400, "BadPayload"},
		{"array", "POST", "/production/3/device/tok", hdr(), `[1]`, 400, "BadPayload"},
		{"too-large", "POST", "/production/3/device/tok", hdr(), `{"aps":{},"x":"` + strings.Repeat("x", 4096) + `"}`, 413, "PayloadTooLarge"},
		{"voip-5k", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip", "apns-topic", DefaultSimTopic+".voip"), `{"aps":{},"x":"` + strings.Repeat("x", 5000) + `"}`, 200, ""},
		{"voip-too-large", "POST", "/production/3/device/tok", hdr("apns-push-type", "voip", "apns-topic", DefaultSimTopic+".voip"), `{"aps":{},"x":"` + strings.Repeat("x", 5120) + `"}`, 413, "PayloadTooLarge"},
		{"unregistered", "POST", "/production/3/device/unregistered-1", hdr(), body, 410, "Unregistered"},
		{"unavailable", "POST", "/production/3/device/unavailable-1", hdr(), body, 503, "ServiceUnavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, reason, id := rawPush(t, e, tc.method, tc.path, tc.hdr, tc.body)
			if status != tc.status || reason != tc.reason {
				t.Errorf("got %d %q, want %d %q", status, reason, tc.status, tc.reason)
			}
			if !isUUID(id) {
				t.Errorf("apns-id = %q", id)
			}
			if v := tc.hdr["apns-id"]; isUUID(v) && id != v {
				t.Errorf("apns-id %q not echoed: %q", v, id)
			}
		})
	}
}

func TestSimulatorGoneHasTimestamp(t *testing.T) {
	clock := newFakeClock()
	e := startSim(t, SimOptions{Now: clock.Now}, nil)
	req, _ := http.NewRequest("POST", e.base+"/production/3/device/unregistered-1", strings.NewReader(`{"aps":{}}`))
	req.Header.Set("authorization", "bearer "+signJWT(t, e, nil, DefaultSimKeyID, DefaultSimTeamID, clock.Now()))
	req.Header.Set("apns-topic", DefaultSimTopic)
	resp, err := rawClient(e).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"reason":"Unregistered","timestamp":1700000000000}`; string(b) != want || resp.ProtoMajor != 2 {
		t.Errorf("410 body = %s over HTTP/%d, want %s over HTTP/2", b, resp.ProtoMajor, want)
	}
}

func TestSimulatorCountsRejections(t *testing.T) {
	e := startSim(t, SimOptions{}, nil)
	rawPush(t, e, "POST", "/nowhere", nil, "")                                 // not a send endpoint: not counted
	rawPush(t, e, "POST", "/production/3/device/tok", nil, `{"aps":{}}`)       // 403
	rawPush(t, e, "POST", "/production/3/device/tok", map[string]string{}, "") // 403
	wantStats(t, e.rec, simkit.Stats{Requests: 2, Rejected: 2})
}

func TestReceivedLogIsBounded(t *testing.T) {
	l := newReceivedLog(3)
	for i := range 5 {
		l.add(Received{Token: itoa(i)})
	}
	got := l.snapshot()
	if len(got) != 3 || got[0].Token != "2" || got[2].Token != "4" {
		t.Errorf("snapshot = %+v", got)
	}
	if got := newReceivedLog(3).snapshot(); len(got) != 0 {
		t.Errorf("empty log = %+v", got)
	}
}

func TestClientConfigMountsBothEnvironments(t *testing.T) {
	s := NewSimulator(nil, SimOptions{Topic: "com.x", KeyID: "K", TeamID: "T"})
	cfg := s.ClientConfig("https://127.0.0.1:9/apns/", nil)
	if cfg.ProductionURL != "https://127.0.0.1:9/apns/production" || cfg.DevelopmentURL != "https://127.0.0.1:9/apns/development" ||
		cfg.Topic != "com.x" || cfg.KeyID != "K" || cfg.TeamID != "T" || !strings.Contains(string(cfg.AuthKey), "BEGIN PRIVATE KEY") {
		t.Errorf("ClientConfig = %+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Error(err)
	}
}
