package actors

import (
	"fmt"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
)

// user is the virtual actor of one user. See doc.go for what it owns.
type user struct {
	id     string
	deps   *Deps
	shard  *actor.PID
	loaded bool
	state  store.UserState
	// loadErr is set when the state could not be loaded; every request is
	// then answered with it and the actor stops so the next one retries.
	loadErr error
}

// newUserProps is the one Props of a shard's user actors. An actor learns
// whose it is from its first envelope and loads that user's state then, so
// no per-user Props (or closure) is kept alive with it.
func newUserProps(deps *Deps, shard *actor.PID) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &user{deps: deps, shard: shard} },
		// A user actor sees a few messages at a time: the lock-free
		// mailbox costs two words until it is used, the default one a
		// ring of ten slots.
		actor.WithMailbox(actor.UnboundedLockfree()))
}

func (u *user) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*envelope)
	if !ok {
		if _, stopped := ctx.Message().(*actor.Stopped); stopped {
			// Our name is unregistered by now, so the shard may spawn a
			// successor. (A watch would do the same for ~600 bytes per
			// actor: the watcher set and context extras it allocates.)
			ctx.Send(u.shard, &userStopped{pid: ctx.Self()})
			return
		}
		unhandled(ctx, u.deps.Logger)
		return
	}
	if !u.loaded {
		u.loaded = true
		u.id = m.userID
		u.load()
		if u.deps.loaded != nil {
			u.deps.loaded(u)
		}
		if u.loadErr != nil {
			// Ask the shard to stop us, so messages that arrive meanwhile
			// are buffered and retried by a fresh actor, not dead-lettered.
			ctx.Send(u.shard, &passivate{pid: ctx.Self()})
		}
	}
	if u.loadErr != nil {
		ctx.Respond(errorReply(m.msg, u.loadErr))
		return
	}
	ctx.Respond(u.handle(m.msg))
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
	u.state.Leases = slices.DeleteFunc(u.state.Leases, func(r store.LeaseRow) bool {
		if r.Lease.ExpiresAt <= now {
			expired = append(expired, r.DeviceID)
			return true
		}
		return false
	})
	if err := u.deps.Store.PruneLeases(u.id, expired); err != nil {
		u.deps.Logger.Warn("prune leases failed", "user_id", u.id, "err", err)
	}
}

