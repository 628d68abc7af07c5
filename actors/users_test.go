package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
)

type harness struct {
	users *Users
	store *store.Store
	clock *testutil.Clock
}

func newHarness(t *testing.T, dir string, shards int) *harness {
	t.Helper()
	return newHarnessWith(t, dir, shards, nil)
}

// newHarnessWith is newHarness with loaded (if not nil) as Deps.loaded.
func newHarnessWith(t *testing.T, dir string, shards int, loaded func(*user)) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(dir, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	clock := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := NewUsers(sys, &Deps{Store: st, Clock: clock, Logger: log, loaded: loaded}, UsersConfig{
		Shards: shards, IdleTimeout: time.Minute, SweepInterval: time.Hour, RequestTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{users: u, store: st, clock: clock}
	t.Cleanup(func() {
		u.Stop()
		sys.Shutdown()
		_ = st.Close()
	})
	return h
}

// waitFor waits for what must happen (testutil.WaitFor with a bound far
// above any wait these tests have).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, cond, what)
}

func TestPassivateAndReactivate(t *testing.T) {
	h := newHarness(t, t.TempDir(), 4)
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "u1", "d1", store.Device{Vendor: "fcm", Token: "tok"}); err != nil {
		t.Fatal(err)
	}
	if err := h.users.SetBadge(ctx, "u1", 5); err != nil {
		t.Fatal(err)
	}
	if got := h.users.Active(); got != 0 {
		t.Fatalf("active after writes only = %d, want 0", got)
	}
	if _, err := h.users.Get(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if got := h.users.Active(); got != 1 {
		t.Fatalf("active after a read = %d, want 1", got)
	}
	// Not idle long enough: the sweep keeps it.
	h.clock.Advance(59 * time.Second)
	h.users.Sweep()
	if got := h.users.Active(); got != 1 {
		t.Fatalf("active after early sweep = %d, want 1", got)
	}
	h.clock.Advance(time.Second)
	h.users.Sweep()
	waitFor(t, "passivation", func() bool { return h.users.Active() == 0 })

	v, err := h.users.Get(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Devices) != 1 || v.Devices[0].PushID != "fcm:tok" || v.Badge != 5 {
		t.Fatalf("state after reactivation: %+v", v)
	}
	if got := h.users.Active(); got != 1 {
		t.Fatalf("active after reactivation = %d, want 1", got)
	}
}

// The idle sweep runs on the injected clock: moving it passivates an
// actor idle for idle_timeout at the first sweep after that, with no
// explicit Sweep, and not at the sweeps before.
func TestSweepTickerRunsOnTheClock(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(t.TempDir(), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	clock := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := NewUsers(sys, &Deps{Store: st, Clock: clock, Logger: log}, UsersConfig{
		Shards: 2, IdleTimeout: time.Minute, SweepInterval: 10 * time.Second, RequestTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		u.Stop()
		sys.Shutdown()
		_ = st.Close()
	})
	if _, err := u.Get(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	// Sweeps at 10s … 50s: not idle long enough. A sweep returns once its
	// stops are issued, so none is under way when Advance returns.
	clock.Advance(59 * time.Second)
	if st := u.shardStats(); st.live != 1 || st.stopping != 0 {
		t.Fatalf("after 59s: %+v, want the actor live and none stopping", st)
	}
	clock.Advance(time.Second) // the sweep at 60s
	waitFor(t, "passivation by the sweep at 60s", func() bool { return u.Active() == 0 })
}

// TestNoMessageLostWhilePassivating hammers users with requests while every
// actor is being passivated over and over: each request must be answered.
func TestNoMessageLostWhilePassivating(t *testing.T) {
	h := newHarness(t, t.TempDir(), 2)
	ctx := context.Background()
	const users, perUser = 20, 60
	stop := make(chan struct{})
	var sweeps sync.WaitGroup
	sweeps.Add(1)
	go h.passivateUntil(stop, &sweeps)
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("user-", i)
			for n := range perUser {
				if err := h.users.SetBadge(ctx, id, int64(n)); err != nil {
					t.Errorf("%s: set badge %d: %v", id, n, err)
					return
				}
				v, err := h.users.Get(ctx, id)
				if err != nil || v.Badge != int64(n) {
					t.Errorf("%s: badge %d after set %d (err %v)", id, v.Badge, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	sweeps.Wait()
}

func TestMoveUpdatesOtherUser(t *testing.T) {
	h := newHarness(t, t.TempDir(), 4)
	ctx := context.Background()
	tok := store.Device{Vendor: "huawei", Token: "shared"}
	if _, err := h.users.BindDevice(ctx, "alice", "p", tok); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.users.Get(ctx, "alice"); len(v.Devices) != 1 {
		t.Fatalf("alice before: %+v", v)
	}
	res, err := h.users.BindDevice(ctx, "bob", "p", tok)
	if err != nil || res.MovedFrom == nil || res.MovedFrom.UserID != "alice" {
		t.Fatalf("move: %+v %v", res, err)
	}
	if v, _ := h.users.Get(ctx, "alice"); len(v.Devices) != 0 {
		t.Fatalf("alice still shows the moved device: %+v", v)
	}
	// Same user, other device: the first device loses it.
	if _, err := h.users.BindDevice(ctx, "bob", "q", tok); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.users.Get(ctx, "bob"); len(v.Devices) != 1 || v.Devices[0].DeviceID != "q" {
		t.Fatalf("bob after own move: %+v", v)
	}
}

func TestPresenceLeaseLapses(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, 4)
	ctx := context.Background()
	res, err := h.users.ApplyPresence(ctx, []PresenceUpdate{
		{UserID: "u", DeviceID: "d1", Online: true, TTLMs: 90_000},
		{UserID: "v", DeviceID: "d1", Online: true, TTLMs: 30_000},
		{UserID: "v", DeviceID: "d1", Online: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 3 || len(res.CameOnline) != 1 || res.CameOnline[0].UserID != "u" {
		t.Fatalf("presence result: %+v", res)
	}
	// Renewal of an online user is not "came online".
	res, _ = h.users.ApplyPresence(ctx, []PresenceUpdate{{UserID: "u", DeviceID: "d2", Online: true, TTLMs: 1000}})
	if len(res.CameOnline) != 0 {
		t.Fatalf("renewal reported came online: %+v", res)
	}
	h.clock.Advance(89 * time.Second)
	if v, _ := h.users.Get(ctx, "u"); !v.Online {
		t.Fatal("offline before the lease ends")
	}
	h.clock.Advance(time.Second)
	if v, _ := h.users.Get(ctx, "u"); v.Online {
		t.Fatalf("online after the lease ended: %+v", v)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, 2)
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "u", "d", store.Device{Vendor: "apns", Token: "ab"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.users.ApplyPresence(ctx, []PresenceUpdate{{UserID: "u", DeviceID: "d", Online: true, TTLMs: 3_600_000}}); err != nil {
		t.Fatal(err)
	}
	h.users.Stop()
	_ = h.store.Close()

	h2 := newHarness(t, dir, 3) // a different shard count still finds everyone
	h2.clock.Advance(time.Minute)
	v, err := h2.users.Get(ctx, "u")
	if err != nil || !v.Online || len(v.Devices) != 1 {
		t.Fatalf("after restart: %+v %v", v, err)
	}
}

func TestDevicesAndRememberEnv(t *testing.T) {
	h := newHarness(t, t.TempDir(), 2)
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "u", "b", store.Device{Vendor: "apns", Token: "t1", APNsEnv: "automatic"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.users.BindDevice(ctx, "u", "a", store.Device{Vendor: "fcm", Token: "t2"}); err != nil {
		t.Fatal(err)
	}
	if err := h.users.RememberAPNsEnv(ctx, "u", "b", "t1", "development"); err != nil {
		t.Fatal(err)
	}
	// A stale token is ignored.
	if err := h.users.RememberAPNsEnv(ctx, "u", "b", "old", "production"); err != nil {
		t.Fatal(err)
	}
	devs, err := h.users.Devices(ctx, "u")
	if err != nil || len(devs) != 2 || devs[0].DeviceID != "a" || devs[1].Device.ResolvedEnv != "development" {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	if d, _, _ := h.store.GetDevice("u", "b"); d.ResolvedEnv != "development" {
		t.Fatalf("stored env: %+v", d)
	}
}

// passivateAll makes every user actor idle past the timeout, sweeps, and
// waits until the shards have seen each one stop.
func (h *harness) passivateAll(t *testing.T) {
	t.Helper()
	h.clock.Advance(time.Hour)
	h.users.Sweep()
	waitFor(t, "passivation", func() bool { return h.users.Active() == 0 && h.users.shardStats().entries == 0 })
}

// TestBatchRegistrationSpawnsNoUserActor: binds (as POST /v1/devices/batch
// sends them) write through the store; no user actor is started and the
// shards keep no entry for the users, yet a later read through an actor
// sees every device.
func TestBatchRegistrationSpawnsNoUserActor(t *testing.T) {
	h := newHarness(t, t.TempDir(), 8)
	ctx := context.Background()
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := store.Device{Vendor: "fcm", Token: fmt.Sprint("tok-", i)}
			if _, err := h.users.BindDevice(ctx, fmt.Sprint("u", i), "d", d); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := h.users.Active(); got != 0 {
		t.Fatalf("user actors after registering %d users = %d, want 0", n, got)
	}
	// Each answer is sent before its write-through reports back to the
	// shard; once the shards have heard every report, nothing is held.
	waitFor(t, "write-throughs to report back", func() bool { return h.users.shardStats() == shardStats{} })
	for _, i := range []int{0, 17, n - 1} {
		devs, err := h.users.Devices(ctx, fmt.Sprint("u", i))
		if err != nil || len(devs) != 1 || devs[0].Device.Token != fmt.Sprint("tok-", i) {
			t.Fatalf("u%d devices through its actor: %+v %v", i, devs, err)
		}
	}
	if got := h.users.Active(); got != 3 {
		t.Fatalf("user actors after 3 reads = %d, want 3", got)
	}
}

// TestWriteToLiveActorKeepsItsCacheCoherent: while a user's actor is alive,
// its writes go through it, so what it serves from its cache is what the
// store holds.
func TestWriteToLiveActorKeepsItsCacheCoherent(t *testing.T) {
	h := newHarness(t, t.TempDir(), 4)
	ctx := context.Background()
	if _, err := h.users.Get(ctx, "u"); err != nil { // activates the actor
		t.Fatal(err)
	}
	if _, err := h.users.BindDevice(ctx, "u", "a", store.Device{Vendor: "vivo", Token: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.users.BindDevice(ctx, "u", "b", store.Device{Vendor: "apns", Token: "a1", APNsEnv: "automatic"}); err != nil {
		t.Fatal(err)
	}
	if err := h.users.RememberAPNsEnv(ctx, "u", "b", "a1", "production"); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.users.DeleteDevice(ctx, "u", "a"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if got := h.users.Active(); got != 1 {
		t.Fatalf("active = %d, want the one actor", got)
	}
	devs, err := h.users.Devices(ctx, "u")
	if err != nil || len(devs) != 1 || devs[0].DeviceID != "b" || devs[0].Device.ResolvedEnv != "production" {
		t.Fatalf("cached devices: %+v %v", devs, err)
	}
}

// TestBindRacingBatchRegistrationLeavesOneCoherentState races, for one
// user and device, binds of different tokens (write-throughs while the
// user has no actor), reads that activate its actor, and passivations.
// Whatever order they land in, the store ends with one binding for the
// device, indexed by exactly its token, and the actor serves that binding.
func TestBindRacingBatchRegistrationLeavesOneCoherentState(t *testing.T) {
	h := newHarness(t, t.TempDir(), 2)
	ctx := context.Background()
	const binders, rounds = 4, 30
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // reads: activate the actor again and again
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := h.users.Get(ctx, "x"); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	go h.passivateUntil(stop, &bg)
	var wg sync.WaitGroup
	tokens := map[string]bool{}
	for b := range binders {
		for r := range rounds {
			tokens[fmt.Sprintf("t%d-%d", b, r)] = true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if _, err := h.users.BindDevice(ctx, "x", "d", store.Device{Vendor: "huawei", Token: fmt.Sprintf("t%d-%d", b, r)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()

	d, ok, err := h.store.GetDevice("x", "d")
	if err != nil || !ok {
		t.Fatalf("stored device: %v %v", ok, err)
	}
	for tok := range tokens {
		b, held, err := h.store.LookupPushID("huawei", tok)
		if err != nil {
			t.Fatal(err)
		}
		if want := tok == d.Token; held != want || (held && b != (store.Binding{UserID: "x", DeviceID: "d"})) {
			t.Fatalf("token %s indexed=%v (%+v); the device holds %s", tok, held, b, d.Token)
		}
	}
	devs, err := h.users.Devices(ctx, "x")
	if err != nil || len(devs) != 1 || devs[0].Device.Token != d.Token {
		t.Fatalf("actor serves %+v (err %v), store holds %s", devs, err, d.Token)
	}
}

// TestMoveFromPassivatedUser: a token bound by a user whose actor has
// passivated moves to another user; the old owner's next activation does
// not show it, and the move wakes no actor for the old owner.
func TestMoveFromPassivatedUser(t *testing.T) {
	h := newHarness(t, t.TempDir(), 4)
	ctx := context.Background()
	tok := store.Device{Vendor: "xiaomi", Token: "shared"}
	if _, err := h.users.BindDevice(ctx, "alice", "p", tok); err != nil {
		t.Fatal(err)
	}
	if v, err := h.users.Get(ctx, "alice"); err != nil || len(v.Devices) != 1 {
		t.Fatalf("alice before: %+v %v", v, err)
	}
	h.passivateAll(t)
	res, err := h.users.BindDevice(ctx, "bob", "p", tok)
	if err != nil || res.MovedFrom == nil || res.MovedFrom.UserID != "alice" {
		t.Fatalf("move: %+v %v", res, err)
	}
	if got := h.users.Active(); got != 0 {
		t.Fatalf("the move started %d user actors, want 0", got)
	}
	if v, err := h.users.Get(ctx, "alice"); err != nil || len(v.Devices) != 0 {
		t.Fatalf("alice after the move: %+v %v", v, err)
	}
	if v, err := h.users.Get(ctx, "bob"); err != nil || len(v.Devices) != 1 || v.Devices[0].PushID != "xiaomi:shared" {
		t.Fatalf("bob after the move: %+v %v", v, err)
	}
}

// TestSenderHintsOnIdleUserSpawnNoActor: the senders' env hints and
// invalid-token unbinds for users without an actor go to the store
// without starting one.
func TestSenderHintsOnIdleUserSpawnNoActor(t *testing.T) {
	h := newHarness(t, t.TempDir(), 4)
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "u", "i", store.Device{Vendor: "apns", Token: "a1", APNsEnv: "automatic", VoIPToken: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.users.BindDevice(ctx, "w", "f", store.Device{Vendor: "fcm", Token: "f1"}); err != nil {
		t.Fatal(err)
	}
	if err := h.users.RememberAPNsEnv(ctx, "u", "i", "a1", "development"); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.users.UnbindToken(ctx, "u", "i", "apns", "v1"); !ok || err != nil { // the VoIP token only
		t.Fatalf("unbind voip: %v %v", ok, err)
	}
	if ok, err := h.users.UnbindToken(ctx, "w", "f", "fcm", "stale"); ok || err != nil {
		t.Fatalf("unbind of a token the device no longer holds: %v %v", ok, err)
	}
	if ok, err := h.users.UnbindToken(ctx, "w", "f", "fcm", "f1"); !ok || err != nil {
		t.Fatalf("unbind: %v %v", ok, err)
	}
	if got := h.users.Active(); got != 0 {
		t.Fatalf("user actors = %d, want 0", got)
	}
	if d, ok, _ := h.store.GetDevice("u", "i"); !ok || d.ResolvedEnv != "development" || d.VoIPToken != "" || d.Token != "a1" {
		t.Fatalf("stored apns device: %+v %v", d, ok)
	}
	if _, ok, _ := h.store.GetDevice("w", "f"); ok {
		t.Fatal("invalid fcm token still bound")
	}
}

// TestPassivatedUserActorIsCollected: once a user actor has passivated,
// nothing keeps it (or its cached state) reachable. protoactor's child set
// used to, which kept every passivated user's memory for good.
func TestPassivatedUserActorIsCollected(t *testing.T) {
	var mu sync.Mutex
	var started []weak.Pointer[user]
	h := newHarnessWith(t, t.TempDir(), 2, func(u *user) {
		mu.Lock()
		started = append(started, weak.Make(u))
		mu.Unlock()
	})
	ctx := context.Background()
	for i := range 50 {
		if _, err := h.users.ApplyPresence(ctx, []PresenceUpdate{{UserID: fmt.Sprint("u", i), DeviceID: "d", Online: true, TTLMs: 60_000}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.users.Active(); got != 50 {
		t.Fatalf("active = %d, want 50", got)
	}
	h.passivateAll(t)
	runtime.GC()
	runtime.GC()
	mu.Lock()
	defer mu.Unlock()
	alive := 0
	for _, w := range started {
		if w.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Fatalf("%d of %d passivated user actors are still reachable", alive, len(started))
	}
}

// TestStopAnswersEveryRequest: Stop waits for the user actors and the
// write-throughs in flight; requests after it get ErrStopped, not a
// timeout.
func TestStopAnswersEveryRequest(t *testing.T) {
	h := newHarness(t, t.TempDir(), 2)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("u", i)
			if _, err := h.users.BindDevice(ctx, id, "d", store.Device{Vendor: "oppo", Token: id}); err != nil && !errors.Is(err, ErrStopped) {
				t.Errorf("%s: %v", id, err)
			}
			if _, err := h.users.Get(ctx, id); err != nil && !errors.Is(err, ErrStopped) {
				t.Errorf("%s: %v", id, err)
			}
		}()
	}
	h.users.Stop()
	wg.Wait()
	if got := h.users.Active(); got != 0 {
		t.Fatalf("active after Stop = %d", got)
	}
	if _, err := h.users.Get(ctx, "late"); !errors.Is(err, ErrStopped) {
		t.Fatalf("after Stop: %v", err)
	}
}

// TestSweepStopsIdleActorsInWaves: a sweep that finds many idle actors
// tells at most maxStopping per shard to stop at a time (each stopping
// actor runs on its own goroutine) and stops the rest as those report
// back, until none is left.
func TestSweepStopsIdleActorsInWaves(t *testing.T) {
	h := newHarness(t, t.TempDir(), 1)
	ctx := context.Background()
	const n = 5 * maxStopping
	for i := range n {
		if _, err := h.users.Get(ctx, fmt.Sprint("u", i)); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Advance(time.Hour)
	h.users.Sweep()
	st := h.users.shardStats()
	if st.stopping > maxStopping || st.stopping+st.queued > n {
		t.Fatalf("right after the sweep: %+v (at most %d stopping)", st, maxStopping)
	}
	waitFor(t, "every idle actor to stop", func() bool {
		st := h.users.shardStats()
		if st.stopping > maxStopping {
			t.Fatalf("%d stopping at once, at most %d allowed", st.stopping, maxStopping)
		}
		return st == shardStats{}
	})
	if got := h.users.Active(); got != 0 {
		t.Fatalf("active = %d", got)
	}
}

// passivateUntil passivates every idle user again and again (an hour of
// the clock each time) until stop closes, then marks wg done.
func (h *harness) passivateUntil(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		default:
			h.clock.Advance(time.Hour)
			h.users.Sweep()
		}
	}
}
