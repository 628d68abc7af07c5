package daemon

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/webhooks"
)

const (
	testWebhookSecretEnv = "HERALD_TEST_WEBHOOK_SECRET"
	testWebhookSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// webhookGetenv is os.Getenv with the test webhook secret set.
func webhookGetenv(k string) string {
	if k == testWebhookSecretEnv {
		return testWebhookSecret
	}
	return os.Getenv(k)
}

// webhookConfig points endpoint "backend" at url.
func webhookConfig(url string) func(*configs.Config) {
	return func(c *configs.Config) {
		c.Webhooks.Endpoints = []configs.WebhookEndpoint{{Name: "backend", URL: url, SecretsEnv: []string{testWebhookSecretEnv}}}
		c.Webhooks.MinBackoff, c.Webhooks.MaxBackoff = configs.Duration(100*time.Millisecond), configs.Duration(time.Second)
		c.Webhooks.ReceiptDelay = configs.Duration(time.Second)
	}
}

func testReceiver(t *testing.T) (*webhooks.Receiver, string) {
	t.Helper()
	key, err := webhooks.ParseSecret(testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	rcv := webhooks.NewReceiver([][]byte{key}, nil)
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	return rcv, srv.URL
}

// eventsOf are the received events of typ whose data decode into T.
func eventsOf[T any](t *testing.T, rcv *webhooks.Receiver, typ string) []T {
	t.Helper()
	var out []T
	for _, e := range rcv.Events() {
		if e.Type != typ {
			continue
		}
		var v T
		if err := json.Unmarshal(e.Data, &v); err != nil {
			t.Fatalf("%s data %s: %v", typ, e.Data, err)
		}
		out = append(out, v)
	}
	return out
}

func waitEvents(t *testing.T, rcv *webhooks.Receiver, typ string, n int64) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, func() bool { return rcv.Stats().ByType[typ] >= n }, "%d %s events (have %+v)", n, typ, rcv.Stats().ByType)
}

