package daemon

import (
	"testing"

	"github.com/herald-push/herald/daemon/api"
)

// A test push that a vendor answers "token invalid" unbinds the token like
// any other push: by user_id (the user's device) and by push_id (whoever
// holds it); a token no one holds is only reported.
func TestPushTestUnbindsInvalidTokens(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	wantStatus(t, s.do(t, "PUT", "/v1/users/ann/devices/hw", `{"vendor":"huawei","token":"unregistered-hw"}`), 200)
	wantStatus(t, s.do(t, "PUT", "/v1/users/ann/devices/mi", `{"vendor":"xiaomi","token":"mi-ok"}`), 200)
	wantStatus(t, s.do(t, "PUT", "/v1/users/bob/devices/op", `{"vendor":"oppo","token":"unregistered-op"}`), 200)

	check := func(body string, want map[string]bool) {
		t.Helper()
		r := s.do(t, "POST", "/v1/push/test", body)
		wantStatus(t, r, 200)
		var out api.PushTestResponse
		r.json(t, &out)
		if len(out.Results) != len(want) {
			t.Fatalf("%s: results %s", body, r.body)
		}
		for _, res := range out.Results {
			if unbound, ok := want[res.PushID]; !ok || res.Unbound != unbound || res.OK == (res.Code != "ok") {
				t.Fatalf("%s: %+v, want unbound=%v", body, res, unbound)
			}
		}
	}
	check(`{"user_id":"ann","title":"t","content":"c"}`, map[string]bool{"huawei:unregistered-hw": true, "xiaomi:mi-ok": false})
	check(`{"push_id":"oppo:unregistered-op","title":"t","content":"c"}`, map[string]bool{"oppo:unregistered-op": true})
	check(`{"push_id":"vivo:unregistered-nobody","title":"t","content":"c"}`, map[string]bool{"vivo:unregistered-nobody": false})

	// A VoIP test push to a bare push_id says nothing of the binding (the
	// token may be an ordinary one): it stays. By user_id, an invalid
	// PushKit token is dropped and the device keeps its ordinary token.
	wantStatus(t, s.do(t, "PUT", "/v1/users/cat/devices/ios", `{"vendor":"apns","token":"unregistered-ios","apns_env":"production"}`), 200)
	check(`{"push_id":"apns:unregistered-ios","voip":true,"title":"t","content":"c"}`, map[string]bool{"apns:unregistered-ios": false})
	wantStatus(t, s.do(t, "PUT", "/v1/users/dan/devices/ios", `{"vendor":"apns","token":"ok-ios","voip_token":"unregistered-pk","apns_env":"production"}`), 200)
	check(`{"user_id":"dan","voip":true,"title":"t","content":"c"}`, map[string]bool{"apns:unregistered-pk": true})
	devs, err := s.d.users.Devices(t.Context(), "dan")
	if err != nil || len(devs) != 1 || devs[0].Device.Token != "ok-ios" || devs[0].Device.VoIPToken != "" {
		t.Fatalf("dan's devices after the invalid PushKit token: %+v, %v", devs, err)
	}

	for user, want := range map[string][]string{"ann": {"mi"}, "bob": nil, "cat": {"ios"}} {
		devs, err := s.d.users.Devices(t.Context(), user)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range devs {
			ids = append(ids, d.DeviceID)
		}
		if len(ids) != len(want) || (len(want) == 1 && ids[0] != want[0]) {
			t.Fatalf("%s's devices after the test pushes: %v, want %v", user, ids, want)
		}
	}
}
