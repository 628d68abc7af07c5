package actors

import (
	"strings"

	"github.com/asynkron/protoactor-go/actor"
)

// shard owns the users of its hash range: it is the one place that decides,
// message by message, who writes a user's state. At any moment a user is
// in exactly one of these states:
//
//   - idle: no actor, nothing in flight; the user costs the shard nothing
//     (no map entry).
//   - writing: no actor, and one store write (a "write-through", see
//     writeThrough) is running on its own goroutine; messages for the user
//     wait in the entry's pending list.
//   - live: an actor owns the user's state; every message goes to it, in
//     arrival order.
//   - stopping: the actor was told to stop; messages wait in pending until
//     it reports userStopped.
//
// A message for an idle user that only writes (bind, delete, logout, badge,
// the senders' env hints and invalid-token unbinds) becomes a
// write-through, so registering or fanning out to a user does not keep an
// actor alive; a message that reads the cached state (get, devices,
// presence) activates an actor. When a write-through or a stop finishes,
// the pending messages are replayed in order through the same rules. So
// there is exactly one writer per user at a time, and replies are never
// dead-lettered.
//
// User actors are spawned from the root context, not as the shard's
// children: protoactor's child set keeps a stopped child's PID (and through
// the process it caches, the whole stopped actor and its state) reachable
// in its backing array until another child takes the slot, which kept the
// memory of every passivated user alive. A user actor reports its own
// stop (userStopped) instead.
type shard struct {
	deps  *Deps
	idle  int64 // idle timeout in nanoseconds
	self  *actor.PID
	props *actor.Props // shared by all of this shard's user actors

	users map[string]*entry // by user id; only users that are not idle
	peak  int               // largest len(users) since the map was last rebuilt
	live  int               // entries with an actor (live or stopping)
	busy  int               // write-throughs in flight

	// At most maxStopping actors are told to stop at once; the rest wait
	// in stopQ. Each poisoned actor runs its mailbox on a goroutine, and
	// poisoning a whole burst of idle actors at once made as many
	// goroutines: their stacks spiked RSS, and the runtime never frees a
	// goroutine descriptor (~0.5 KB each, for good).
	stopping int
	stopQ    []string

	draining bool       // Users is stopping: answer everything with ErrStopped
	drained  *actor.PID // who waits for live == busy == 0
}

type entry struct {
	pid        *actor.PID // the user's actor; nil when it has none
	lastActive int64      // Clock unix nanos of the last message that used the actor
	stopping   bool       // pid was poisoned; its userStopped is due
	queued     bool       // in stopQ
	writing    bool       // a write-through is in flight
	pending    []pendingMsg
}

type pendingMsg struct {
	env    *envelope
	sender *actor.PID
}

// userActorPrefix names user actors ("user/<user_id>"), so a userStopped
// says whose actor stopped without a PID → user map.
const userActorPrefix = "user/"

func newShardProps(deps *Deps, idle int64) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &shard{deps: deps, idle: idle, users: map[string]*entry{}}
	})
}

func (s *shard) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		s.self = ctx.Self()
		s.props = newUserProps(s.deps, s.self)
	case *envelope:
		s.route(ctx, m, ctx.Sender())
	case *writeDone:
		s.writeDone(ctx, m.userID)
	case *userStopped:
		s.terminated(ctx, m.pid)
	case *sweepTick:
		s.sweep(ctx)
		if m.done != nil {
			close(m.done)
		}
	case *passivate:
		if e := s.users[strings.TrimPrefix(m.pid.Id, userActorPrefix)]; e != nil && e.pid != nil && e.pid.Id == m.pid.Id {
			s.poison(ctx, e) // rare (a failed load): no need to queue
		}
	case *shardStatsReq:
		ctx.Respond(shardStats{entries: len(s.users), live: s.live, busy: s.busy, stopping: s.stopping, queued: len(s.stopQ)})
	case *drainReq:
		s.draining = true
		for id, e := range s.users {
			if e.pid != nil {
				s.stop(ctx, id, e)
			}
		}
		s.drained = ctx.Sender()
		s.checkDrained(ctx)
	default:
		unhandled(ctx, s.deps.Logger)
	}
}

// route applies the rules in the type comment to one message.
func (s *shard) route(ctx actor.Context, env *envelope, sender *actor.PID) {
	if s.draining {
		reply(ctx, sender, errorReply(env.msg, ErrStopped))
		return
	}
	e := s.users[env.userID]
	if _, reload := env.msg.(reloadDevice); reload && (e == nil || e.pid == nil || e.stopping) {
		// Nothing cached, or about to be reloaded from the store anyway.
		reply(ctx, sender, boolReply{ok: true})
		return
	}
	if e != nil && (e.writing || e.stopping) {
		e.pending = append(e.pending, pendingMsg{env: env, sender: sender})
		return
	}
	if e == nil {
		e = &entry{}
		s.users[env.userID] = e
		s.peak = max(s.peak, len(s.users))
	}
	if e.pid == nil {
		if writesThrough(env.msg) {
			s.writeThrough(ctx, env, sender, e)
			return
		}
		if !s.spawn(ctx, env, sender, e) {
			return
		}
	}
	if usesActor(env.msg) {
		e.lastActive = s.deps.Clock.Now().UnixNano()
	}
	ctx.RequestWithCustomSender(e.pid, env, sender)
}

