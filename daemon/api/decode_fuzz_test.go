package api

import (
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/valyala/fasthttp"
)

// FuzzDecoders feeds arbitrary bodies through every request decoder and its
// validation. Nothing may panic, and every rejection must be a 400 with a
// message. CI runs it briefly; for a longer run:
//
//	go test ./daemon/api -run '^$' -fuzz FuzzDecoders -fuzztime 10m
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"vendor":"apns","token":"abc","apns_env":"automatic","voip_token":"v","locale":"zh-CN"}`,
		`{"vendor":"fcm","token":"t"}`,
		`{"updates":[{"user_id":"u1","device_id":"d1","online":true,"ttl_s":90}]}`,
		`{"updates":[{"user_id":"u1","device_id":"d1","online":false}]}`,
		`{"count":3}`,
		`{"device_id":"d1"}`,
		`{"updates":[{"user_id":"u","device_id":"d","online":true,"ttl_s":1e3}]}`,
		`{"a":{"b":[1,{"c":null}]}}`,
		`[]`, `null`, `"x"`, `{`, `{"count":9223372036854775808}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cfg := configs.Default()
	d := &Server{Deps: Deps{Config: cfg, Clock: testutil.NewClock(time.Unix(1_800_000_000, 0))}}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(e *apiError) {
			if e != nil && (e.Status != fasthttp.StatusBadRequest || e.Message == "" || e.Code != codeInvalidArgument) {
				t.Fatalf("bad rejection %+v for %q", e, body)
			}
		}
		var dev PutDeviceRequest
		e := decodeJSON(body, &dev)
		check(e)
		if e == nil {
			_, e = d.deviceFromRequest(dev)
			check(e)
		}
		var pr PresenceRequest
		e = decodeJSON(body, &pr)
		check(e)
		if e == nil {
			_, e = d.parsePresence(pr)
			check(e)
		}
		var br BadgeRequest
		check(decodeJSON(body, &br))
		var lr LogoutRequest
		check(decodeJSON(body, &lr))
	})
}
