package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// Call errors.
var (
	ErrCallExists   = errors.New("actors: call id already used")
	ErrCallNotFound = errors.New("actors: no such call")
	ErrCallState    = errors.New("actors: not possible in the call's state")
	ErrCallNotParty = errors.New("actors: not a party allowed to do that")
)

// Call actions.
const (
	ActionCancel = "cancel"
	ActionAccept = "accept"
	ActionReject = "reject"
	ActionEnd    = "end"
)

// reasonTimeout is the cancel notices' reason when invitees time out (an
// action's notices carry the action's name).
const reasonTimeout = "timeout"

// InviteeStatus is an invitee's state at invitation, with presence.
type InviteeStatus struct {
	UserID string
	State  store.CallState
	Online bool
}

// Calls owns the call actors: one per live call, holding and persisting its
// state. One timer on the injected Clock, armed for the earliest deadline,
// times out ringing invitees (CheckTimeouts); Resume re-arms ringing calls
// after a restart.
type Calls struct {
	system  *actor.ActorSystem
	store   *store.Store
	users   *Users
	senders *Senders
	clock   Clock
	log     *slog.Logger

	mu        sync.Mutex
	pids      map[string]*actor.PID
	deadlines map[string]time.Time
	timer     clock.Timer // armed for armedAt while a call rings; nil before the first
	armedAt   time.Time   // the armed timer's deadline (zero: not armed)
	stopped   bool
	once      sync.Once
}

// NewCalls returns the calls, timing out on clock.
func NewCalls(system *actor.ActorSystem, st *store.Store, users *Users, senders *Senders, clock Clock, log *slog.Logger) *Calls {
	return &Calls{system: system, store: st, users: users, senders: senders, clock: clock, log: log,
		pids: map[string]*actor.PID{}, deadlines: map[string]time.Time{}}
}

// Stop stops the timer and the call actors. Ringing calls resume on the
// next start.
func (c *Calls) Stop() {
	c.once.Do(func() {
		c.mu.Lock()
		c.stopped = true // no timeout is sent after this (CheckTimeouts)
		if c.timer != nil {
			c.timer.Stop()
		}
		pids := make([]*actor.PID, 0, len(c.pids))
		for _, p := range c.pids {
			pids = append(pids, p)
		}
		c.mu.Unlock()
		for _, p := range pids {
			_ = c.system.Root.StopFuture(p).Wait()
		}
	})
}

// Resume re-arms every call that still rings (after a restart). Calls
// whose deadline passed while herald was down time out as soon as the
// timer can fire (at once on the wall clock; a manual clock's next move).
func (c *Calls) Resume() error {
	ids, err := c.store.RingingCallIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		call, ok, err := c.store.GetCall(id)
		if err != nil {
			return err
		}
		if ok && call.Ringing() {
			c.mu.Lock()
			c.spawnLocked(call)
			c.mu.Unlock()
		}
	}
	if len(ids) > 0 {
		c.log.Info("resumed ringing calls", "calls", len(ids))
	}
	return nil
}

func (c *Calls) spawnLocked(call store.Call) *actor.PID {
	props := actor.PropsFromProducer(func() actor.Actor { return &callActor{calls: c, call: call} })
	pid := c.system.Root.Spawn(props)
	c.pids[call.CallID] = pid
	if call.Ringing() {
		c.setDeadlineLocked(call.CallID, time.UnixMilli(call.DeadlineAt))
	}
	return pid
}

// setDeadlineLocked sets a ringing call's deadline and arms the timer for
// it if it is the earliest. A retired call's deadline is not disarmed: the
// timer finding nothing due re-arms for the next one.
func (c *Calls) setDeadlineLocked(id string, dl time.Time) {
	c.deadlines[id] = dl
	c.armLocked(dl)
}

