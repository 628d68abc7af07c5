package actors

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/store"
)

// ErrBusy means a user actor did not answer in time (overload or shutdown).
var ErrBusy = errors.New("actors: user actor did not answer in time")

// ErrStopped means Users was stopped.
var ErrStopped = errors.New("actors: stopped")

// Deps are what the user actors need from outside.
type Deps struct {
	Store  *store.Store
	Clock  Clock
	Logger *slog.Logger

	active atomic.Int64
	// loaded, when set (tests), is called by every user actor once it has
	// loaded its state.
	loaded func(*user)
}

// UsersConfig tunes the user actors.
type UsersConfig struct {
	Shards         int           // number of shard activators
	IdleTimeout    time.Duration // passivate a user actor after this long without messages
	SweepInterval  time.Duration // how often (on the Clock) shards look for idle actors; 0 = IdleTimeout/4 in [100ms, 30s]
	RequestTimeout time.Duration // how long a caller waits for a user actor
}

// Users routes requests to per-user virtual actors through sharded
// activators. It is safe for concurrent use.
type Users struct {
	system   *actor.ActorSystem
	deps     *Deps
	cfg      UsersConfig
	shards   []*actor.PID
	stopped  atomic.Bool
	stopTick func() // stops the sweep ticker (clock.Every)
	high     int64  // most live actors since memory was last given back (the ticker's)
}

// NewUsers starts the shard activators. deps.Store, Clock and Logger are required.
func NewUsers(system *actor.ActorSystem, deps *Deps, cfg UsersConfig) (*Users, error) {
	if deps.Store == nil || deps.Clock == nil || deps.Logger == nil {
		return nil, errors.New("actors: Deps needs Store, Clock and Logger")
	}
	if cfg.Shards < 1 || cfg.IdleTimeout <= 0 || cfg.RequestTimeout <= 0 {
		return nil, fmt.Errorf("actors: bad UsersConfig %+v", cfg)
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = min(max(cfg.IdleTimeout/4, 100*time.Millisecond), 30*time.Second)
	}
	u := &Users{system: system, deps: deps, cfg: cfg}
	for i := range cfg.Shards {
		pid, err := system.Root.SpawnNamed(newShardProps(deps, int64(cfg.IdleTimeout)), fmt.Sprintf("users-%d", i))
		if err != nil {
			return nil, fmt.Errorf("actors: spawn shard %d: %w", i, err)
		}
		u.shards = append(u.shards, pid)
	}
	u.stopTick = clock.Every(deps.Clock, cfg.SweepInterval, u.tick)
	return u, nil
}

// tick is the sweep ticker's: every SweepInterval of the Clock, the shards
// passivate their idle actors (tick returns once each has issued its
// stops, so on a manual clock each sweep sees its own tick's time).
func (u *Users) tick() {
	// The stops the previous tick issued have mostly completed by now: if
	// they freed many actors, give their memory back.
	u.high = releaseAfterPassivation(u.high, u.Active())
	u.Sweep()
}

// releaseThreshold is how many passivated actors (about 700 bytes of heap
// each, and the garbage their loads made) make it worth returning memory
// to the OS at once.
const releaseThreshold = 10_000

// releaseAfterPassivation returns freed memory to the OS when the number
// of live actors fell by releaseThreshold or more since the high-water
// mark high, and returns the new mark. Without it a daemon that goes
// quiet after a burst keeps the burst's RSS: the garbage is only collected
// by the runtime's two-minute forced GC and the pages are returned to the
// OS slowly after that.
func releaseAfterPassivation(high, live int64) int64 {
	high = max(high, live)
	if high-live < releaseThreshold {
		return high
	}
	debug.FreeOSMemory()
	return live
}

