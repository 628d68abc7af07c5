package actors

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// strayMsg is no actor's message.
type strayMsg struct{}

// answerWithin is how long a test waits for an answer that must come at
// once: far below every request timeout of callHarness (a minute for user
// actors, callRequestTimeout for calls), so an actor that dropped the
// message, or a caller that waited out its timeout, fails the test.
const answerWithin = 5 * time.Second

// Every actor answers a request it does not handle with an error wrapping
// ErrUnknownMessage, promptly, and logs it; a value where the protocol
// says pointer is such a message, and is not applied. The actors go on
// serving afterwards.
func TestEveryActorAnswersAWrongMessageWithAnError(t *testing.T) {
	h := newCallHarness(t)
	ctx := context.Background()
	h.ring(t, "c1")
	if _, err := h.users.Get(ctx, "bob"); err != nil { // bob's actor is live
		t.Fatal(err)
	}
	h.calls.mu.Lock()
	callPID := h.calls.pids["c1"]
	h.calls.mu.Unlock()
	pids := map[string]*actor.PID{
		"shard":  h.users.shards[0],
		"user":   actor.NewPID(h.sys.Address(), userActorPrefix+"bob"),
		"sender": h.senders.pids[vendors.FCM],
		"call":   callPID,
	}
	cases := []struct {
		actor string
		msg   any
	}{
		{"shard", &strayMsg{}},
		{"shard", sweepTick{}},
		{"shard", shardStatsReq{}},
		{"user", &strayMsg{}},
		{"user", envelope{userID: "bob", msg: getUser{}}},
		{"sender", &strayMsg{}},
		{"sender", senderSync{}},
		{"call", &strayMsg{}},
		{"call", callAction{action: ActionAccept, by: "bob"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%T", c.actor, c.msg), func(t *testing.T) {
			before := len(h.logs.errors())
			r, err := h.sys.Root.RequestFuture(pids[c.actor], c.msg, answerWithin).Result()
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if e, ok := r.(error); !ok || !errors.Is(e, ErrUnknownMessage) {
				t.Fatalf("answer %T %v, want an error wrapping ErrUnknownMessage", r, r)
			}
			logged := h.logs.errors()[before:]
			if len(logged) != 1 || attrs(logged[0])["message"] != fmt.Sprintf("%T", c.msg) {
				t.Fatalf("logged %v, want one error naming %T", logged, c.msg)
			}
			// Sent without a requester: logged, nothing to answer.
			h.sys.Root.Send(pids[c.actor], c.msg)
			waitFor(t, "the second one logged", func() bool { return len(h.logs.errors()) == before+2 })
		})
	}
	if got := h.stored(t, "c1"); got[1] != store.CallRinging {
		t.Fatalf("a value callAction was applied: %v", got)
	}
	// Everyone still serves.
	if _, err := h.users.Get(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if st := h.users.shardStats(); st.entries < 0 {
		t.Fatalf("shard stats: %+v", st)
	}
	if _, err := h.sys.Root.RequestFuture(pids["sender"], &senderSync{}, answerWithin).Result(); err != nil {
		t.Fatal(err)
	}
	if got, err := h.calls.Act(ctx, "c1", ActionAccept, "bob"); err != nil || got.Invitees[0].State != store.CallAccepted {
		t.Fatalf("accept: %+v %v", got, err)
	}
}

// A user request the user actor does not know (here a pointer where the
// protocol says value) is answered with ErrUnknownMessage through Users;
// a reply of the wrong type is ErrBadReply, not a panic.
func TestUsersReportWrongRequestsAndReplies(t *testing.T) {
	h := newCallHarness(t)
	ctx := context.Background()
	if _, err := h.users.boolAsk(ctx, "bob", &getUser{}); !errors.Is(err, ErrUnknownMessage) {
		t.Fatalf("pointer request: %v, want ErrUnknownMessage", err)
	}
	// getDevices is answered with a devicesReply, not a UserView.
	if _, err := askUser[UserView](ctx, h.users, "bob", getDevices{}); !errors.Is(err, ErrBadReply) {
		t.Fatalf("wrong reply: %v, want ErrBadReply", err)
	}
	if _, err := h.users.Get(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
}

func TestReplyAs(t *testing.T) {
	boom := errors.New("boom")
	if v, err := replyAs[boolReply](boolReply{ok: true}); err != nil || !v.ok {
		t.Fatalf("right type: %+v %v", v, err)
	}
	if _, err := replyAs[boolReply](boom); err != boom {
		t.Fatalf("error reply: %v", err)
	}
	if _, err := replyAs[boolReply](&boolReply{}); !errors.Is(err, ErrBadReply) {
		t.Fatalf("pointer reply: %v", err)
	}
	if _, err := replyAs[UserView](nil); !errors.Is(err, ErrBadReply) {
		t.Fatalf("nil reply: %v", err)
	}
}

func TestAskTimeout(t *testing.T) {
	const limit = time.Minute
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	soon, cancelSoon := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelSoon()
	late, cancelLate := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLate()
	cases := []struct {
		name     string
		ctx      context.Context
		min, max time.Duration // the timeout is in [min, max]
		err      bool
	}{
		{"no deadline", context.Background(), limit, limit, false},
		{"deadline after the limit", late, limit, limit, false},
		{"deadline before the limit", soon, time.Nanosecond, 10 * time.Second, false},
		{"deadline passed", past, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := askTimeout(c.ctx, limit)
			if c.err {
				if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err %v, want ErrBusy and context.DeadlineExceeded", err)
				}
				return
			}
			if err != nil || d < c.min || d > c.max {
				t.Fatalf("timeout %v, %v; want in [%v, %v]", d, err, c.min, c.max)
			}
		})
	}
}