func (s *shard) spawn(ctx actor.Context, env *envelope, sender *actor.PID, e *entry) bool {
	pid, err := ctx.ActorSystem().Root.SpawnNamed(s.props, userActorPrefix+env.userID)
	if err != nil {
		// Only if an actor of that name is still registered, which the
		// state machine rules out; answer rather than lose the request.
		s.deps.Logger.Error("spawn user actor failed", "user_id", env.userID, "err", err)
		reply(ctx, sender, errorReply(env.msg, ErrBusy))
		s.forget(env.userID, e)
		return false
	}
	e.pid = pid
	e.lastActive = s.deps.Clock.Now().UnixNano()
	s.live++
	s.deps.active.Add(1)
	return true
}

// writeThrough runs one write for a user without an actor on its own
// goroutine (a synced write must not hold up the shard's other users); the
// user's next messages wait until it reports back.
func (s *shard) writeThrough(ctx actor.Context, env *envelope, sender *actor.PID, e *entry) {
	e.writing = true
	s.busy++
	root, deps, self := ctx.ActorSystem().Root, s.deps, s.self
	go func() {
		r := writeThrough(deps, env.userID, env.msg)
		if sender != nil {
			root.Send(sender, r)
		}
		root.Send(self, &writeDone{userID: env.userID})
	}()
}

func (s *shard) writeDone(ctx actor.Context, userID string) {
	e := s.users[userID]
	if e == nil || !e.writing {
		return
	}
	e.writing = false
	s.busy--
	s.replay(ctx, userID, e)
	s.checkDrained(ctx)
}

// replay feeds a user's pending messages through route until one of them
// starts a write-through again, or they are all with the user's actor.
func (s *shard) replay(ctx actor.Context, userID string, e *entry) {
	for len(e.pending) > 0 && !e.writing && !e.stopping {
		p := e.pending[0]
		e.pending[0] = pendingMsg{}
		e.pending = e.pending[1:]
		s.route(ctx, p.env, p.sender)
	}
	if len(e.pending) == 0 {
		e.pending = nil
	}
	if e.pid == nil && !e.writing && e.pending == nil {
		s.forget(userID, e)
	}
}

func (s *shard) forget(userID string, e *entry) {
	if s.users[userID] == e {
		delete(s.users, userID)
	}
}

// stop poisons a user's actor now, or queues it when maxStopping are
// already stopping.
func (s *shard) stop(ctx actor.Context, userID string, e *entry) {
	if e.stopping || e.queued {
		return
	}
	if s.stopping >= maxStopping {
		e.queued = true
		s.stopQ = append(s.stopQ, userID)
		return
	}
	s.poison(ctx, e)
}

func (s *shard) poison(ctx actor.Context, e *entry) {
	if e.stopping {
		return
	}
	e.stopping = true
	s.stopping++
	// Poison queues behind what the actor already has, so every forwarded
	// message is answered before it stops.
	ctx.Poison(e.pid)
}

// stopMore poisons queued actors while fewer than maxStopping are
// stopping, skipping any that were used again since they were queued
// (unless Users is stopping).
func (s *shard) stopMore(ctx actor.Context) {
	now := s.deps.Clock.Now().UnixNano()
	for len(s.stopQ) > 0 && s.stopping < maxStopping {
		id := s.stopQ[0]
		s.stopQ[0] = ""
		s.stopQ = s.stopQ[1:]
		e := s.users[id]
		if e == nil || !e.queued {
			continue
		}
		e.queued = false
		if e.pid != nil && (s.draining || now-e.lastActive >= s.idle) {
			s.poison(ctx, e)
		}
	}
	if len(s.stopQ) == 0 {
		s.stopQ = nil
	}
}

// maxStopping bounds the actors a shard has told to stop and not yet
// heard back from.
const maxStopping = 64

func (s *shard) sweep(ctx actor.Context) {
	now := s.deps.Clock.Now().UnixNano()
	for id, e := range s.users {
		if e.pid != nil && !e.stopping && now-e.lastActive >= s.idle {
			s.stop(ctx, id, e)
		}
	}
	// Go maps never shrink: after a burst of activity passivates, rebuild
	// the map so its buckets go too.
	if s.peak >= 256 && len(s.users) <= s.peak/4 {
		m := make(map[string]*entry, len(s.users))
		for k, v := range s.users {
			m[k] = v
		}
		s.users, s.peak = m, len(m)
	}
}

func (s *shard) terminated(ctx actor.Context, who *actor.PID) {
	userID, ok := strings.CutPrefix(who.Id, userActorPrefix)
	if !ok {
		return
	}
	e := s.users[userID]
	if e == nil || e.pid == nil {
		return
	}
	if e.stopping {
		s.stopping--
	} // else it stopped on its own (its supervisor gave up on it)
	e.pid, e.stopping, e.queued = nil, false, false
	s.live--
	s.deps.active.Add(-1)
	s.replay(ctx, userID, e)
	s.stopMore(ctx)
	s.checkDrained(ctx)
}

func (s *shard) checkDrained(ctx actor.Context) {
	if s.drained != nil && s.live == 0 && s.busy == 0 {
		ctx.Send(s.drained, true)
		s.drained = nil
	}
}

// reply answers a request whose sender was kept (a replayed message).
func reply(ctx actor.Context, to *actor.PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}
