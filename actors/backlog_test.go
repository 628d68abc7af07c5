package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// A peer message whose vendor already holds max_queued rows of complete
// messages waiting is refused before anything is written, and accepted
// again once the vendor has taken some: backpressure, not a backlog
// without bound. Rows of a group fan-out never count (they wait in the
// outbox).
func TestDispatcherRefusesPeerMessagesWhileTheirVendorIsBacklogged(t *testing.T) {
	client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, gate: make(chan struct{})}
	cfg := baseSenderConfig()
	cfg.BatchSize, cfg.MaxInFlight, cfg.MaxQueued = 1, 1, 3 // queue limit max(3, 2×1×1) = 3
	h := newSenderHarness(t, client, cfg)
	t.Cleanup(func() { close(client.gate) })
	d := NewDispatcher(h.store, h.users, h.senders, h.clock, slog.New(slog.NewTextHandler(io.Discard, nil)),
		DispatchConfig{ChunkSize: 100, MaxJobs: 1, InboxCap: 100})
	defer d.Stop()
	ctx := context.Background()
	if _, err := h.users.BindDevice(ctx, "bob", "d", store.Device{Vendor: "huawei", Token: "tok-bob"}); err != nil {
		t.Fatal(err)
	}
	submit := func(i int) error {
		_, err := d.Submit(ctx, store.Message{MessageID: fmt.Sprint("m", i), ToType: "peer", ToID: "bob", From: "al",
			Body: []byte(`{}`), HasPush: true, Title: "hi"})
		return err
	}
	if err := submit(0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "m0 at the vendor", func() bool { s, _, _, _ := client.snapshot(); return len(s) == 1 })
	for i := 1; i <= 3; i++ { // three wait behind it: the limit
		if err := submit(i); err != nil {
			t.Fatalf("m%d: %v (the queue holds 3)", i, err)
		}
	}
	h.step(t, vendors.Huawei)
	err := submit(4)
	var b *BackloggedError
	if !errors.As(err, &b) || b.Vendor != vendors.Huawei || b.Waiting != 3 {
		t.Fatalf("m4 with 3 waiting: %v; want BackloggedError for huawei, 3 waiting", err)
	}
	if _, ok, err := h.store.GetMessage("m4"); err != nil || ok {
		t.Fatalf("refused m4 is in the store (%v, %v): nothing may be written", ok, err)
	}
	client.gate <- struct{}{} // m0 answers; m1 goes out, two wait
	waitFor(t, "m1 at the vendor", func() bool { s, _, _, _ := client.snapshot(); return len(s) == 2 })
	h.step(t, vendors.Huawei)
	if err := submit(4); err != nil {
		t.Fatalf("m4 after the vendor took one: %v", err)
	}
	// A message without a push, or for a user without devices, owes no
	// vendor anything and is never refused.
	if _, err := d.Submit(ctx, store.Message{MessageID: "silent", ToType: "peer", ToID: "bob", From: "al", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("message without a push: %v", err)
	}
}
