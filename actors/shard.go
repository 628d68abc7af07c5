package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// shard activates, feeds and passivates the user actors of its hash range.
type shard struct {
	deps     *Deps
	idle     time.Duration
	children map[string]*child // by user id
	byPID    map[string]string // child PID id → user id
}

type child struct {
	pid        *actor.PID
	lastActive time.Time
	stopping   bool
	pending    []pendingMsg // arrived while stopping; replayed on restart
}

type pendingMsg struct {
	env    *envelope
	sender *actor.PID
}

func newShardProps(deps *Deps, idle time.Duration) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &shard{deps: deps, idle: idle, children: map[string]*child{}, byPID: map[string]string{}}
	})
}

func (s *shard) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *envelope:
		s.route(ctx, m)
	case *actor.Terminated:
		s.terminated(ctx, m.Who)
	case *sweepTick:
		s.sweep(ctx)
		if m.done != nil {
			close(m.done)
		}
	case countReq:
		ctx.Respond(len(s.children))
	case *planReq:
		// The store is the truth for every user (user actors write through
		// before they answer), so planning reads it in bulk instead of
		// waking one actor per member.
		rs, err := s.deps.Store.Recipients(m.userIDs, m.nowMs)
		ctx.Respond(planReply{recipients: rs, err: err})
	case *passivate:
		if userID, ok := s.byPID[m.pid.Id]; ok {
			if c := s.children[userID]; !c.stopping {
				c.stopping = true
				ctx.Poison(c.pid)
			}
		}
	}
}

func (s *shard) route(ctx actor.Context, env *envelope) {
	c, ok := s.children[env.userID]
	if _, reload := env.msg.(reloadDevice); reload && (!ok || c.stopping) {
		// Nothing cached, or about to be reloaded from the store anyway.
		ctx.Respond(boolReply{ok: true})
		return
	}
	switch {
	case !ok:
		c = s.spawn(ctx, env.userID)
	case c.stopping:
		c.pending = append(c.pending, pendingMsg{env: env, sender: ctx.Sender()})
		return
	}
	c.lastActive = s.deps.Clock.Now()
	ctx.Forward(c.pid)
}

func (s *shard) spawn(ctx actor.Context, userID string) *child {
	pid := ctx.Spawn(newUserProps(userID, s.deps))
	c := &child{pid: pid, lastActive: s.deps.Clock.Now()}
	s.children[userID] = c
	s.byPID[pid.Id] = userID
	s.deps.active.Add(1)
	return c
}

func (s *shard) sweep(ctx actor.Context) {
	now := s.deps.Clock.Now()
	for _, c := range s.children {
		if !c.stopping && now.Sub(c.lastActive) >= s.idle {
			c.stopping = true
			// Poison queues behind what the child already has, so every
			// forwarded message is answered before it stops.
			ctx.Poison(c.pid)
		}
	}
}

func (s *shard) terminated(ctx actor.Context, who *actor.PID) {
	userID, ok := s.byPID[who.Id]
	if !ok {
		return
	}
	delete(s.byPID, who.Id)
	c := s.children[userID]
	delete(s.children, userID)
	s.deps.active.Add(-1)
	if c == nil || len(c.pending) == 0 {
		return
	}
	n := s.spawn(ctx, userID)
	for _, p := range c.pending {
		ctx.RequestWithCustomSender(n.pid, p.env, p.sender)
	}
}
