package actors

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
)

// user is the virtual actor of one user. See doc.go for what it owns.
type user struct {
	id    string
	deps  *Deps
	state store.UserState
	// loadErr is set when the state could not be loaded; every request is
	// then answered with it and the actor stops so the next one retries.
	loadErr error
}

func newUserProps(id string, deps *Deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &user{id: id, deps: deps} })
}

func (u *user) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		u.load()
		if u.loadErr != nil {
			// Ask the shard to stop us, so messages that arrive meanwhile
			// are buffered and retried by a fresh actor, not dead-lettered.
			ctx.Send(ctx.Parent(), &passivate{pid: ctx.Self()})
		}
	case *envelope:
		if u.loadErr != nil {
			ctx.Respond(errorReply(m.msg, u.loadErr))
			return
		}
		ctx.Respond(u.handle(m.msg))
	}
}

func (u *user) load() {
	st, err := u.deps.Store.LoadUser(u.id)
	if err != nil {
		u.loadErr = fmt.Errorf("actors: load user: %w", err)
		u.deps.Logger.Error("user load failed", "user_id", u.id, "err", err)
		return
	}
	u.state = st
	now := u.deps.Clock.Now().UnixMilli()
	var expired []string
	for id, l := range st.Leases {
		if l.ExpiresAt <= now {
			expired = append(expired, id)
			delete(u.state.Leases, id)
		}
	}
	if err := u.deps.Store.PruneLeases(u.id, expired); err != nil {
		u.deps.Logger.Warn("prune leases failed", "user_id", u.id, "err", err)
	}
}

func (u *user) handle(msg any) any {
	switch m := msg.(type) {
	case bindDevice:
		res, err := u.deps.Store.BindDevice(u.id, m.deviceID, m.device)
		if err == nil {
			u.state.Devices[m.deviceID] = m.device
			if mf := res.MovedFrom; mf != nil && mf.UserID == u.id {
				delete(u.state.Devices, mf.DeviceID)
			}
		}
		return bindReply{res: res, err: err}
	case deleteDevice:
		ok, err := u.deps.Store.DeleteDevice(u.id, m.deviceID)
		if err == nil {
			delete(u.state.Devices, m.deviceID)
		}
		return boolReply{ok: ok, err: err}
	case logout:
		removed, err := u.deps.Store.Logout(u.id, m.deviceID)
		if err == nil {
			if m.deviceID == "" {
				clear(u.state.Devices)
				clear(u.state.Leases)
			} else {
				delete(u.state.Devices, m.deviceID)
				delete(u.state.Leases, m.deviceID)
			}
		}
		return boolReply{ok: len(removed) > 0, err: err}
	case setBadge:
		err := u.deps.Store.SetBadge(u.id, m.count)
		return boolReply{ok: err == nil, err: err}
	case getUser:
		// Meta (badge, inbox) also changes by dispatch, outside this actor:
		// read it fresh.
		meta, err := u.deps.Store.UserMeta(u.id)
		if err != nil {
			return err
		}
		u.state.Meta = meta
		v := u.view()
		if v.RingingCalls, err = u.ringing(); err != nil {
			return err
		}
		return v
	case applyPresence:
		return u.presence(m.updates)
	case getDevices:
		out := make([]DeviceRecord, 0, len(u.state.Devices))
		for id, d := range u.state.Devices {
			out = append(out, DeviceRecord{DeviceID: id, Device: d})
		}
		slices.SortFunc(out, func(a, b DeviceRecord) int { return strings.Compare(a.DeviceID, b.DeviceID) })
		return devicesReply{devices: out}
	case rememberEnv:
		d, ok := u.state.Devices[m.deviceID]
		if !ok || d.Token != m.token || d.ResolvedEnv == m.env {
			return boolReply{}
		}
		d.ResolvedEnv = m.env
		updated, err := u.deps.Store.RememberEnv(u.id, m.deviceID, d)
		if err == nil && updated {
			u.state.Devices[m.deviceID] = d
		}
		return boolReply{ok: updated, err: err}
	case unbindToken:
		ok, err := u.deps.Store.DeleteDeviceIfToken(u.id, m.deviceID, m.vendor, m.token)
		if err == nil && ok {
			if d, still, err := u.deps.Store.GetDevice(u.id, m.deviceID); err == nil && still {
				u.state.Devices[m.deviceID] = d // only the VoIP token went
			} else {
				delete(u.state.Devices, m.deviceID)
			}
		}
		return boolReply{ok: ok, err: err}
	case reloadDevice:
		d, ok, err := u.deps.Store.GetDevice(u.id, m.deviceID)
		switch {
		case err != nil:
			// Drop the cached row; the next load will read the truth.
			delete(u.state.Devices, m.deviceID)
		case ok:
			u.state.Devices[m.deviceID] = d
		default:
			delete(u.state.Devices, m.deviceID)
		}
		return boolReply{ok: true, err: err}
	default:
		return errorReply(msg, fmt.Errorf("actors: unknown request %T", msg))
	}
}