// Sweep makes every shard passivate its idle user actors now and returns
// once each shard has issued its stops (the actors finish asynchronously).
func (u *Users) Sweep() {
	done := make([]chan struct{}, len(u.shards))
	for i, pid := range u.shards {
		done[i] = make(chan struct{})
		u.system.Root.Send(pid, &sweepTick{done: done[i]})
	}
	for _, d := range done {
		<-d
	}
}

// Active is the number of live user actors.
func (u *Users) Active() int64 { return u.deps.active.Load() }

// shardStats sums what the shards hold: users with an entry (not idle),
// with an actor, and write-throughs in flight.
func (u *Users) shardStats() shardStats {
	var sum shardStats
	for _, pid := range u.shards {
		r, err := u.system.Root.RequestFuture(pid, &shardStatsReq{}, u.cfg.RequestTimeout).Result()
		if err != nil {
			return shardStats{entries: -1}
		}
		st, err := replyAs[shardStats](r)
		if err != nil {
			return shardStats{entries: -1}
		}
		sum.entries += st.entries
		sum.live += st.live
		sum.busy += st.busy
		sum.stopping += st.stopping
		sum.queued += st.queued
	}
	return sum
}

// Stop stops the sweep ticker and every shard with its user actors, waiting for
// them to finish what they are processing.
func (u *Users) Stop() {
	if u.stopped.Swap(true) {
		return
	}
	u.stopTick()
	// User actors are not the shards' children (see shard): each shard
	// stops its own and answers once they, and its write-throughs, are done.
	futures := make([]*actor.Future, len(u.shards))
	for i, pid := range u.shards {
		futures[i] = u.system.Root.RequestFuture(pid, &drainReq{}, stopTimeout)
	}
	for i, f := range futures {
		if _, err := f.Result(); err != nil {
			u.deps.Logger.Error("user actors did not stop in time", "shard", i, "err", err)
		}
	}
	for _, pid := range u.shards {
		_ = u.system.Root.PoisonFuture(pid).Wait()
	}
}

// stopTimeout bounds how long Stop waits for a shard's user actors to
// finish the messages they hold.
const stopTimeout = time.Minute

func (u *Users) shardOf(userID string) *actor.PID {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return u.shards[h.Sum32()%uint32(len(u.shards))]
}

// ask sends one request to a user's actor and waits for the answer.
func (u *Users) ask(ctx context.Context, userID string, msg any) (any, error) {
	if u.stopped.Load() {
		return nil, ErrStopped
	}
	timeout, err := askTimeout(ctx, u.cfg.RequestTimeout)
	if err != nil {
		return nil, err
	}
	res, err := u.system.Root.RequestFuture(u.shardOf(userID), &envelope{userID: userID, msg: msg}, timeout).Result()
	if errors.Is(err, actor.ErrTimeout) {
		return nil, ErrBusy
	}
	if errors.Is(err, actor.ErrDeadLetter) {
		return nil, ErrStopped // shards only stop with Users
	}
	if err != nil {
		return nil, fmt.Errorf("actors: %w", err)
	}
	return res, nil
}

// askUser is ask for a request answered with a T (messages.go), checked.
func askUser[T any](ctx context.Context, u *Users, userID string, msg any) (T, error) {
	r, err := u.ask(ctx, userID, msg)
	if err != nil {
		var zero T
		return zero, err
	}
	return replyAs[T](r)
}

// BindDevice binds a push token to a user's device. When the token moves
// away from another user, that user's actor has dropped it before this
// returns, so a read that follows sees the move everywhere.
func (u *Users) BindDevice(ctx context.Context, userID, deviceID string, d store.Device) (store.BindResult, error) {
	rep, err := askUser[bindReply](ctx, u, userID, bindDevice{deviceID: deviceID, device: d})
	if err != nil {
		return store.BindResult{}, err
	}
	if rep.err != nil {
		return rep.res, rep.err
	}
	if mf := rep.res.MovedFrom; mf != nil && mf.UserID != userID {
		if _, err := u.boolAsk(ctx, mf.UserID, reloadDevice{deviceID: mf.DeviceID}); err != nil {
			// The move is durable; the other actor's cache is what lags.
			// It reloads on its next activation; say so and go on.
			u.deps.Logger.Warn("reload after move failed", "user_id", mf.UserID, "err", err)
		}
	}
	return rep.res, nil
}

