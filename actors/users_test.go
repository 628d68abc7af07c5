package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
)

type harness struct {
	users *Users
	store *store.Store
	clock *ManualClock
}

func newHarness(t *testing.T, dir string, shards int) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(dir, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return log }))
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := NewUsers(sys, &Deps{Store: st, Clock: clock, Logger: log}, UsersConfig{
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

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
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
	if got := h.users.Active(); got != 1 {
		t.Fatalf("active = %d, want 1", got)
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

// TestNoMessageLostWhilePassivating hammers users with requests while every
// actor is being passivated over and over: each request must be answered.
func TestNoMessageLostWhilePassivating(t *testing.T) {
	h := newHarness(t, t.TempDir(), 2)
	ctx := context.Background()
	const users, perUser = 20, 60
	stop := make(chan struct{})
	var sweeps sync.WaitGroup
	sweeps.Add(1)
	go func() {
		defer sweeps.Done()
		for {
			select {
			case <-stop:
				return
			default:
				h.clock.Advance(time.Hour)
				h.users.Sweep()
			}
		}
	}()
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