func (u *user) presence(updates []PresenceUpdate) presenceReply {
	now := u.deps.Clock.Now().UnixMilli()
	was := u.online(now)
	puts := make(map[string]store.Lease, len(updates))
	var dels []string
	for _, up := range updates {
		if up.Online {
			puts[up.DeviceID] = store.Lease{ExpiresAt: now + up.TTLMs}
			dels = slices.DeleteFunc(dels, func(id string) bool { return id == up.DeviceID })
		} else {
			delete(puts, up.DeviceID)
			dels = append(dels, up.DeviceID)
		}
	}
	if err := u.deps.Store.ApplyLeases(u.id, puts, dels); err != nil {
		return presenceReply{err: err}
	}
	maps.Copy(u.state.Leases, puts)
	for _, id := range dels {
		delete(u.state.Leases, id)
	}
	r := presenceReply{wasOnline: was, online: u.online(now)}
	if r.online && !was {
		if meta, err := u.deps.Store.UserMeta(u.id); err == nil {
			u.state.Meta = meta // inbox counts change outside this actor
		}
		r.view = u.view()
		if calls, err := u.ringing(); err == nil {
			r.view.RingingCalls = calls
		}
	}
	return r
}

// online reports whether any lease is live at now (unix ms).
func (u *user) online(now int64) bool {
	for _, l := range u.state.Leases {
		if l.ExpiresAt > now {
			return true
		}
	}
	return false
}

func (u *user) view() UserView {
	now := u.deps.Clock.Now().UnixMilli()
	v := UserView{UserID: u.id, Badge: u.state.Meta.Badge, InboxPending: u.state.Meta.Pending(), RingingCalls: []string{}}
	ids := make([]string, 0, len(u.state.Devices)+len(u.state.Leases))
	for id := range u.state.Devices {
		ids = append(ids, id)
	}
	for id, l := range u.state.Leases {
		if _, bound := u.state.Devices[id]; !bound && l.ExpiresAt > now {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	v.Devices = make([]DeviceView, 0, len(ids))
	for _, id := range ids {
		dv := DeviceView{DeviceID: id}
		if d, ok := u.state.Devices[id]; ok {
			dv.PushID, dv.Vendor = d.PushID(), d.Vendor
		}
		if l, ok := u.state.Leases[id]; ok && l.ExpiresAt > now {
			dv.Online = true
			v.Online = true
		}
		v.Devices = append(v.Devices, dv)
	}
	return v
}

// errorReply answers msg's reply type carrying err.
func errorReply(msg any, err error) any {
	switch msg.(type) {
	case bindDevice:
		return bindReply{err: err}
	case applyPresence:
		return presenceReply{err: err}
	case getUser:
		return err
	case getDevices:
		return devicesReply{err: err}
	default:
		return boolReply{err: err}
	}
}

// ringing lists the calls ringing for this user now (never nil).
func (u *user) ringing() ([]string, error) {
	calls, err := u.deps.Store.RingingCalls(u.id, u.deps.Clock.Now().UnixMilli())
	if calls == nil {
		calls = []string{}
	}
	return calls, err
}