// armLocked arms the timer for dl unless it is armed for no later.
func (c *Calls) armLocked(dl time.Time) {
	if c.stopped || (!c.armedAt.IsZero() && !dl.Before(c.armedAt)) {
		return
	}
	now := c.clock.Now()
	d := min(dl.Sub(now), maxTimerWait)
	c.armedAt = minTime(dl, now.Add(maxTimerWait))
	if c.timer == nil {
		c.timer = c.clock.AfterFunc(d, c.CheckTimeouts)
		return
	}
	c.timer.Reset(d)
}

// pid returns the live actor of a call, loading it from the store if needed.
func (c *Calls) pid(id string) (*actor.PID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pids[id]; ok {
		return p, nil
	}
	call, ok, err := c.store.GetCall(id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrCallNotFound
	}
	return c.spawnLocked(call), nil
}

// retire forgets a finished call's actor (it is stopped by the caller).
func (c *Calls) retire(id string, pid *actor.PID) {
	c.mu.Lock()
	if c.pids[id] == pid {
		delete(c.pids, id)
	}
	delete(c.deadlines, id)
	c.mu.Unlock()
}

// CheckTimeouts sends a timeout to every call whose deadline has passed
// and arms the timer for the earliest deadline left. The timer calls it;
// a test may too.
func (c *Calls) CheckTimeouts() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.armedAt = time.Time{} // fired (or about to be re-armed below)
	var next time.Time
	for id, dl := range c.deadlines {
		if now.Before(dl) {
			if next.IsZero() || dl.Before(next) {
				next = dl
			}
			continue
		}
		if p, ok := c.pids[id]; ok {
			// Under mu, so Stop cannot stop the actors in between;
			// Send does not block.
			c.system.Root.Send(p, &callTimeout{})
		}
		delete(c.deadlines, id)
	}
	if !next.IsZero() {
		c.armLocked(next)
	}
}

// Call actor messages (sent as pointers) and its reply (a value).
type (
	callCreate  struct{ invitees []store.Recipient } // planned by the caller; → callReply
	callAction  struct{ action, by string }          // → callReply
	callTimeout struct{}
	callReply   struct {
		call     store.Call
		invitees []InviteeStatus
		err      error
	}
)

// Create starts a call: persists it, pushes offline invitees' devices
// ahead of all queued message traffic, and arms its timeout.
func (c *Calls) Create(ctx context.Context, call store.Call) (store.Call, []InviteeStatus, error) {
	// Plan on the caller's goroutine, from the store (the truth for every
	// user, see doc.go), so the call actor never waits on I/O it need not.
	ids := make([]string, len(call.Invitees))
	for i, iv := range call.Invitees {
		ids[i] = iv.UserID
	}
	rs, err := c.store.Recipients(ids, c.clock.Now().UnixMilli())
	if err != nil {
		return store.Call{}, nil, err
	}
	// Before the actor exists: one that never got its callCreate would
	// hold (and later time out) a call nobody was invited to.
	timeout, err := askTimeout(ctx, callRequestTimeout)
	if err != nil {
		return store.Call{}, nil, err
	}
	c.mu.Lock()
	if _, live := c.pids[call.CallID]; live {
		c.mu.Unlock()
		return store.Call{}, nil, ErrCallExists
	}
	if _, ok, err := c.store.GetCall(call.CallID); err != nil || ok {
		c.mu.Unlock()
		if err == nil {
			err = ErrCallExists
		}
		return store.Call{}, nil, err
	}
	pid := c.spawnLocked(call)
	c.mu.Unlock()
	return c.ask(pid, &callCreate{invitees: rs}, timeout)
}

// Act applies cancel, accept, reject or end by a party of the call.
func (c *Calls) Act(ctx context.Context, callID, action, by string) (store.Call, error) {
	for attempt := 0; ; attempt++ {
		timeout, err := askTimeout(ctx, callRequestTimeout)
		if err != nil {
			return store.Call{}, err
		}
		pid, err := c.pid(callID)
		if err != nil {
			return store.Call{}, err
		}
		call, _, err := c.ask(pid, &callAction{action: action, by: by}, timeout)
		if errors.Is(err, actor.ErrDeadLetter) && attempt == 0 {
			// The actor retired between lookup and request: ask a fresh one.
			continue
		}
		return call, err
	}
}

