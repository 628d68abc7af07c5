package daemon

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
)

// TestErrorAnswers checks every bad-input case of the devices and presence
// API: status, error code and the field named.
func TestErrorAnswers(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	dev := "/v1/users/u1/devices/d1"
	long := strings.Repeat("x", 129)
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code, field              string
	}{
		{"malformed json", "PUT", dev, `{"vendor":"fcm",`, nil, 400, "invalid_argument", ""},
		{"not an object", "PUT", dev, `[1,2]`, nil, 400, "invalid_argument", ""},
		{"trailing data", "PUT", dev, `{"vendor":"fcm","token":"t"} {}`, nil, 400, "invalid_argument", ""},
		{"empty body", "PUT", "/v1/users/u1/badge", "", []string{"Content-Type", "application/json"}, 400, "invalid_argument", ""},
		{"unknown field", "PUT", dev, `{"vendor":"fcm","token":"t","tokn":"x"}`, nil, 400, "invalid_argument", "tokn"},
		{"wrong type", "PUT", dev, `{"vendor":"fcm","token":7}`, nil, 400, "invalid_argument", "token"},
		{"unknown vendor", "PUT", dev, `{"vendor":"nokia","token":"t"}`, nil, 400, "invalid_argument", "vendor"},
		{"missing vendor", "PUT", dev, `{"token":"t"}`, nil, 400, "invalid_argument", "vendor"},
		{"missing token", "PUT", dev, `{"vendor":"fcm"}`, nil, 400, "invalid_argument", "token"},
		{"token with space", "PUT", dev, `{"vendor":"fcm","token":"a b"}`, nil, 400, "invalid_argument", "token"},
		{"token too long", "PUT", dev, `{"vendor":"fcm","token":"` + strings.Repeat("t", 4097) + `"}`, nil, 400, "invalid_argument", "token"},
		{"apns_env on fcm", "PUT", dev, `{"vendor":"fcm","token":"t","apns_env":"production"}`, nil, 400, "invalid_argument", "apns_env"},
		{"bad apns_env", "PUT", dev, `{"vendor":"apns","token":"t","apns_env":"prod"}`, nil, 400, "invalid_argument", "apns_env"},
		{"voip on vivo", "PUT", dev, `{"vendor":"vivo","token":"t","voip_token":"v"}`, nil, 400, "invalid_argument", "voip_token"},
		{"bad locale", "PUT", dev, `{"vendor":"fcm","token":"t","locale":"zh CN"}`, nil, 400, "invalid_argument", "locale"},
		{"user id too long", "PUT", "/v1/users/" + long + "/devices/d1", `{"vendor":"fcm","token":"t"}`, nil, 400, "invalid_argument", "user_id"},
		{"encoded slash in id", "PUT", "/v1/users/a%2Fb/devices/d1", `{"vendor":"fcm","token":"t"}`, nil, 400, "invalid_argument", "user_id"},
		{"space in device id", "DELETE", "/v1/users/u1/devices/a%20b", "", nil, 400, "invalid_argument", "device_id"},
		{"control char in id", "GET", "/v1/users/a%01b", "", nil, 400, "invalid_argument", "user_id"},
		{"wrong content type", "PUT", dev, `{"vendor":"fcm","token":"t"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"wrong charset", "PUT", dev, `{"vendor":"fcm","token":"t"}`, []string{"Content-Type", "application/json; charset=latin1"}, 415, "unsupported_media_type", ""},
		{"badge missing", "PUT", "/v1/users/u1/badge", `{}`, nil, 400, "invalid_argument", "count"},
		{"badge negative", "PUT", "/v1/users/u1/badge", `{"count":-1}`, nil, 400, "invalid_argument", "count"},
		{"badge float", "PUT", "/v1/users/u1/badge", `{"count":1.5}`, nil, 400, "invalid_argument", "count"},
		{"logout bad device", "POST", "/v1/users/u1/logout", `{"device_id":"a/b"}`, nil, 400, "invalid_argument", "device_id"},
		{"presence no updates", "POST", "/v1/presence", `{}`, nil, 400, "invalid_argument", "updates"},
		{"presence empty", "POST", "/v1/presence", `{"updates":[]}`, nil, 400, "invalid_argument", "updates"},
		{"presence missing online", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d"}]}`, nil, 400, "invalid_argument", "updates[0].online"},
		{"presence bad user", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d","online":true},{"user_id":"","device_id":"d","online":true}]}`, nil, 400, "invalid_argument", "updates[1].user_id"},
		{"presence ttl zero", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d","online":true,"ttl_s":0}]}`, nil, 400, "invalid_argument", "updates[0].ttl_s"},
		{"presence ttl too big", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d","online":true,"ttl_s":86401}]}`, nil, 400, "invalid_argument", "updates[0].ttl_s"},
		{"presence unknown nested", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d","online":true,"tll_s":5}]}`, nil, 400, "invalid_argument", "updates[0].tll_s"},
		{"presence online string", "POST", "/v1/presence", `{"updates":[{"user_id":"u","device_id":"d","online":"yes"}]}`, nil, 400, "invalid_argument", "updates[0].online"},
		{"unknown route", "GET", "/v1/nope", "", nil, 404, "not_found", ""},
		{"wrong method", "POST", dev, `{}`, nil, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, c.method, c.path, c.body, c.hdr...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d; body %s", r.status, c.status, r.body)
			}
			var e errBody
			r.json(t, &e)
			if e.Error.Code != c.code || e.Error.Field != c.field || e.Error.Message == "" {
				t.Fatalf("error %+v, want code %s field %q", e.Error, c.code, c.field)
			}
		})
	}
	// A 405 names what the path takes (a GET route answers HEAD too).
	for path, want := range map[string]string{dev: "DELETE, PUT", "/v1/users/u1": "GET, HEAD", "/v1/messages": "POST"} {
		if r := s.do(t, "PATCH", path, ""); r.status != 405 || r.header.Get("Allow") != want {
			t.Errorf("PATCH %s: %d, Allow %q, want 405 and %q", path, r.status, r.header.Get("Allow"), want)
		}
	}
	// Nothing above was half-written.
	r := s.do(t, "GET", "/v1/users/u1", "")
	var u api.UserResponse
	r.json(t, &u)
	if len(u.Devices) != 0 || u.Badge != 0 {
		t.Fatalf("rejected requests changed state: %s", r.body)
	}
}

func TestPresenceBatchLimit(t *testing.T) {
	s := startDaemon(t, func(c *configs.Config) { c.Limits.MaxPresenceBatch = 2 }, Env{})
	body := `{"updates":[{"user_id":"a","device_id":"d","online":true},{"user_id":"b","device_id":"d","online":true},{"user_id":"c","device_id":"d","online":true}]}`
	r := s.do(t, "POST", "/v1/presence", body)
	if r.status != 400 || !strings.Contains(string(r.body), `"field":"updates"`) {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestAuth(t *testing.T) {
	env := Env{Getenv: func(k string) string {
		return map[string]string{"INGEST_KEY": "s3cret-ingest", "ADMIN_KEY": "s3cret-admin"}[k]
	}}
	s := startDaemon(t, func(c *configs.Config) {
		c.Auth.Keys = []configs.Key{
			{Name: "backend", KeyEnv: "INGEST_KEY", Scopes: []string{"ingest"}},
			{Name: "ops", KeyEnv: "ADMIN_KEY", Scopes: []string{"admin"}},
		}
	}, env)
	cases := []struct {
		name   string
		hdr    []string
		status int
		code   string
	}{
		{"no key", nil, 401, "unauthenticated"},
		{"not bearer", []string{"Authorization", "Basic s3cret-ingest"}, 401, "unauthenticated"},
		{"wrong key", []string{"Authorization", "Bearer nope"}, 401, "unauthenticated"},
		{"wrong scope", []string{"Authorization", "Bearer s3cret-admin"}, 403, "permission_denied"},
		{"right key", []string{"Authorization", "Bearer s3cret-ingest"}, 200, ""},
		{"scheme in lower case", []string{"Authorization", "bearer s3cret-ingest"}, 200, ""},
		{"scheme in upper case, two spaces", []string{"Authorization", "BEARER  s3cret-ingest"}, 200, ""},
		{"scheme without a token", []string{"Authorization", "Bearer "}, 401, "unauthenticated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "GET", "/v1/users/u1", "", c.hdr...)
			if r.status != c.status {
				t.Fatalf("status %d want %d: %s", r.status, c.status, r.body)
			}
			if got := r.header.Get("WWW-Authenticate"); (c.status == 401) != (got == `Bearer realm="herald"`) {
				t.Fatalf("WWW-Authenticate %q on a %d", got, c.status)
			}
			if c.code != "" {
				var e errBody
				r.json(t, &e)
				if e.Error.Code != c.code {
					t.Fatalf("code %q want %q", e.Error.Code, c.code)
				}
				if strings.Contains(string(r.body), "s3cret") {
					t.Fatal("a key leaked into an error body")
				}
				if c.hdr == nil && !strings.Contains(string(r.body), "Bearer <key>") {
					t.Fatalf("the message is HTML-escaped: %s", r.body)
				}
			}
		})
	}
	// GET /v1/stats takes either scope: operators read it too.
	for _, key := range []string{"s3cret-ingest", "s3cret-admin"} {
		if r := s.do(t, "GET", "/v1/stats", "", "Authorization", "Bearer "+key); r.status != 200 {
			t.Fatalf("GET /v1/stats with %s's scope: %d %s", key[6:], r.status, r.body)
		}
	}
	// Probes stay open.
	if r := s.do(t, "GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
}

func TestRefusesPublicListenWithoutKeys(t *testing.T) {
	cfg := configs.Default()
	cfg.Listen = "0.0.0.0:8080"
	if _, err := New(cfg, Env{Logger: discardLogger()}); err == nil || !strings.Contains(err.Error(), "auth.keys: required when listen") {
		t.Fatalf("want refusal, got %v", err)
	}
}

// TestOversizeBody sends a request whose Content-Length exceeds the limit
// over a raw connection (an HTTP client may see the reset before the
// answer) and reads the 413.
func TestOversizeBody(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 2<<20)
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 413 || !strings.Contains(string(body), `"code":"payload_too_large"`) {
		t.Fatalf("got %d %s", r.StatusCode, body)
	}
}

// POST /v1/admin/reload says what it applied, what needs a restart and
// whether the file says what is running; never null lists. /v1/stats
// shows the limits in force, before and after.
func TestReloadAnswer(t *testing.T) {
	var mu sync.Mutex
	var next configs.Config
	s := startDaemon(t, nil, Env{LoadConfig: func() (configs.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		return next, nil
	}})
	set := func(edit func(*configs.Config)) {
		mu.Lock()
		next = s.d.cfg
		edit(&next)
		mu.Unlock()
	}
	reload := func() api.ReloadResponse {
		t.Helper()
		r := s.do(t, "POST", "/v1/admin/reload", "")
		wantStatus(t, r, 200)
		var out api.ReloadResponse
		r.json(t, &out)
		if strings.Contains(string(r.body), "null") {
			t.Fatalf("a null list: %s", r.body)
		}
		return out
	}
	limits := func(vendor string) api.VendorLimits {
		t.Helper()
		r := s.do(t, "GET", "/v1/stats", "")
		wantStatus(t, r, 200)
		var out api.StatsResponse
		r.json(t, &out)
		return out.Vendors[vendor].Limits
	}
	def := s.d.cfg.Vendors.FCM.Limits
	if got := limits("fcm"); got.QPS != def.QPS || got.Burst != def.Burst || got.MaxInFlight != def.MaxInFlight ||
		got.BatchSize != def.BatchSize || got.MaxQueued != def.MaxQueued || got.DailyQuota != nil || got.BatchWaitMS != def.BatchWait.Std().Milliseconds() {
		t.Fatalf("fcm limits in /v1/stats %+v; want %+v", got, def)
	}
	set(func(*configs.Config) {})
	if out := reload(); !out.Unchanged || len(out.Applied) != 0 || len(out.NeedsRestart) != 0 {
		t.Fatalf("nothing changed: %+v", out)
	}
	set(func(c *configs.Config) {
		c.Vendors.FCM.Limits.QPS = 123
		c.Vendors.FCM.Limits.DailyQuota = 5000
		c.Inbox.MaxPerUser = 77
	})
	if out := reload(); out.Unchanged || !slices.Equal(out.Applied, []string{"vendors.fcm.limits/retry"}) || !slices.Equal(out.NeedsRestart, []string{"inbox"}) {
		t.Fatalf("limits and inbox changed: %+v", out)
	}
	if got := limits("fcm"); got.QPS != 123 || got.DailyQuota == nil || *got.DailyQuota != 5000 {
		t.Fatalf("fcm limits after the reload %+v; want qps 123, daily_quota 5000", got)
	}
}

// A refused reload is one ERROR line, with its reason.
func TestRefusedReloadLogsOnce(t *testing.T) {
	var logs testutil.SyncBuffer
	s := startDaemon(t, nil, Env{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), LoadConfig: func() (configs.Config, error) {
		c := configs.Default()
		c.Vendors.OPPO.Limits.QPS = -1
		return c, nil
	}})
	if _, err := s.d.Reload(); err == nil {
		t.Fatal("an invalid config was taken")
	}
	if n := strings.Count(logs.String(), `"level":"ERROR"`); n != 1 || !strings.Contains(logs.String(), "vendors.oppo.limits.qps") {
		t.Fatalf("%d ERROR lines:\n%s", n, logs.String())
	}
}
