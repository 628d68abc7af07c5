package store

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeDisk is a data directory's free space and a clock, both set by the
// test.
type fakeDisk struct {
	mu     sync.Mutex
	free   uint64
	now    time.Time
	checks int
}

func (f *fakeDisk) Free() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return f.free, nil
}

func (f *fakeDisk) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeDisk) set(free uint64, advance time.Duration) {
	f.mu.Lock()
	f.free = free
	f.now = f.now.Add(advance)
	f.mu.Unlock()
}

func (f *fakeDisk) measured() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks
}

func TestStorageBelowWatermarkRefusesGrowingWritesAndKeepsDeletesAndReads(t *testing.T) {
	const minFree = 64 << 20
	disk := &fakeDisk{free: 1 << 30, now: time.Unix(1_800_000_000, 0)}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MinFree: minFree, FreeSpace: disk.Free, Now: disk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustBind(t, s, "bob", "hw", Device{Vendor: "huawei", Token: "h1"})
	mustBind(t, s, "bob", "mi", Device{Vendor: "xiaomi", Token: "x1"})
	if _, err := s.UpdateGroup("g", []string{"bob", "amy"}, nil); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Recipients([]string{"bob"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(id string) Chunk {
		return Chunk{Message: &Message{MessageID: id, ToType: "peer", ToID: "bob", HasPush: true, Title: "hi"},
			MessageID: id, SentAt: 5, Offline: rs, Inbox: true, Push: true, Route: ownVendor}
	}
	res, err := s.CommitChunk(chunk("m1"))
	if err != nil {
		t.Fatal(err)
	}

	// The disk fills (by someone else). Within the measuring interval the
	// store still uses its last measurement; after it, it refuses.
	disk.set(minFree-1, spaceCheckEvery-time.Nanosecond)
	if _, err := s.CommitChunk(chunk("m2")); err != nil {
		t.Fatalf("a write before the next measurement is due: %v", err)
	}
	disk.set(minFree-1, time.Nanosecond)
	_, err = s.CommitChunk(chunk("m3"))
	var low *StorageLowError
	if !errors.As(err, &low) || !errors.Is(err, ErrStorageLow) || low.Free != minFree-1 || low.MinFree != minFree {
		t.Fatalf("message below the watermark: err %v", err)
	}
	if _, ok, err := s.GetMessage("m3"); ok || err != nil {
		t.Fatalf("the refused message was written (ok %v, err %v)", ok, err)
	}
	if _, err := s.BindDevice("amy", "ios", Device{Vendor: "apns", Token: "a1"}); !errors.Is(err, ErrStorageLow) {
		t.Fatalf("new device below the watermark: err %v", err)
	}
	if _, ok, _ := s.GetDevice("amy", "ios"); ok {
		t.Fatal("the refused device was bound")
	}
	if _, err := s.UpdateGroup("g", []string{"cy"}, []string{"amy"}); !errors.Is(err, ErrStorageLow) {
		t.Fatalf("adding a member below the watermark: err %v", err)
	}
	if n, err := s.GroupSize("g"); err != nil || n != 2 {
		t.Fatalf("group after a refused add-and-remove: %d members, err %v (want 2: nothing half-applied)", n, err)
	}
	if sp := s.Space(); !sp.Low || sp.Free != minFree-1 || sp.MinFree != minFree {
		t.Fatalf("space: %+v", sp)
	}

	// What frees or keeps space goes on: verdicts, removals, reads.
	if err := s.OutboxDone([]Done{{Key: res.Queued[0].Key, Outcome: OutcomeSent}}); err != nil {
		t.Fatalf("verdict below the watermark: %v", err)
	}
	if err := s.DeadLetter(res.Queued[1:]); err != nil {
		t.Fatalf("dead letter below the watermark: %v", err)
	}
	if ch, err := s.UpdateGroup("g", nil, []string{"amy"}); err != nil || ch.Removed != 1 {
		t.Fatalf("removing a member below the watermark: %+v, err %v", ch, err)
	}
	if ok, err := s.DeleteDevice("bob", "mi"); err != nil || !ok {
		t.Fatalf("deleting a device below the watermark: ok %v, err %v", ok, err)
	}
	if _, ok, err := s.GetMessage("m1"); !ok || err != nil {
		t.Fatalf("reading below the watermark: ok %v, err %v", ok, err)
	}

	// Space comes back: the next measurement lets writes in again, with no
	// restart and nothing to reset.
	disk.set(minFree, spaceCheckEvery)
	if _, err := s.CommitChunk(chunk("m3")); err != nil {
		t.Fatalf("message after space came back: %v", err)
	}
	if sp := s.Space(); sp.Low {
		t.Fatalf("space after it came back: %+v", sp)
	}
}

func TestStorageFreeSpaceIsMeasuredOncePerInterval(t *testing.T) {
	disk := &fakeDisk{free: 1 << 30, now: time.Unix(1_800_000_000, 0)}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MinFree: 1 << 20, FreeSpace: disk.Free, Now: disk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 100 {
		mustBind(t, s, "u", "d", Device{Vendor: "fcm", Token: "t" + string(rune('a'+i%26))})
	}
	if n := disk.measured(); n != 1 {
		t.Fatalf("measured %d times for 100 writes within one interval, want 1", n)
	}
	disk.set(1<<30, spaceCheckEvery)
	mustBind(t, s, "u", "d", Device{Vendor: "fcm", Token: "next"})
	if n := disk.measured(); n != 2 {
		t.Fatalf("measured %d times after the interval passed, want 2", n)
	}
}

func TestStorageWithoutWatermarkNeverRefuses(t *testing.T) {
	disk := &fakeDisk{free: 0, now: time.Unix(1_800_000_000, 0)}
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FreeSpace: disk.Free, Now: disk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustBind(t, s, "u", "d", Device{Vendor: "fcm", Token: "t"})
	if sp := s.Space(); sp.Low || sp.MinFree != 0 {
		t.Fatalf("space without a watermark: %+v", sp)
	}
}
