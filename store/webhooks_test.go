package store

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func hookRows(t *testing.T, s *Store, endpoint string) []HookEvent {
	t.Helper()
	evs, err := s.WebhookPending(endpoint, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func deadRow(id, user string) Queued {
	return Queued{Key: OutboxKey{Vendor: "fcm", RowID: RowID{ID: id}, UserID: user, DeviceID: "d"}, Entry: OutboxEntry{Token: "t-" + user, LastCode: "X"}}
}

// Without routes no event is written (the hot path pays one atomic load);
// with them each event goes to every endpoint that takes its type, and
// only there.
func TestWebhookRoutes(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	if err := s.DeadLetter([]Queued{deadRow("m0", "u0")}); err != nil {
		t.Fatal(err)
	}
	if n := len(hookRows(t, s, "a")); n != 0 {
		t.Fatalf("%d events written with no routes", n)
	}
	s.SetWebhookRoutes(map[string][]string{"a": {EventPushFailed}, "b": {EventPushFailed, EventCallRinging}, "c": {EventCallRinging}})
	if err := s.DeadLetter([]Queued{deadRow("m1", "u1"), deadRow("m1", "u2")}); err != nil {
		t.Fatal(err)
	}
	a, b, c := hookRows(t, s, "a"), hookRows(t, s, "b"), hookRows(t, s, "c")
	if len(a) != 2 || len(b) != 2 || len(c) != 0 {
		t.Fatalf("events a=%d b=%d c=%d, want 2, 2, 0", len(a), len(b), len(c))
	}
	if a[0].ID != b[0].ID || a[0].ID == a[1].ID {
		t.Fatalf("one event has one id at every endpoint, two events two: %s %s %s", a[0].ID, b[0].ID, a[1].ID)
	}
	var d PushFailedData
	if err := json.Unmarshal(a[1].Data, &d); err != nil || d.UserID != "u2" || d.Reason != "dead_letter" || d.Code != "X" {
		t.Fatalf("data %s: %v", a[1].Data, err)
	}
	select {
	case <-s.WebhookKick():
	default:
		t.Fatal("no kick after events were written")
	}
	if err := s.WebhookDelivered("a", a); err != nil {
		t.Fatal(err)
	}
	if n := len(hookRows(t, s, "a")); n != 0 || len(hookRows(t, s, "b")) != 2 {
		t.Fatal("delivering to one endpoint touched another")
	}
	s.SetWebhookRoutes(nil)
	if err := s.DeadLetter([]Queued{deadRow("m2", "u3")}); err != nil {
		t.Fatal(err)
	}
	if n := len(hookRows(t, s, "b")); n != 2 {
		t.Fatalf("%d events at b after the routes were cleared, want the 2 from before", n)
	}
	if _, err := s.WebhookDead("a", "evt_nothex", 1); err == nil {
		t.Fatal("a bad cursor was taken")
	}
}

// A message's completion is told once it has no job and no queued row,
// with its counts; one whose message expired loses its watch silently;
// a replayed dead letter makes it settle, and be told, again.
func TestSweepWatchesMessageCompleted(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetWebhookRoutes(map[string][]string{"a": {EventMessageCompleted}})
	m := Message{MessageID: "m1", From: "amy", ToType: "peer", ToID: "bob", CreatedAt: now.UnixMilli(), HasPush: true}
	route := func(d Device) (Route, bool) { return Route{Vendor: d.Vendor, Token: d.Token}, true }
	res, err := s.CommitChunk(Chunk{MessageID: "m1", Message: &m, Push: true, Route: route,
		Offline: []Recipient{{UserID: "bob", Devices: []BoundDevice{{DeviceID: "d1", Device: Device{Vendor: "fcm", Token: "t1"}}, {DeviceID: "d2", Device: Device{Vendor: "fcm", Token: "t2"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Queued) != 2 {
		t.Fatalf("queued %d rows", len(res.Queued))
	}
	vendors := []string{"apns", "fcm"}
	if n, _, err := s.SweepWatches(vendors, time.Second, 100); err != nil || n != 0 {
		t.Fatalf("sweep with rows queued: %d %v", n, err)
	}
	if err := s.OutboxDone([]Done{{Key: res.Queued[0].Key, Outcome: OutcomeSent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter(res.Queued[1:]); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.SweepWatches(vendors, time.Second, 100); err != nil || n != 1 {
		t.Fatalf("sweep after the last row left: %d %v", n, err)
	}
	if n, _, _ := s.SweepWatches(vendors, time.Second, 100); n != 0 {
		t.Fatal("a message was told complete twice")
	}
	evs := hookRows(t, s, "a")
	var d MessageCompletedData
	if len(evs) != 1 || json.Unmarshal(evs[0].Data, &d) != nil || d.MessageID != "m1" || d.Vendors["fcm"].Sent != 1 || d.Vendors["fcm"].Dead != 1 ||
		d.Totals.Sent != 1 || d.To["id"] != "bob" || len(d.Vendors) != 1 {
		t.Fatalf("events %+v data %+v", evs, d)
	}
	if _, _, err := s.ReplayDead("fcm", DeadFilter{ID: "m1"}, 10); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.SweepWatches(vendors, time.Second, 100); n != 0 {
		t.Fatal("told complete with the replayed row queued")
	}
	if err := s.OutboxDone([]Done{{Key: res.Queued[1].Key, Outcome: OutcomeSent}}); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.SweepWatches(vendors, time.Second, 100); n != 1 {
		t.Fatal("not told again after the replay settled")
	}
	// A message that expired before it settled: its watch goes, no event.
	m2 := Message{MessageID: "m2", CreatedAt: now.UnixMilli()}
	if _, err := s.CommitChunk(Chunk{MessageID: "m2", Message: &m2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireMessages(now.Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	before := len(hookRows(t, s, "a"))
	if n, _, err := s.SweepWatches(vendors, time.Second, 100); err != nil || n != 0 || len(hookRows(t, s, "a")) != before {
		t.Fatalf("an expired message was told: %d %v", n, err)
	}
}

// Many watches, few looks per pass: each pass goes on where the last
// stopped, a limit that ends exactly at the last watch of a kind breaks
// nothing, and every message is told complete once. Receipts are told
// once receiptDelay has passed since the first arrival not yet told, with
// the count so far, and a later arrival makes another event.
func TestSweepWatchesPagesAndReceipts(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock, Receipts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetWebhookRoutes(map[string][]string{"a": {EventMessageCompleted, EventReceiptDelivered}})
	route := func(d Device) (Route, bool) { return Route{Vendor: d.Vendor, Token: d.Token}, true }
	const messages = 4
	var rows []Queued
	for i := range messages {
		m := Message{MessageID: fmt.Sprintf("m%d", i), CreatedAt: now.UnixMilli(), HasPush: true}
		res, err := s.CommitChunk(Chunk{MessageID: m.MessageID, Message: &m, Push: true, Route: route,
			Offline: []Recipient{{UserID: "bob", Devices: []BoundDevice{{DeviceID: "d", Device: Device{Vendor: "huawei", Token: "tok"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, res.Queued...)
	}
	for _, q := range rows {
		if err := s.OutboxDone([]Done{{Key: q.Key, Outcome: OutcomeSent}}); err != nil {
			t.Fatal(err)
		}
	}
	// Arrivals for m0 and m1.
	for _, id := range []string{"m0", "m1"} {
		if c, err := s.RecordArrivals("huawei", []Arrival{{Ref: s.ReceiptRef(id), Token: "tok"}}); err != nil || c.New != 1 {
			t.Fatalf("arrival %s: %+v %v", id, c, err)
		}
	}
	vendors := []string{"huawei"}
	total := 0
	for pass := 0; pass < 10; pass++ {
		n, _, err := s.SweepWatches(vendors, 10*time.Second, messages) // ends exactly at the last completion watch
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		total += n
	}
	if total != messages {
		t.Fatalf("%d events before the receipt delay, want %d message.completed", total, messages)
	}
	now = now.Add(10 * time.Second)
	for pass := 0; pass < 4; pass++ {
		n, _, err := s.SweepWatches(vendors, 10*time.Second, 1) // one look per kind and pass
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		total += n
	}
	if total != messages+2 {
		t.Fatalf("%d events, want %d message.completed and 2 receipt.delivered", total, messages)
	}
	// m0's second device arrives later: told again, with both.
	if c, err := s.RecordArrivals("huawei", []Arrival{{Ref: s.ReceiptRef("m0"), Token: "tok2"}}); err != nil || c.New != 1 {
		t.Fatalf("second arrival: %+v %v", c, err)
	}
	now = now.Add(10 * time.Second)
	if n, _, err := s.SweepWatches(vendors, 10*time.Second, 10); err != nil || n != 1 {
		t.Fatalf("after the second arrival: %d %v", n, err)
	}
	byType := map[string][]HookEvent{}
	for _, e := range hookRows(t, s, "a") {
		byType[e.Type] = append(byType[e.Type], e)
	}
	done := map[string]bool{}
	for _, e := range byType[EventMessageCompleted] {
		var d MessageCompletedData
		if err := json.Unmarshal(e.Data, &d); err != nil || done[d.MessageID] {
			t.Fatalf("message.completed %s told twice or unreadable: %v", e.Data, err)
		}
		done[d.MessageID] = true
	}
	var got []string
	for _, e := range byType[EventReceiptDelivered] {
		var d ReceiptDeliveredData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s:%d", d.MessageID, d.Total))
	}
	// m0's second arrival names a token it was never sent to: delivered
	// stays at sent (1).
	if want := "m0:1 m1:1 m0:1"; strings.Join(got, " ") != want {
		t.Fatalf("receipt.delivered %q, want %q", strings.Join(got, " "), want)
	}
}