// callRequestTimeout bounds how long a caller waits for a call actor.
const callRequestTimeout = 10 * time.Second

// ask sends msg to a call actor and waits up to timeout (askTimeout) for
// its callReply.
func (c *Calls) ask(pid *actor.PID, msg any, timeout time.Duration) (store.Call, []InviteeStatus, error) {
	r, err := c.system.Root.RequestFuture(pid, msg, timeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		return store.Call{}, nil, ErrBusy
	}
	if err != nil {
		return store.Call{}, nil, err
	}
	rep, err := replyAs[callReply](r)
	if err != nil {
		return store.Call{}, nil, err
	}
	return rep.call, rep.invitees, rep.err
}

// callActor owns one call's state.
type callActor struct {
	calls *Calls
	call  store.Call
}

func (a *callActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *callCreate:
		invitees, err := a.create(m.invitees)
		if err != nil {
			a.calls.retire(a.call.CallID, ctx.Self())
			ctx.Stop(ctx.Self())
		}
		ctx.Respond(callReply{call: a.call, invitees: invitees, err: err})
	case *callAction:
		err := a.act(m.action, m.by)
		ctx.Respond(callReply{call: a.call, err: err})
		a.maybeRetire(ctx)
	case *callTimeout:
		if err := a.timeout(); err != nil {
			a.calls.log.Error("call timeout failed; retrying", "call_id", a.call.CallID, "err", err)
			a.calls.mu.Lock()
			a.calls.setDeadlineLocked(a.call.CallID, a.calls.clock.Now().Add(time.Second))
			a.calls.mu.Unlock()
			return
		}
		a.maybeRetire(ctx)
	default:
		unhandled(ctx, a.calls.log.With("call_id", a.call.CallID))
	}
}

func (a *callActor) maybeRetire(ctx actor.Context) {
	if !a.call.Ringing() {
		a.calls.retire(a.call.CallID, ctx.Self())
		ctx.Poison(ctx.Self())
	}
}

// route routes a call push (push.Route's ring form); devices of vendors
// without a sender get no row.
func (a *callActor) route(d store.Device) (store.Route, bool) {
	if !a.calls.senders.Has(vendors.Kind(d.Vendor)) {
		return store.Route{}, false
	}
	return push.Route(d, true), true
}

func (a *callActor) create(rs []store.Recipient) ([]InviteeStatus, error) {
	c := a.calls
	online := map[string]bool{}
	var offline []store.Recipient
	for _, r := range rs {
		online[r.UserID] = r.Online
		if !r.Online {
			offline = append(offline, r)
		}
	}
	res, err := c.store.CommitChunk(store.Chunk{MessageID: a.call.CallID, Kind: store.RowCallInvite, SentAt: a.call.CreatedAt,
		Offline: offline, Push: true, Priority: true, Route: a.route, Call: &a.call})
	if err != nil {
		return nil, err
	}
	a.call = *res.Call // with Pushed: the rows the invitation wrote
	c.senders.Enqueue(res.Queued, Complete)
	out := make([]InviteeStatus, 0, len(a.call.Invitees))
	for _, iv := range a.call.Invitees {
		out = append(out, InviteeStatus{UserID: iv.UserID, State: iv.State, Online: online[iv.UserID]})
	}
	return out, nil
}

func (a *callActor) invitee(by string) int {
	return slices.IndexFunc(a.call.Invitees, func(iv store.Invitee) bool { return iv.UserID == by })
}

