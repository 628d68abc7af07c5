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
