package daemon

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// callFixture: bob (iOS with PushKit + Android/FCM) and carol (iOS without
// PushKit + Huawei) offline, dave online.
func callFixture(t *testing.T, s *testServer) {
	t.Helper()
	for _, d := range []struct{ user, dev, body string }{
		{"bob", "iphone", `{"vendor":"apns","token":"ios-bob","voip_token":"voip-bob"}`},
		{"bob", "pixel", `{"vendor":"fcm","token":"fcm-bob"}`},
		{"carol", "iphone", `{"vendor":"apns","token":"ios-carol"}`},
		{"carol", "mate", `{"vendor":"huawei","token":"hw-carol"}`},
		{"dave", "pixel", `{"vendor":"fcm","token":"fcm-dave"}`},
	} {
		wantStatus(t, s.do(t, "PUT", "/v1/users/"+d.user+"/devices/"+d.dev, d.body), 200)
	}
	wantStatus(t, s.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"dave","device_id":"pixel","online":true,"ttl_s":3600}]}`), 200)
}

func getCallState(t *testing.T, s *testServer, id string) api.CallResponse {
	t.Helper()
	r := s.do(t, "GET", "/v1/calls/"+id, "")
	wantStatus(t, r, 200)
	var c api.CallResponse
	r.json(t, &c)
	return c
}

func TestCallInviteAndCancel(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	s := startDaemon(t, nil, Env{Clock: clock})
	callFixture(t, s)
	sims, _ := s.d.Simulators()
	r := s.do(t, "POST", "/v1/calls", `{"call_id":"c1","inviter":"amy","invitees":["bob","carol","dave"],"timeout_s":60,
		"data":{"room":"r1"},"push":{"title":"amy calling","content":"video call"}}`)
	wantStatus(t, r, 201)
	var created api.CallResponse
	r.json(t, &created)
	if created.State != "ringing" || len(created.Invitees) != 3 || !*created.Invitees[2].Online || *created.Invitees[0].Online {
		t.Fatalf("created: %s", r.body)
	}
	get := sims.Recorder.Snapshot
	waitStats(t, "four call pushes", 20*time.Second, get, func(st map[string]simkit.Stats) bool {
		return st["apns"].Unique+st["fcm"].Unique+st["huawei"].Unique >= 4
	})
	apns := sims.APNs.Received()
	if len(apns) != 2 {
		t.Fatalf("apns got %d pushes: %+v", len(apns), apns)
	}
	for _, p := range apns {
		switch p.Token {
		case "voip-bob":
			if p.PushType != "voip" || !strings.HasSuffix(p.Topic, ".voip") || p.Priority != 10 || p.MessageID != "call-c1" {
				t.Errorf("bob's VoIP push: %+v", p)
			}
		case "ios-carol":
			if p.PushType != "alert" || p.Priority != 10 {
				t.Errorf("carol's alert push: %+v", p)
			}
		default:
			t.Errorf("unexpected APNs push to %s", p.Token)
		}
		if !strings.Contains(string(p.Payload), `"call_id":"c1"`) || !strings.Contains(string(p.Payload), `"inviter":"amy"`) {
			t.Errorf("payload lacks call data: %s", p.Payload)
		}
	}
	fcm := sims.FCM.Received()
	if len(fcm) != 1 || fcm[0].Token != "fcm-bob" || fcm[0].AndroidPriority != "HIGH" {
		t.Fatalf("fcm: %+v", fcm) // dave is online: nothing for him
	}
	if hw := sims.Huawei.Received(); len(hw) != 1 || hw[0].Category != "VOIP" {
		t.Fatalf("huawei: %+v", hw)
	}
	// Bob comes online while it rings: he sees the call.
	r = s.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"bob","device_id":"web","online":true,"ttl_s":60}]}`)
	if !strings.Contains(string(r.body), `"ringing_calls":["c1"]`) {
		t.Fatalf("came online: %s", r.body)
	}
	if u := s.user(t, "bob"); len(u.RingingCalls) != 1 {
		t.Fatalf("bob: %+v", u)
	}
	// Only the inviter may cancel.
	if r := s.do(t, "POST", "/v1/calls/c1/cancel", `{"by":"bob"}`); r.status != 403 {
		t.Fatalf("cancel by invitee: %d %s", r.status, r.body)
	}
	wantStatus(t, s.do(t, "POST", "/v1/calls/c1/cancel", `{"by":"amy"}`), 200)
	// Each of the 4 pushed devices gets a cancel notice.
	waitStats(t, "cancel notices", 20*time.Second, get, func(st map[string]simkit.Stats) bool {
		return st["apns"].Unique+st["fcm"].Unique+st["huawei"].Unique >= 8
	})
	cancels := 0
	for _, p := range sims.APNs.Received() {
		if strings.Contains(string(p.Payload), `"type":"call_cancel"`) {
			cancels++
			if p.Token == "voip-bob" && p.PushType != "voip" {
				t.Errorf("VoIP cancel notice not a VoIP push: %+v", p)
			}
		}
	}
	if cancels != 2 {
		t.Fatalf("apns cancel notices: %d", cancels)
	}
	if c := getCallState(t, s, "c1"); c.State != "cancelled" {
		t.Fatalf("state: %+v", c)
	}
	if u := s.user(t, "bob"); len(u.RingingCalls) != 0 {
		t.Fatalf("bob still rings: %+v", u)
	}
	if r := s.do(t, "POST", "/v1/calls", `{"call_id":"c1","inviter":"amy","invitees":["bob"]}`); r.status != 409 {
		t.Fatalf("reused call id: %d", r.status)
	}
}

