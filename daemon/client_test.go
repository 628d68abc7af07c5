package daemon

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/client"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
)

// TestGoClientEveryRoute drives a real daemon through the Go client: a
// typed call for every route, with an API key, and the API's errors
// as *client.Error.
func TestGoClientEveryRoute(t *testing.T) {
	var running atomic.Pointer[configs.Config] // what a reload reads
	s := startDaemon(t, func(c *configs.Config) {
		c.Auth.Keys = []configs.Key{
			{Name: "chat", Key: "chat-key-0123456789", Scopes: []string{"ingest"}},
			{Name: "ops", Key: "ops-key-0123456789", Scopes: []string{"admin"}},
		}
	}, Env{LoadConfig: func() (configs.Config, error) { return *running.Load(), nil }})
	running.Store(&s.d.cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	chat, err := client.New(s.base, client.Options{Key: "chat-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	ops, err := client.New(s.base, client.Options{Key: "ops-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	must("health", chat.Health(ctx))
	must("ready", chat.Ready(ctx))
	m, err := chat.Metrics(ctx)
	must("metrics", err)
	if !strings.Contains(string(m), "herald_build_info") {
		t.Fatal("metrics without herald_build_info")
	}

	dev, err := chat.PutDevice(ctx, "ann", "phone", client.PutDeviceRequest{Vendor: "fcm", Token: "fcm-ann"})
	must("put device", err)
	if dev.PushID != "fcm:fcm-ann" || dev.MovedFrom != nil {
		t.Fatalf("put device: %+v", dev)
	}
	// Ids are path-escaped: a '/' in one reaches the daemon as part of
	// the id (which refuses it, naming the field), not as another route.
	if _, err := chat.PutDevice(ctx, "team/ann", "phone", client.PutDeviceRequest{Vendor: "fcm", Token: "fcm-slash"}); client.StatusCode(err) != 400 || !strings.Contains(err.Error(), "(user_id)") {
		t.Fatalf("put device with a '/' in the user id: %v; want 400 naming user_id", err)
	}
	batch, err := chat.PutDevices(ctx, []client.BatchDevice{
		{UserID: "bob", DeviceID: "phone", PutDeviceRequest: client.PutDeviceRequest{Vendor: "huawei", Token: "hw-bob"}},
		{UserID: "cat", DeviceID: "phone", PutDeviceRequest: client.PutDeviceRequest{Vendor: "apns", Token: "dev-cat", APNsEnv: "development", VoIPToken: "dev-v01p-cat"}},
	})
	must("device batch", err)
	if len(batch.Results) != 2 || batch.Results[1].PushID != "apns:dev-cat" {
		t.Fatalf("device batch: %+v", batch)
	}
	online := true
	pr, err := chat.Presence(ctx, []client.PresenceUpdate{{UserID: "dan", DeviceID: "web", Online: &online}})
	must("presence", err)
	if pr.Applied != 1 {
		t.Fatalf("presence: %+v", pr)
	}
	must("badge", chat.SetBadge(ctx, "ann", 3))

	g, err := chat.ChangeGroup(ctx, "team", []string{"ann", "bob", "cat", "dan"}, nil)
	must("group", err)
	if g.Members != 4 {
		t.Fatalf("group: %+v", g)
	}
	gp, err := chat.GroupMembers(ctx, "team", client.Page{Limit: 3})
	must("group members", err)
	if len(gp.Members) != 3 || gp.Next == "" {
		t.Fatalf("group page 1: %+v", gp)
	}
	if gp, err = chat.GroupMembers(ctx, "team", client.Page{After: gp.Next}); err != nil || len(gp.Members) != 1 || gp.Next != "" {
		t.Fatalf("group page 2: %+v %v", gp, err)
	}

	// No message_id: the client sets one, and sending the same request
	// again is the duplicate it is.
	req := client.MessageRequest{From: "dan", To: &client.MessageTo{Type: "group", ID: "team"}, Body: []byte(`{"text":"hi"}`),
		Push: &client.MessagePush{Title: "dan", Content: "hi"}}
	msg, err := chat.SendMessage(ctx, req)
	must("message", err)
	if !strings.HasPrefix(msg.MessageID, "m") || msg.Duplicate {
		t.Fatalf("message: %+v", msg)
	}
	req.MessageID = msg.MessageID
	again, err := chat.SendMessage(ctx, req)
	if err != nil || !again.Duplicate {
		t.Fatalf("same message again: %+v %v", again, err)
	}
	testutil.WaitFor(t, 20*time.Second, func() bool {
		st, err := chat.MessageStatus(ctx, msg.MessageID)
		return err == nil && st.State == "done"
	}, "the group message done")
	fails, err := chat.MessageFailures(ctx, msg.MessageID, client.Page{})
	must("failures", err)
	if len(fails.Failures) != 0 {
		t.Fatalf("failures: %+v", fails)
	}
	inbox, err := chat.Inbox(ctx, "ann", 0, 10)
	must("inbox", err)
	if len(inbox.Messages) != 1 || inbox.Messages[0].MessageID != msg.MessageID {
		t.Fatalf("inbox: %+v", inbox)
	}
	must("ack", chat.AckInbox(ctx, "ann", inbox.Next))
	u, err := chat.User(ctx, "ann")
	must("user", err)
	if len(u.Devices) != 1 || u.InboxPending != 0 {
		t.Fatalf("user: %+v", u)
	}

	call, err := chat.InviteCall(ctx, client.CallRequest{Inviter: "ann", Invitees: []string{"cat", "bob"},
		Push: &client.CallPush{Title: "ann", Content: "video call"}})
	must("invite", err)
	if call.State != "ringing" || len(call.Invitees) != 2 {
		t.Fatalf("invite: %+v", call)
	}
	if got, err := chat.Call(ctx, call.CallID); err != nil || got.CallID != call.CallID {
		t.Fatalf("get call: %+v %v", got, err)
	}
	ringing, err := chat.UserCalls(ctx, "cat")
	must("user calls", err)
	if len(ringing.Calls) != 1 {
		t.Fatalf("user calls: %+v", ringing)
	}
	if got, err := chat.CallAction(ctx, call.CallID, client.CallAccept, "cat"); err != nil || got.Invitees[0].State != "accepted" {
		t.Fatalf("accept: %+v %v", got, err)
	}
	if got, err := chat.CallAction(ctx, call.CallID, client.CallEnd, "ann"); err != nil || got.State != "ended" {
		t.Fatalf("end: %+v %v", got, err)
	}
	_, err = chat.CallAction(ctx, call.CallID, client.CallCancel, "ann")
	if client.ErrorCode(err) != client.CodeConflict || client.StatusCode(err) != 409 {
		t.Fatalf("cancel an ended call: %v; want 409 conflict", err)
	}
	call2, err := chat.InviteCall(ctx, client.CallRequest{Inviter: "ann", Invitees: []string{"bob"}})
	must("invite 2", err)
	if got, err := chat.CallAction(ctx, call2.CallID, client.CallReject, "bob"); err != nil || got.State != "rejected" {
		t.Fatalf("reject: %+v %v", got, err)
	}

	// Admin routes with the admin key; the ingest key gets 403.
	tp, err := ops.TestPush(ctx, client.PushTestRequest{PushID: "fcm:fcm-ann", Title: "t", Content: "test"})
	must("test push", err)
	if len(tp.Results) != 1 || !tp.Results[0].OK {
		t.Fatalf("test push: %+v", tp)
	}
	if _, err := chat.TestPush(ctx, client.PushTestRequest{PushID: "fcm:fcm-ann"}); client.ErrorCode(err) != client.CodePermissionDenied {
		t.Fatalf("test push with the ingest key: %v; want permission_denied", err)
	}
	st, err := ops.Stats(ctx)
	must("stats", err)
	if st.Vendors["fcm"].Limits.QPS <= 0 {
		t.Fatalf("stats without limits: %+v", st.Vendors["fcm"])
	}
	dl, err := ops.DeadLetters(ctx, "fcm", client.Page{Limit: 10})
	must("dead letters", err)
	if len(dl.DeadLetters) != 0 {
		t.Fatalf("dead letters: %+v", dl)
	}
	if rp, err := ops.ReplayDeadLetters(ctx, client.ReplayRequest{Vendor: "fcm"}); err != nil || rp.Replayed != 0 {
		t.Fatalf("replay: %+v %v", rp, err)
	}
	if rl, err := ops.Reload(ctx); err != nil || !rl.Reloaded {
		t.Fatalf("reload: %+v %v", rl, err)
	}
	if wl, err := ops.Webhooks(ctx); err != nil || len(wl.Endpoints) != 0 {
		t.Fatalf("webhooks: %+v %v", wl, err)
	}
	if _, err := ops.WebhookDeadLetters(ctx, "none", client.Page{}); client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("webhook dead letters without endpoints: %v; want not_found", err)
	}
	if _, err := ops.ReplayWebhooks(ctx, "none", 10); client.ErrorCode(err) != client.CodeNotFound {
		t.Fatalf("webhook replay without endpoints: %v; want not_found", err)
	}

	must("logout", chat.Logout(ctx, "bob", "phone"))
	must("delete device", chat.DeleteDevice(ctx, "ann", "phone"))
	must("delete group", chat.DeleteGroup(ctx, "team"))

	// An invalid request is a typed error naming the field, not retried.
	_, err = chat.PutDevice(ctx, "ann", "phone", client.PutDeviceRequest{Vendor: "nokia", Token: "x"})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != client.CodeInvalidArgument || ae.Field != "vendor" {
		t.Fatalf("bad vendor: %#v", err)
	}
	// A wrong key.
	bad, err := client.New(s.base, client.Options{Key: "wrong"})
	must("client", err)
	defer bad.Close()
	if _, err := bad.User(ctx, "ann"); client.ErrorCode(err) != client.CodeUnauthenticated {
		t.Fatalf("wrong key: %v", err)
	}
}
