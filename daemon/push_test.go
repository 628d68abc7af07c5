package daemon

import (
	"strings"
	"testing"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
)

// TestPushTestAllVendors binds one device per vendor kind and test-pushes
// the user through the real clients to the in-process simulators.
func TestPushTestAllVendors(t *testing.T) {
	s := startDaemon(t, func(c *configs.Config) {
		c.Resources["chat"] = configs.Resource{Sound: "ding", Vendors: map[string]configs.ResourceVendor{
			"huawei": {Category: "IM"}, "oppo": {ChannelID: "im", Category: "IM", NotifyLevel: 2},
			"xiaomi": {ChannelID: "131"}, "vivo": {Category: "IM"}, "fcm": {ChannelID: "chat"},
		}}
	}, Env{})
	devices := map[string]string{
		"ios":     `{"vendor":"apns","token":"dev-a1b2","apns_env":"automatic","voip_token":"dev-v01p"}`,
		"android": `{"vendor":"fcm","token":"fcm-tok"}`,
		"browser": `{"vendor":"web","token":"web-tok"}`,
		"hw":      `{"vendor":"huawei","token":"hw-tok"}`,
		"mi":      `{"vendor":"xiaomi","token":"mi-tok"}`,
		"op":      `{"vendor":"oppo","token":"op-tok"}`,
		"vv":      `{"vendor":"vivo","token":"vv-tok"}`,
	}
	for id, body := range devices {
		wantStatus(t, s.do(t, "PUT", "/v1/users/zoe/devices/"+id, body), 200)
	}
	r := s.do(t, "POST", "/v1/push/test", `{"user_id":"zoe","title":"hi","content":"test","resources_id":"chat"}`)
	wantStatus(t, r, 200)
	var out api.PushTestResponse
	r.json(t, &out)
	if len(out.Results) != 7 {
		t.Fatalf("results: %s", r.body)
	}
	for _, res := range out.Results {
		if !res.OK || res.Code != "ok" {
			t.Errorf("%s %s: %+v", res.Vendor, res.PushID, res)
		}
	}
	stats := s.d.push.sims.Recorder.Snapshot()
	for _, v := range []string{"apns", "fcm", "web", "huawei", "xiaomi", "oppo", "vivo"} {
		if st := stats[v]; st.Unique != 1 || st.Duplicates != 0 {
			t.Errorf("%s simulator: %+v", v, st)
		}
	}
	// The automatic APNs token was found on development and remembered.
	devs, err := s.d.users.Devices(t.Context(), "zoe")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Device.Vendor == "apns" && d.Device.ResolvedEnv != "development" {
			t.Errorf("apns env not remembered: %+v", d.Device)
		}
	}

	// VoIP goes to the PushKit token.
	r = s.do(t, "POST", "/v1/push/test", `{"user_id":"zoe","title":"call","content":"video call","voip":true}`)
	wantStatus(t, r, 200)
	r.json(t, &out)
	found := false
	for _, res := range out.Results {
		if res.Vendor == "apns" {
			found = res.PushID == "apns:dev-v01p" && res.OK
		}
	}
	if !found {
		t.Fatalf("voip push: %s", r.body)
	}

	// A single PushID, scripted to be unregistered at the vendor.
	r = s.do(t, "POST", "/v1/push/test", `{"push_id":"huawei:unregistered-x","title":"t","content":"c"}`)
	wantStatus(t, r, 200)
	r.json(t, &out)
	if len(out.Results) != 1 || out.Results[0].OK || out.Results[0].Code == "" {
		t.Fatalf("unregistered push: %s", r.body)
	}
}

func TestPushTestErrors(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	cases := []struct{ name, body, field string }{
		{"neither", `{"title":"t"}`, "push_id"},
		{"both", `{"push_id":"fcm:x","user_id":"u"}`, "push_id"},
		{"bad push id", `{"push_id":"fcmx"}`, "push_id"},
		{"unknown vendor", `{"push_id":"nokia:x"}`, "push_id"},
		{"unknown resource", `{"push_id":"fcm:x","resources_id":"nope"}`, "resources_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "POST", "/v1/push/test", c.body)
			if r.status != 400 || !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
	r := s.do(t, "POST", "/v1/push/test", `{"user_id":"nobody"}`)
	if r.status != 404 {
		t.Fatalf("user without devices: %d %s", r.status, r.body)
	}
}