func TestCallTimeoutAndAccept(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	s := startDaemon(t, nil, Env{Clock: clock})
	callFixture(t, s)
	sims, _ := s.d.Simulators()
	wantStatus(t, s.do(t, "POST", "/v1/calls", `{"call_id":"c2","inviter":"amy","invitees":["bob","carol"],"timeout_s":30}`), 201)
	waitStats(t, "call pushes", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["apns"].Unique+st["fcm"].Unique+st["huawei"].Unique >= 4
	})
	// Carol accepts: her pushed devices stop ringing; bob still rings.
	r := s.do(t, "POST", "/v1/calls/c2/accept", `{"by":"carol"}`)
	wantStatus(t, r, 200)
	if c := getCallState(t, s, "c2"); c.State != "ringing" || c.Invitees[1].State != "accepted" {
		t.Fatalf("after accept: %+v", c)
	}
	if r := s.do(t, "POST", "/v1/calls/c2/accept", `{"by":"carol"}`); r.status != 409 {
		t.Fatalf("second accept: %d", r.status)
	}
	// Time runs out for bob: the Advance fires the call timeout timer
	// (on the injected clock); the poll waits for the call actor to apply
	// what it found due.
	clock.Advance(31 * time.Second)
	testutil.CheckFor(t, 10*time.Second, func() error {
		if c := getCallState(t, s, "c2"); c.Invitees[0].State != "timed_out" {
			return fmt.Errorf("no timeout: %+v", c)
		}
		return nil
	})
	waitStats(t, "cancel notices", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["apns"].Unique+st["fcm"].Unique+st["huawei"].Unique >= 8
	})
	if c := getCallState(t, s, "c2"); c.State != "accepted" {
		t.Fatalf("call state after timeout with one accept: %+v", c)
	}
	// Bob timed out: he cannot end the call carol accepted.
	if r := s.do(t, "POST", "/v1/calls/c2/end", `{"by":"bob"}`); r.status != 403 {
		t.Fatalf("end by a timed-out invitee: %d %s", r.status, r.body)
	}
	wantStatus(t, s.do(t, "POST", "/v1/calls/c2/end", `{"by":"carol"}`), 200)
	if c := getCallState(t, s, "c2"); c.State != "ended" || c.Invitees[1].State != "ended" {
		t.Fatalf("after end: %+v", c)
	}
}

// TestCallSurvivesRestart: a ringing call still times out on schedule
// after the daemon restarts, and not before.
func TestCallSurvivesRestart(t *testing.T) {
	clock := testutil.NewClock(time.Now())
	dir := t.TempDir()
	mut := func(c *configs.Config) { c.DataDir = dir }
	s1 := startDaemonManual(t, mut, Env{Clock: clock})
	wantStatus(t, s1.do(t, "POST", "/v1/calls", `{"call_id":"c3","inviter":"amy","invitees":["bob"],"timeout_s":20}`), 201)
	s1.stop(t)
	s := startDaemon(t, mut, Env{Clock: clock})
	if c := getCallState(t, s, "c3"); c.State != "ringing" {
		t.Fatalf("after restart: %+v", c)
	}
	// A second before the deadline the timeout check runs (called here as
	// its timer would; the timer, on the injected clock, is not due yet)
	// and finds nothing due. Any timeout it sent would sit ahead of a
	// later request in the call actor's mailbox, so once a refused action
	// (mallory is not invited) is answered the stored state is final for
	// this instant: still ringing.
	clock.Advance(19 * time.Second)
	s.d.calls.CheckTimeouts()
	if r := s.do(t, "POST", "/v1/calls/c3/accept", `{"by":"mallory"}`); r.status != 403 {
		t.Fatalf("accept by a stranger: %d %s", r.status, r.body)
	}
	if c := getCallState(t, s, "c3"); c.State != "ringing" {
		t.Fatalf("timed out early: %+v", c)
	}
	clock.Advance(2 * time.Second)
	testutil.CheckFor(t, 10*time.Second, func() error {
		if c := getCallState(t, s, "c3"); c.State != "timed_out" {
			return fmt.Errorf("no timeout after restart: %+v", c)
		}
		return nil
	})
}