// Every event type comes from the running daemon, signed, with the data
// the chat backend needs: a message's final counts, the failed device and
// the unbound token, each call state change, the receipts gathered.
func TestWebhookEventsFromTheDaemon(t *testing.T) {
	rcv, url := testReceiver(t)
	s := startDaemon(t, func(c *configs.Config) {
		webhookConfig(url)(c)
		c.Receipts.Enabled = true
	}, Env{Getenv: webhookGetenv})
	for _, d := range []struct{ user, dev, body string }{
		{"bob", "pixel", `{"vendor":"fcm","token":"fcm-bob"}`},
		{"bob", "mate", `{"vendor":"huawei","token":"unregistered-bob"}`},
		{"bob", "p50", `{"vendor":"huawei","token":"hw-bob"}`},
		{"carol", "iphone", `{"vendor":"apns","token":"ios-carol","voip_token":"unregistered-voip-carol"}`},
	} {
		wantStatus(t, s.do(t, "PUT", "/v1/users/"+d.user+"/devices/"+d.dev, d.body), 200)
	}
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"m1","from":"amy","to":{"type":"peer","id":"bob"},"body":{"text":"hi"},"push":{"title":"amy","content":"hi"}}`), 202)

	waitEvents(t, rcv, store.EventMessageCompleted, 1)
	done := eventsOf[store.MessageCompletedData](t, rcv, store.EventMessageCompleted)[0]
	if done.MessageID != "m1" || done.From != "amy" || done.To["type"] != "peer" || done.To["id"] != "bob" ||
		done.Vendors["fcm"].Sent != 1 || done.Vendors["huawei"].Sent != 1 || done.Vendors["huawei"].InvalidTokens != 1 ||
		done.Totals.Sent != 2 || done.Totals.InvalidTokens != 1 || done.Vendors["huawei"].FailedByCode == nil {
		t.Fatalf("message.completed %+v", done)
	}
	waitEvents(t, rcv, store.EventPushFailed, 1)
	failed := eventsOf[store.PushFailedData](t, rcv, store.EventPushFailed)[0]
	if failed.MessageID != "m1" || failed.Kind != "message" || failed.Vendor != "huawei" || failed.UserID != "bob" ||
		failed.DeviceID != "mate" || failed.Reason != "invalid_token" || failed.Code == "" {
		t.Fatalf("push.failed %+v", failed)
	}
	waitEvents(t, rcv, store.EventTokenInvalidated, 1)
	if inv := eventsOf[store.TokenInvalidatedData](t, rcv, store.EventTokenInvalidated)[0]; inv != (store.TokenInvalidatedData{UserID: "bob", DeviceID: "mate", Vendor: "huawei"}) {
		t.Fatalf("token.invalidated %+v", inv)
	}
	// The Huawei simulator's receipt for hw-bob, gathered for 1 s.
	waitEvents(t, rcv, store.EventReceiptDelivered, 1)
	if r := eventsOf[store.ReceiptDeliveredData](t, rcv, store.EventReceiptDelivered)[0]; r.MessageID != "m1" || r.Delivered["huawei"] != 1 || r.Total != 1 {
		t.Fatalf("receipt.delivered %+v", r)
	}

	// Calls: c1 rejected by bob and accepted by carol, then ended; c2
	// cancelled; c3 times out.
	wantStatus(t, s.do(t, "POST", "/v1/calls", `{"call_id":"c1","inviter":"amy","invitees":["bob","carol"],"timeout_s":60,"push":{"title":"amy calling"}}`), 201)
	waitEvents(t, rcv, store.EventTokenInvalidated, 2) // carol's PushKit token, refused by APNs
	if inv := eventsOf[store.TokenInvalidatedData](t, rcv, store.EventTokenInvalidated)[1]; inv != (store.TokenInvalidatedData{UserID: "carol", DeviceID: "iphone", Vendor: "apns", VoIP: true}) {
		t.Fatalf("token.invalidated for the PushKit token %+v", inv)
	}
	wantStatus(t, s.do(t, "POST", "/v1/calls/c1/reject", `{"by":"bob"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/calls/c1/accept", `{"by":"carol"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/calls/c1/end", `{"by":"amy"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/calls", `{"call_id":"c2","inviter":"amy","invitees":["bob"],"timeout_s":60,"push":{"title":"amy calling"}}`), 201)
	wantStatus(t, s.do(t, "POST", "/v1/calls/c2/cancel", `{"by":"amy"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/calls", `{"call_id":"c3","inviter":"amy","invitees":["bob"],"timeout_s":1,"push":{"title":"amy calling"}}`), 201)
	for typ, n := range map[string]int64{store.EventCallRinging: 3, store.EventCallRejected: 1, store.EventCallAccepted: 1,
		store.EventCallEnded: 1, store.EventCallCancelled: 1, store.EventCallTimedOut: 1} {
		waitEvents(t, rcv, typ, n)
	}
	calls := map[string][]store.CallEventData{}
	for _, typ := range []string{store.EventCallRinging, store.EventCallRejected, store.EventCallAccepted, store.EventCallEnded, store.EventCallCancelled, store.EventCallTimedOut} {
		for _, c := range eventsOf[store.CallEventData](t, rcv, typ) {
			calls[c.CallID] = append(calls[c.CallID], c)
		}
	}
	summary := func(cs []store.CallEventData) string {
		var parts []string
		for _, c := range cs {
			p := string(c.State) + ":"
			for _, iv := range c.Invitees {
				p += iv.UserID + "=" + string(iv.State) + ","
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, " ")
	}
	for id, want := range map[string]string{
		"c1": "ringing:bob=ringing,carol=ringing, ringing:bob=rejected, accepted:carol=accepted, ended:carol=ended,",
		"c2": "ringing:bob=ringing, cancelled:bob=cancelled,",
		"c3": "ringing:bob=ringing, timed_out:bob=timed_out,",
	} {
		if got := summary(calls[id]); got != want {
			t.Errorf("%s events %q, want %q", id, got, want)
		}
	}
	if st := rcv.Stats(); st.BadSignature != 0 || st.Duplicates != 0 || !st.Verified {
		t.Fatalf("receiver %+v", st)
	}

	// The admin API: the endpoint's state, its (empty) dead letters, a
	// replay of none; an unknown endpoint is a 404 naming the field.
	testutil.WaitFor(t, 10*time.Second, func() bool {
		var out struct{ Endpoints []api.WebhookEndpoint }
		r := s.do(t, "GET", "/v1/admin/webhooks", "")
		r.json(t, &out)
		return r.status == 200 && len(out.Endpoints) == 1 && out.Endpoints[0].Pending == 0 && out.Endpoints[0].Delivered == rcv.Stats().Events
	}, "GET /v1/admin/webhooks to show every event delivered")
	r := s.do(t, "GET", "/v1/admin/webhooks/backend/dead-letters", "")
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"events":[]`) {
		t.Fatalf("dead letters %s", r.body)
	}
	r = s.do(t, "POST", "/v1/admin/webhooks/backend/replay", "")
	wantStatus(t, r, 200)
	for _, path := range []string{"/v1/admin/webhooks/nobody/dead-letters", "/v1/admin/webhooks/nobody/replay"} {
		method := "GET"
		if strings.HasSuffix(path, "replay") {
			method = "POST"
		}
		r := s.do(t, method, path, "")
		var e errBody
		r.json(t, &e)
		if r.status != 404 || e.Error.Field != "endpoint" {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
	}
	r = s.do(t, "GET", "/metrics", "")
	if !strings.Contains(string(r.body), `herald_webhook_events_total{endpoint="backend",result="delivered"}`) {
		t.Fatal("no herald_webhook_events_total in /metrics")
	}
}

// A receiver that is down while herald works, herald killed with
// SIGKILL, restarted on the same data: once the receiver is back, every
// event arrives, the message.completed of every message, a push.failed
// and a token.invalidated for every invalid token, the call's events,
// all signed. The push.failed, token.invalidated and call events were
// written before the kill (deliveries of them were refused); a
// message.completed may be written before or after it (its watch is
// durable), so both ways are covered by what must arrive.
func TestWebhookEventsSurviveKill(t *testing.T) {
	testutil.SkipShort(t, "TestWebhookEventsSurviveKill runs herald as a process and kills it")
	bin := heraldBinary(t)
	rcv, url := testReceiver(t)
	rcv.SetDown(true)
	cfgPath := filepath.Join(t.TempDir(), "herald.yaml")
	testutil.WriteFile(t, cfgPath, `webhooks:
  endpoints:
    - name: backend
      url: `+url+`
      secrets_env: [`+testWebhookSecretEnv+`]
  min_backoff: 100ms
  max_backoff: 500ms
  max_attempts: 1000
`)
	env := []string{testWebhookSecretEnv + "=" + testWebhookSecret}
	data := t.TempDir()
	p := startHeraldEnv(t, bin, data, env, "--config", cfgPath)
	do := p.doer(t)

	const users, invalid = 40, 8
	var ids []string
	for i := range users {
		token := fmt.Sprintf("fcm-u%02d", i)
		if i < invalid {
			token = "unregistered-" + token
		}
		wantStatus(t, do("PUT", fmt.Sprintf("/v1/users/u%02d/devices/pixel", i), `{"vendor":"fcm","token":"`+token+`"}`), 200)
		ids = append(ids, fmt.Sprintf("%q", fmt.Sprintf("u%02d", i)))
	}
	wantStatus(t, do("PUT", "/v1/groups/g1/members", `{"add":[`+strings.Join(ids, ",")+`]}`), 200)
	messages := []string{"g-m1"}
	wantStatus(t, do("POST", "/v1/messages", `{"message_id":"g-m1","from":"amy","to":{"type":"group","id":"g1"},"push":{"title":"amy","content":"hi all"}}`), 202)
	for i := range 5 {
		id := fmt.Sprintf("p-m%d", i)
		messages = append(messages, id)
		wantStatus(t, do("POST", "/v1/messages", fmt.Sprintf(`{"message_id":%q,"from":"amy","to":{"type":"peer","id":"u%02d"},"push":{"title":"amy","content":"hi"}}`, id, users-1-i)), 202)
	}
	wantStatus(t, do("POST", "/v1/calls", `{"call_id":"c1","inviter":"amy","invitees":["u39"],"timeout_s":60,"push":{"title":"amy calling"}}`), 201)
	wantStatus(t, do("POST", "/v1/calls/c1/cancel", `{"by":"amy"}`), 200)
	for _, id := range messages {
		testutil.WaitFor(t, 30*time.Second, func() bool {
			r := do("GET", "/v1/messages/"+id, "")
			return r.status == 200 && strings.Contains(string(r.body), `"state":"done"`)
		}, "message %s done", id)
	}
	testutil.WaitFor(t, 20*time.Second, func() bool { return rcv.Stats().Refused >= 3 }, "deliveries tried while the receiver is down")
	if err := p.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL exit reported success")
	}
	if st := rcv.Stats(); st.Events != 0 {
		t.Fatalf("the receiver took events while down: %+v", st)
	}

	rcv.SetDown(false)
	startHeraldEnv(t, bin, data, env, "--config", cfgPath)
	testutil.WaitFor(t, 60*time.Second, func() bool {
		st := rcv.Stats()
		return st.ByType[store.EventMessageCompleted] >= int64(len(messages)) && st.ByType[store.EventPushFailed] >= invalid &&
			st.ByType[store.EventTokenInvalidated] >= invalid && st.ByType[store.EventCallCancelled] >= 1
	}, "every event after the restart (have %+v)", rcv.Stats().ByType)
	completed := map[string]store.MessageCompletedData{}
	for _, c := range eventsOf[store.MessageCompletedData](t, rcv, store.EventMessageCompleted) {
		completed[c.MessageID] = c
	}
	for _, id := range messages {
		if _, ok := completed[id]; !ok {
			t.Errorf("no message.completed for %s", id)
		}
	}
	if g := completed["g-m1"]; g.Vendors["fcm"].Sent != users-invalid || g.Vendors["fcm"].InvalidTokens != invalid {
		t.Errorf("g-m1 completed %+v, want %d sent and %d invalid", g, users-invalid, invalid)
	}
	failedUsers, unbound := map[string]bool{}, map[string]bool{}
	for _, f := range eventsOf[store.PushFailedData](t, rcv, store.EventPushFailed) {
		failedUsers[f.UserID] = true
	}
	for _, u := range eventsOf[store.TokenInvalidatedData](t, rcv, store.EventTokenInvalidated) {
		unbound[u.UserID] = true
	}
	for i := range invalid {
		u := fmt.Sprintf("u%02d", i)
		if !failedUsers[u] || !unbound[u] {
			t.Errorf("%s: push.failed %v, token.invalidated %v", u, failedUsers[u], unbound[u])
		}
	}
	if st := rcv.Stats(); st.BadSignature != 0 || st.ByType[store.EventCallRinging] < 1 {
		t.Fatalf("receiver %+v", st)
	}
}