func (u *user) handle(msg any) any {
	switch m := msg.(type) {
	case bindDevice:
		res, err := u.deps.Store.BindDevice(u.id, m.deviceID, m.device)
		if err == nil {
			u.state.Devices = putRow(u.state.Devices, store.DeviceRow{DeviceID: m.deviceID, Device: m.device}, deviceRowID)
			if mf := res.MovedFrom; mf != nil && mf.UserID == u.id {
				u.state.Devices = deleteRow(u.state.Devices, mf.DeviceID, deviceRowID)
			}
		}
		return bindReply{res: res, err: err}
	case deleteDevice:
		ok, err := u.deps.Store.DeleteDevice(u.id, m.deviceID)
		if err == nil {
			u.state.Devices = deleteRow(u.state.Devices, m.deviceID, deviceRowID)
		}
		return boolReply{ok: ok, err: err}
	case logout:
		removed, err := u.deps.Store.Logout(u.id, m.deviceID)
		if err == nil {
			if m.deviceID == "" {
				u.state.Devices, u.state.Leases = nil, nil
			} else {
				u.state.Devices = deleteRow(u.state.Devices, m.deviceID, deviceRowID)
				u.state.Leases = deleteRow(u.state.Leases, m.deviceID, leaseRowID)
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
		for _, r := range u.state.Devices {
			out = append(out, DeviceRecord{DeviceID: r.DeviceID, Device: r.Device})
		}
		return devicesReply{devices: out}
	case rememberEnv:
		i, ok := findRow(u.state.Devices, m.deviceID, deviceRowID)
		if !ok {
			return boolReply{}
		}
		d := u.state.Devices[i].Device
		if d.Token != m.token || d.ResolvedEnv == m.env {
			return boolReply{}
		}
		d.ResolvedEnv = m.env
		updated, err := u.deps.Store.RememberEnv(u.id, m.deviceID, d)
		if err == nil && updated {
			u.state.Devices[i].Device = d
		}
		return boolReply{ok: updated, err: err}
	case unbindToken:
		ok, err := u.deps.Store.DeleteDeviceIfToken(u.id, m.deviceID, m.vendor, m.token)
		if err == nil && ok {
			u.reload(m.deviceID) // only the VoIP token may have gone
		}
		return boolReply{ok: ok, err: err}
	case reloadDevice:
		return boolReply{ok: true, err: u.reload(m.deviceID)}
	default:
		u.deps.Logger.Error("user actor got a request it does not handle", "user_id", u.id, "request", fmt.Sprintf("%T", msg))
		return errorReply(msg, fmt.Errorf("%w: user request %T", ErrUnknownMessage, msg))
	}
}

// reload replaces the cached row of one device with what the store holds
// (dropping it when the store has none, or cannot say: the next load reads
// the truth).
func (u *user) reload(deviceID string) error {
	d, ok, err := u.deps.Store.GetDevice(u.id, deviceID)
	if err != nil || !ok {
		u.state.Devices = deleteRow(u.state.Devices, deviceID, deviceRowID)
		return err
	}
	u.state.Devices = putRow(u.state.Devices, store.DeviceRow{DeviceID: deviceID, Device: d}, deviceRowID)
	return nil
}

func deviceRowID(r store.DeviceRow) string { return r.DeviceID }
func leaseRowID(r store.LeaseRow) string   { return r.DeviceID }

// findRow finds id in rows sorted by id.
func findRow[R any](rows []R, id string, key func(R) string) (int, bool) {
	return slices.BinarySearchFunc(rows, id, func(r R, id string) int { return strings.Compare(key(r), id) })
}

// putRow sets (or inserts, keeping the order) the row with r's id.
func putRow[R any](rows []R, r R, key func(R) string) []R {
	i, ok := findRow(rows, key(r), key)
	if ok {
		rows[i] = r
		return rows
	}
	return slices.Insert(rows, i, r)
}

// deleteRow removes the row with id, if there is one.
func deleteRow[R any](rows []R, id string, key func(R) string) []R {
	if i, ok := findRow(rows, id, key); ok {
		return slices.Delete(rows, i, i+1)
	}
	return rows
}

// writeThrough performs a writesThrough message for a user that has no
// actor, straight on the store, answering as the actor would. The shard
// runs at most one at a time per user and none while the user has an
// actor, so it is the user's only writer while it runs.
func writeThrough(deps *Deps, userID string, msg any) any {
	st := deps.Store
	switch m := msg.(type) {
	case bindDevice:
		res, err := st.BindDevice(userID, m.deviceID, m.device)
		return bindReply{res: res, err: err}
	case deleteDevice:
		ok, err := st.DeleteDevice(userID, m.deviceID)
		return boolReply{ok: ok, err: err}
	case logout:
		removed, err := st.Logout(userID, m.deviceID)
		return boolReply{ok: len(removed) > 0, err: err}
	case setBadge:
		err := st.SetBadge(userID, m.count)
		return boolReply{ok: err == nil, err: err}
	case rememberEnv:
		d, ok, err := st.GetDevice(userID, m.deviceID)
		if err != nil || !ok || d.Token != m.token || d.ResolvedEnv == m.env {
			return boolReply{err: err}
		}
		d.ResolvedEnv = m.env
		updated, err := st.RememberEnv(userID, m.deviceID, d)
		return boolReply{ok: updated, err: err}
	case unbindToken:
		ok, err := st.DeleteDeviceIfToken(userID, m.deviceID, m.vendor, m.token)
		return boolReply{ok: ok, err: err}
	}
	deps.Logger.Error("write-through got a request it does not handle", "user_id", userID, "request", fmt.Sprintf("%T", msg))
	return errorReply(msg, fmt.Errorf("%w: %T is not a write-through", ErrUnknownMessage, msg))
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
	for id, l := range puts {
		u.state.Leases = putRow(u.state.Leases, store.LeaseRow{DeviceID: id, Lease: l}, leaseRowID)
	}
	for _, id := range dels {
		u.state.Leases = deleteRow(u.state.Leases, id, leaseRowID)
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
	for _, r := range u.state.Leases {
		if r.Lease.ExpiresAt > now {
			return true
		}
	}
	return false
}

// view lists every bound device and every device session with a live
// lease, in device-id order (both row lists are sorted: merge them).
func (u *user) view() UserView {
	now := u.deps.Clock.Now().UnixMilli()
	v := UserView{UserID: u.id, Badge: u.state.Meta.Badge, InboxPending: u.state.Meta.Pending(), RingingCalls: []string{}}
	devs, leases := u.state.Devices, u.state.Leases
	v.Devices = make([]DeviceView, 0, len(devs)+len(leases))
	for len(devs) > 0 || len(leases) > 0 {
		var dv DeviceView
		switch {
		case len(leases) == 0 || (len(devs) > 0 && devs[0].DeviceID < leases[0].DeviceID):
			dv = DeviceView{DeviceID: devs[0].DeviceID, PushID: devs[0].Device.PushID(), Vendor: devs[0].Device.Vendor}
			devs = devs[1:]
		case len(devs) == 0 || leases[0].DeviceID < devs[0].DeviceID:
			if leases[0].Lease.ExpiresAt > now {
				dv = DeviceView{DeviceID: leases[0].DeviceID, Online: true}
			}
			leases = leases[1:]
		default: // bound, with a lease
			dv = DeviceView{DeviceID: devs[0].DeviceID, PushID: devs[0].Device.PushID(), Vendor: devs[0].Device.Vendor,
				Online: leases[0].Lease.ExpiresAt > now}
			devs, leases = devs[1:], leases[1:]
		}
		if dv.DeviceID == "" {
			continue // an expired lease of an unbound session
		}
		v.Online = v.Online || dv.Online
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
