package actors

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// callHarness runs users, one FCM sender and the calls on a manual clock,
// every actor logging to logs. Nothing ticks on its own: a call times out
// when the test moves the clock past its deadline.
type callHarness struct {
	sys     *actor.ActorSystem
	store   *store.Store
	clock   *testutil.Clock
	users   *Users
	senders *Senders
	calls   *Calls
	logs    *logRecorder
}

func newCallHarness(t *testing.T) *callHarness {
	t.Helper()
	logs := &logRecorder{}
	log := slog.New(logs)
	quiet := slog.New(slog.DiscardHandler)
	st, err := store.Open(t.TempDir(), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	clock := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// Request timeouts far above every wait in these tests: a request
	// that waited them out fails the test instead of passing slowly.
	u, err := NewUsers(sys, &Deps{Store: st, Clock: clock, Logger: log}, UsersConfig{
		Shards: 2, IdleTimeout: time.Minute, SweepInterval: time.Hour, RequestTimeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &fakeClient{kind: vendors.FCM, perTarget: true, maxBatch: 500}
	snd, err := NewSenders(sys, SenderDeps{Store: st, Users: u, Composer: &countingComposer{}, Clock: clock, Logger: log},
		map[vendors.Kind]vendors.Sender{vendors.FCM: client}, map[vendors.Kind]SenderConfig{vendors.FCM: baseSenderConfig()})
	if err != nil {
		t.Fatal(err)
	}
	calls := NewCalls(sys, st, u, snd, clock, log)
	t.Cleanup(func() {
		calls.Stop()
		snd.Stop()
		u.Stop()
		sys.Shutdown()
		_ = st.Close()
	})
	return &callHarness{sys: sys, store: st, clock: clock, users: u, senders: snd, calls: calls, logs: logs}
}

// ring creates call id from ann to bob (who has an FCM device, so the
// invitation pushes and stops ringing with notices) and cy, ringing 30s.
func (h *callHarness) ring(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "bob", "d1", store.Device{Vendor: "fcm", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	call := store.Call{CallID: id, Inviter: "ann", State: store.CallRinging,
		Invitees:  []store.Invitee{{UserID: "bob", State: store.CallRinging}, {UserID: "cy", State: store.CallRinging}},
		CreatedAt: now.UnixMilli(), DeadlineAt: now.Add(30 * time.Second).UnixMilli()}
	got, invitees, err := h.calls.Create(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.CallRinging || len(got.Pushed) != 1 || len(invitees) != 2 ||
		invitees[0].State != store.CallRinging || invitees[1].State != store.CallRinging {
		t.Fatalf("created %+v, invitees %+v", got, invitees)
	}
}

// stored is the call as the store holds it: the call's state, then bob's
// and cy's.
func (h *callHarness) stored(t *testing.T, id string) []store.CallState {
	t.Helper()
	c, ok, err := h.store.GetCall(id)
	if err != nil || !ok {
		t.Fatalf("GetCall(%s): %v %v", id, ok, err)
	}
	out := []store.CallState{c.State}
	for _, iv := range c.Invitees {
		out = append(out, iv.State)
	}
	return out
}

// timeOut moves the clock past the deadline (the calls' timer fires) and
// waits for the call actor to have timed the ringing invitees out.
func (h *callHarness) timeOut(t *testing.T, id string) {
	t.Helper()
	h.clock.Advance(31 * time.Second)
	waitFor(t, "the timeout written", func() bool { return !slices.Contains(h.stored(t, id)[1:], store.CallRinging) })
}

// Each script drives one call (ann invites bob and cy) through actions
// and timeouts; after every step the stored states (call, bob, cy) are
// checked, and a refused step must leave them as they were.
func TestCallStateTransitions(t *testing.T) {
	const (
		R  = store.CallRinging
		A  = store.CallAccepted
		X  = store.CallRejected
		C  = store.CallCancelled
		TO = store.CallTimedOut
		E  = store.CallEnded
	)
	type step struct {
		action, by string // action "timeout": the deadline passes
		err        error  // the step is refused with this
		want       []store.CallState
	}
	scripts := []struct {
		name  string
		steps []step
	}{
		{"accept reject end", []step{
			{ActionAccept, "bob", nil, []store.CallState{R, A, R}},
			{ActionReject, "cy", nil, []store.CallState{A, A, X}},
			{ActionReject, "cy", ErrCallState, []store.CallState{A, A, X}},
			{ActionEnd, "cy", ErrCallNotParty, []store.CallState{A, A, X}},
			{ActionEnd, "bob", nil, []store.CallState{E, E, X}},
			{ActionEnd, "ann", ErrCallState, []store.CallState{E, E, X}},
		}},
		{"cancel while ringing", []step{
			{ActionCancel, "bob", ErrCallNotParty, []store.CallState{R, R, R}},
			{ActionAccept, "zed", ErrCallNotParty, []store.CallState{R, R, R}},
			{ActionCancel, "ann", nil, []store.CallState{C, C, C}},
			{ActionAccept, "bob", ErrCallState, []store.CallState{C, C, C}},
			{ActionCancel, "ann", ErrCallState, []store.CallState{C, C, C}},
		}},
		{"cancel after an accept", []step{
			{ActionAccept, "cy", nil, []store.CallState{R, R, A}},
			{ActionCancel, "ann", nil, []store.CallState{A, C, A}},
			{ActionEnd, "ann", nil, []store.CallState{E, C, E}},
		}},
		{"everyone rejects", []step{
			{ActionReject, "bob", nil, []store.CallState{R, X, R}},
			{ActionReject, "cy", nil, []store.CallState{X, X, X}},
			{ActionEnd, "ann", ErrCallState, []store.CallState{X, X, X}},
		}},
		{"timeout after an accept", []step{
			{ActionAccept, "bob", nil, []store.CallState{R, A, R}},
			{"timeout", "", nil, []store.CallState{A, A, TO}},
			{ActionEnd, "cy", ErrCallNotParty, []store.CallState{A, A, TO}},
			{ActionEnd, "bob", nil, []store.CallState{E, E, TO}},
		}},
		{"timeout unanswered", []step{
			{"timeout", "", nil, []store.CallState{TO, TO, TO}},
			{ActionAccept, "bob", ErrCallState, []store.CallState{TO, TO, TO}},
		}},
		{"inviter ends while ringing", []step{
			{ActionEnd, "ann", nil, []store.CallState{E, C, C}},
		}},
	}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			h := newCallHarness(t)
			h.ring(t, "c1")
			for i, st := range sc.steps {
				if st.action == "timeout" {
					h.timeOut(t, "c1")
				} else {
					got, err := h.calls.Act(context.Background(), "c1", st.action, st.by)
					if !errors.Is(err, st.err) || (err != nil) != (st.err != nil) {
						t.Fatalf("step %d %s by %s: err %v, want %v", i, st.action, st.by, err, st.err)
					}
					if err == nil && got.State != st.want[0] {
						t.Fatalf("step %d %s by %s: answered state %s, want %s", i, st.action, st.by, got.State, st.want[0])
					}
				}
				if got := h.stored(t, "c1"); !slices.Equal(got, st.want) {
					t.Fatalf("step %d %s by %s: stored %v, want %v", i, st.action, st.by, got, st.want)
				}
			}
		})
	}
}

// One timer on the clock serves every call's deadline: a call created
// later with an earlier deadline re-arms it, that call times out at its
// own deadline and the other one not before its own.
func TestCallsTimeOutEachAtItsOwnDeadline(t *testing.T) {
	h := newCallHarness(t)
	ctx := context.Background()
	create := func(id string, ringing time.Duration) {
		t.Helper()
		now := h.clock.Now()
		call := store.Call{CallID: id, Inviter: "ann", State: store.CallRinging,
			Invitees:  []store.Invitee{{UserID: "bob", State: store.CallRinging}},
			CreatedAt: now.UnixMilli(), DeadlineAt: now.Add(ringing).UnixMilli()}
		if _, _, err := h.calls.Create(ctx, call); err != nil {
			t.Fatal(err)
		}
	}
	// stillRings checks id's stored state once any timeout already sent to
	// its actor has been processed: a refused action queues behind it.
	stillRings := func(id string) {
		t.Helper()
		if _, err := h.calls.Act(ctx, id, ActionAccept, "zed"); !errors.Is(err, ErrCallNotParty) {
			t.Fatalf("accept by a stranger: %v, want ErrCallNotParty", err)
		}
		if got := h.stored(t, id); got[0] != store.CallRinging {
			t.Fatalf("%s: stored %v, want it still ringing", id, got)
		}
	}
	timedOut := func(id string) {
		t.Helper()
		waitFor(t, id+" timed out", func() bool { return h.stored(t, id)[0] == store.CallTimedOut })
	}
	create("late", 30*time.Second)
	create("early", 10*time.Second)
	h.clock.Advance(10*time.Second - time.Millisecond)
	stillRings("early")
	h.clock.Advance(time.Millisecond)
	timedOut("early")
	stillRings("late")
	h.clock.Advance(20*time.Second - time.Millisecond)
	stillRings("late")
	h.clock.Advance(time.Millisecond)
	timedOut("late")
}