// TestCallRingsDuringFanOut: a call push overtakes a group fan-out in
// progress on the same vendor (the priority lane). The daemon's clock
// stands still, so the APNs token bucket (which reads it) holds the
// fan-out after its burst: 100 of 5 000 notifications sent, the rest
// queued. Then the call comes, and the clock moves by 5 tokens' worth,
// enough for the call push (one row) but not for a fan-out start (a
// per-target sender waits for 10 tokens at 1000/s): the call push must
// arrive with the fan-out still at 100, every other row still pending.
func TestCallRingsDuringFanOut(t *testing.T) {
	const (
		n     = 5000
		burst = 100
	)
	clock := testutil.NewClock(time.Now())
	s := startDaemon(t, func(c *configs.Config) {
		c.Vendors.APNs.Limits.QPS, c.Vendors.APNs.Limits.Burst = 1000, burst
	}, Env{Clock: clock})
	do := s.doer(t)
	registerDevices(t, do, 0, n, func(int) vendors.Kind { return vendors.APNs }, func(i int) string { return fmt.Sprint("tok-", i) })
	addMembers(t, do, "big", 0, n)
	wantStatus(t, s.do(t, "PUT", "/v1/users/callee/devices/iphone", `{"vendor":"apns","token":"ios-callee","voip_token":"voip-callee"}`), 200)
	sims, _ := s.d.Simulators()
	var mu sync.Mutex
	fanned := 0                  // fan-out notifications at the simulator
	arrived := make(chan int, 1) // fanned when the call push arrived
	sims.Recorder.OnReceipt(func(vendor string, r simkit.Receipt) {
		mu.Lock()
		defer mu.Unlock()
		switch r.MessageID {
		case "flood":
			fanned++
		case "call-ring":
			select {
			case arrived <- fanned:
			default:
			}
		}
	})
	pending := func() int64 {
		st := s.d.senders.Stats()[vendors.APNs]
		return st.Queued + st.Spilled
	}
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"flood","from":"x","to":{"type":"group","id":"big"},"push":{"title":"t","content":"c"}}`), 202)
	testutil.CheckFor(t, 60*time.Second, func() error {
		mu.Lock()
		f := fanned
		mu.Unlock()
		jobs, err := s.d.store.Jobs()
		if err != nil {
			return err
		}
		if st := s.d.senders.Stats()[vendors.APNs]; f != burst || len(jobs) != 0 || pending() != n-burst || st.InFlight != 0 {
			return fmt.Errorf("fan-out not held at its burst: %d sent (want %d), %d jobs planning, %d pending (want %d), %d in flight", f, burst, len(jobs), pending(), n-burst, st.InFlight)
		}
		return nil
	})
	wantStatus(t, s.do(t, "POST", "/v1/calls", `{"call_id":"ring","inviter":"amy","invitees":["callee"]}`), 201)
	testutil.WaitFor(t, 10*time.Second, func() bool { return pending() == n-burst+1 }, "the call push queued behind the empty bucket")
	// The Advance fires the sender's wake-up timer (on the injected
	// clock), which starts the call push.
	clock.Advance(5 * time.Millisecond) // 5 tokens at 1000/s
	select {
	case f := <-arrived:
		if f != burst {
			t.Fatalf("the call push arrived with %d fan-out notifications sent, want %d (no fan-out row ahead of it)", f, burst)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("call push never arrived")
	}
	if p := pending(); p != n-burst {
		t.Fatalf("after the call push: %d fan-out rows pending, want %d", p, n-burst)
	}
}

// A call without a call_id gets "c" and 24 hex digits, so its
// notification's message_id ("call-" + call_id) is not "call-call-…".
func TestGeneratedCallID(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	r := s.do(t, "POST", "/v1/calls", `{"inviter":"amy","invitees":["bob"],"timeout_s":30}`)
	wantStatus(t, r, 201)
	var c api.CallResponse
	r.json(t, &c)
	if !regexp.MustCompile(`^c[0-9a-f]{24}$`).MatchString(c.CallID) {
		t.Fatalf("generated call_id %q, want c and 24 hex digits", c.CallID)
	}
	if id := push.CallMessageID(c.CallID); strings.HasPrefix(id, "call-call-") {
		t.Fatalf("message_id %q", id)
	}
}