func (u *Users) boolAsk(ctx context.Context, userID string, msg any) (bool, error) {
	rep, err := askUser[boolReply](ctx, u, userID, msg)
	if err != nil {
		return false, err
	}
	return rep.ok, rep.err
}

// DeleteDevice unbinds one device; ok reports whether it was bound.
func (u *Users) DeleteDevice(ctx context.Context, userID, deviceID string) (bool, error) {
	return u.boolAsk(ctx, userID, deleteDevice{deviceID: deviceID})
}

// Logout clears the binding and presence of one device, or of all the
// user's devices when deviceID is empty.
func (u *Users) Logout(ctx context.Context, userID, deviceID string) error {
	_, err := u.boolAsk(ctx, userID, logout{deviceID: deviceID})
	return err
}

// SetBadge stores the badge count a device reported.
func (u *Users) SetBadge(ctx context.Context, userID string, count int64) error {
	_, err := u.boolAsk(ctx, userID, setBadge{count: count})
	return err
}

// Get returns the user's current view.
func (u *Users) Get(ctx context.Context, userID string) (UserView, error) {
	return askUser[UserView](ctx, u, userID, getUser{})
}

// PresenceResult summarises a presence batch.
type PresenceResult struct {
	Applied    int
	CameOnline []UserView // users offline before the batch and online after
}

// ApplyPresence applies a batch of presence updates. Updates for one user
// go to its actor as one message, in batch order; users run concurrently.
func (u *Users) ApplyPresence(ctx context.Context, updates []PresenceUpdate) (PresenceResult, error) {
	byUser := map[string][]PresenceUpdate{}
	var order []string
	for _, up := range updates {
		if _, seen := byUser[up.UserID]; !seen {
			order = append(order, up.UserID)
		}
		byUser[up.UserID] = append(byUser[up.UserID], up)
	}
	type result struct {
		rep presenceReply
		err error
	}
	results := make([]result, len(order))
	var wg sync.WaitGroup
	for i, id := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := askUser[presenceReply](ctx, u, id, applyPresence{updates: byUser[id]})
			if err == nil {
				results[i].rep = rep
				err = rep.err
			}
			results[i].err = err
		}()
	}
	wg.Wait()
	var out PresenceResult
	var errs []error
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("user %q: %w", order[i], r.err))
			continue
		}
		out.Applied += len(byUser[order[i]])
		if r.rep.online && !r.rep.wasOnline {
			out.CameOnline = append(out.CameOnline, r.rep.view)
		}
	}
	return out, errors.Join(errs...)
}

// Devices returns the user's bound devices with their stored bindings.
func (u *Users) Devices(ctx context.Context, userID string) ([]DeviceRecord, error) {
	rep, err := askUser[devicesReply](ctx, u, userID, getDevices{})
	if err != nil {
		return nil, err
	}
	return rep.devices, rep.err
}

// RememberAPNsEnv records that an automatic APNs token belongs to env, if
// the device still holds token.
func (u *Users) RememberAPNsEnv(ctx context.Context, userID, deviceID, token, env string) error {
	_, err := u.boolAsk(ctx, userID, rememberEnv{deviceID: deviceID, token: token, env: env})
	return err
}

// UnbindToken unbinds a device whose token a vendor declared invalid, if
// the device still holds that token (a VoIP token only loses the VoIP token).
func (u *Users) UnbindToken(ctx context.Context, userID, deviceID, vendor, token string) (bool, error) {
	return u.boolAsk(ctx, userID, unbindToken{deviceID: deviceID, vendor: vendor, token: token})
}
