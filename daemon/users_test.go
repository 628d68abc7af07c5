package daemon

import (
	"fmt"
	"strings"
	"testing"
)

// actorsActive reads herald_user_actors_active from /metrics.
func (s *testServer) actorsActive(t *testing.T) string {
	t.Helper()
	r := s.do(t, "GET", "/metrics", "")
	wantStatus(t, r, 200)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, "herald_user_actors_active "); ok {
			return v
		}
	}
	t.Fatal("no herald_user_actors_active in /metrics")
	return ""
}

// TestBatchRegistrationSpawnsNoUserActor: POST /v1/devices/batch writes
// through the store, so registering users leaves no user actor running;
// reading a user afterwards activates just that one and sees its device.
func TestBatchRegistrationSpawnsNoUserActor(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	registerUsers(t, s.doer(t), 0, 2500, func(i int) string { return fmt.Sprint("batch-tok-", i) })
	if got := s.actorsActive(t); got != "0" {
		t.Fatalf("herald_user_actors_active after registering 2500 users = %s, want 0", got)
	}
	u := s.user(t, "u1234")
	if len(u.Devices) != 1 || u.Devices[0].PushID != fmt.Sprintf("%s:batch-tok-1234", kindOf(1234)) {
		t.Fatalf("u1234 after batch registration: %+v", u)
	}
	if got := s.actorsActive(t); got != "1" {
		t.Fatalf("herald_user_actors_active after one read = %s, want 1", got)
	}
}

// TestBatchMoveUpdatesLiveOwner: a batch that binds a token another user
// holds moves it, and the old owner's live actor stops showing it before
// the answer.
func TestBatchMoveUpdatesLiveOwner(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	wantStatus(t, s.do(t, "PUT", "/v1/users/alice/devices/p", `{"vendor":"fcm","token":"moving"}`), 200)
	if u := s.user(t, "alice"); len(u.Devices) != 1 { // alice's actor now caches the device
		t.Fatalf("alice before: %+v", u)
	}
	r := s.do(t, "POST", "/v1/devices/batch", `{"devices":[{"user_id":"bob","device_id":"p","vendor":"fcm","token":"moving"}]}`)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"moved_from":"alice"`) {
		t.Fatalf("batch answer: %s", r.body)
	}
	if u := s.user(t, "alice"); len(u.Devices) != 0 {
		t.Fatalf("alice still shows the moved device: %+v", u)
	}
	if u := s.user(t, "bob"); len(u.Devices) != 1 || u.Devices[0].PushID != "fcm:moving" {
		t.Fatalf("bob: %+v", u)
	}
}