// A request whose deadline has passed is a timeout error at once, for
// users and calls alike, and is not carried out.
func TestPastDeadlineIsAnImmediateTimeout(t *testing.T) {
	h := newCallHarness(t)
	h.ring(t, "c1")
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	now := h.clock.Now()
	calls := map[string]func() error{
		"bind": func() error {
			_, err := h.users.BindDevice(past, "bob", "d2", store.Device{Vendor: "fcm", Token: "t2"})
			return err
		},
		"get": func() error {
			_, err := h.users.Get(past, "bob")
			return err
		},
		"presence": func() error {
			_, err := h.users.ApplyPresence(past, []PresenceUpdate{{UserID: "cy", DeviceID: "d", Online: true, TTLMs: 60_000}})
			return err
		},
		"call action": func() error {
			_, err := h.calls.Act(past, "c1", ActionAccept, "bob")
			return err
		},
		"call create": func() error {
			_, _, err := h.calls.Create(past, store.Call{CallID: "c2", Inviter: "ann", State: store.CallRinging,
				Invitees:  []store.Invitee{{UserID: "cy", State: store.CallRinging}},
				CreatedAt: now.UnixMilli(), DeadlineAt: now.Add(30 * time.Second).UnixMilli()})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- call() }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err %v, want ErrBusy and context.DeadlineExceeded", err)
				}
			case <-time.After(answerWithin):
				t.Fatal("no answer: the request was asked with no time left")
			}
		})
	}
	if _, ok, err := h.store.GetDevice("bob", "d2"); ok || err != nil {
		t.Fatalf("bind carried out: %v %v", ok, err)
	}
	if got := h.stored(t, "c1"); got[1] != store.CallRinging {
		t.Fatalf("accept carried out: %v", got)
	}
	if _, ok, err := h.store.GetCall("c2"); ok || err != nil {
		t.Fatalf("create carried out: %v %v", ok, err)
	}
	h.calls.mu.Lock()
	_, live := h.calls.pids["c2"]
	h.calls.mu.Unlock()
	if live {
		t.Fatal("an actor was left for the call that was never created")
	}
	if v, err := h.users.Get(context.Background(), "cy"); err != nil || v.Online {
		t.Fatalf("presence carried out: %+v %v", v, err)
	}
}