// act applies one action and persists it with the cancel notices it causes.
func (a *callActor) act(action, by string) error {
	next := a.call
	next.Invitees = slices.Clone(a.call.Invitees)
	var stopped []string // invitees whose ringing this action ends
	reason := action
	switch action {
	case ActionCancel:
		if by != next.Inviter {
			return fmt.Errorf("%w: only the inviter can cancel", ErrCallNotParty)
		}
		if !next.Ringing() {
			return fmt.Errorf("%w: the call no longer rings", ErrCallState)
		}
		stopped = ringOut(next.Invitees, store.CallCancelled)
		next.State = store.CallCancelled
		if slices.ContainsFunc(next.Invitees, func(iv store.Invitee) bool { return iv.State == store.CallAccepted }) {
			next.State = store.CallAccepted
		}
	case ActionAccept, ActionReject:
		i := a.invitee(by)
		if i < 0 {
			return fmt.Errorf("%w: %q is not invited", ErrCallNotParty, by)
		}
		if next.Invitees[i].State != store.CallRinging {
			return fmt.Errorf("%w: %q is %s", ErrCallState, by, next.Invitees[i].State)
		}
		next.Invitees[i].State = store.CallRejected
		if action == ActionAccept {
			next.Invitees[i].State = store.CallAccepted
		}
		stopped = []string{by}
		next.State = overall(next)
	case ActionEnd:
		if i := a.invitee(by); by != next.Inviter && (i < 0 || next.Invitees[i].State != store.CallAccepted) {
			return fmt.Errorf("%w: only the inviter or an invitee who accepted can end the call", ErrCallNotParty)
		}
		if next.State != store.CallRinging && next.State != store.CallAccepted {
			return fmt.Errorf("%w: the call is %s", ErrCallState, next.State)
		}
		stopped = ringOut(next.Invitees, store.CallCancelled)
		for i := range next.Invitees {
			if next.Invitees[i].State == store.CallAccepted {
				next.Invitees[i].State = store.CallEnded
			}
		}
		next.State = store.CallEnded
	default:
		return fmt.Errorf("actors: unknown call action %q", action)
	}
	if err := a.calls.store.PutCall(next, a.notices(stopped, reason)...); err != nil {
		return err
	}
	a.call = next
	a.calls.enqueueNotices(a.notices(stopped, reason))
	return nil
}

func (a *callActor) timeout() error {
	if !a.call.Ringing() {
		return nil
	}
	next := a.call
	next.Invitees = slices.Clone(a.call.Invitees)
	stopped := ringOut(next.Invitees, store.CallTimedOut)
	next.State = overall(next)
	rows := a.notices(stopped, reasonTimeout)
	if err := a.calls.store.PutCall(next, rows...); err != nil {
		return err
	}
	a.call = next
	a.calls.enqueueNotices(rows)
	a.calls.log.Info("call timed out", "call_id", next.CallID, "invitees_timed_out", len(stopped))
	return nil
}

// ringOut sets every ringing invitee to state and returns their ids.
func ringOut(ivs []store.Invitee, state store.CallState) []string {
	var out []string
	for i := range ivs {
		if ivs[i].State == store.CallRinging {
			ivs[i].State = state
			out = append(out, ivs[i].UserID)
		}
	}
	return out
}

// overall is the call state implied by its invitees.
func overall(c store.Call) store.CallState {
	if c.Ringing() {
		return store.CallRinging
	}
	for _, iv := range c.Invitees {
		if iv.State == store.CallAccepted {
			return store.CallAccepted
		}
	}
	if slices.ContainsFunc(c.Invitees, func(iv store.Invitee) bool { return iv.State == store.CallTimedOut }) {
		return store.CallTimedOut
	}
	return store.CallRejected
}

// notices are the cancel-notice rows for the devices the invitation pushed
// to the given invitees.
func (a *callActor) notices(users []string, reason string) []store.Queued {
	var rows []store.Queued
	for _, p := range a.call.Pushed {
		if !slices.Contains(users, p.Key.UserID) {
			continue
		}
		k := p.Key
		k.RowID = store.RowID{Kind: store.RowCallCancel, ID: a.call.CallID, Reason: reason}
		rows = append(rows, store.Queued{Key: k, Entry: store.OutboxEntry{Token: p.Token, Badge: -1, VoIP: p.VoIP, Priority: true}})
	}
	return rows
}

func (c *Calls) enqueueNotices(rows []store.Queued) {
	if len(rows) > 0 {
		c.senders.Enqueue(rows, Complete)
	}
}
