package store

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
)

// Arrival receipts count once per (message, vendor, token), whatever a
// vendor repeats; a reference that names no kept message counts nothing;
// the counts survive a reopen (the receipt key too, so references stay
// the same) and go with the message when it expires; the failures
// listing never shows an arrival mark.
func TestArrivalsCountOncePerDevice(t *testing.T) {
	dir := t.TempDir()
	open := func() *Store {
		s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Receipts: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	var users []string
	for i := range 4 {
		u := fmt.Sprint("u", i)
		mustBind(t, s, u, "hw", Device{Vendor: "huawei", Token: "h" + u})
		users = append(users, u)
	}
	rs, err := s.Recipients(users, 1000)
	if err != nil {
		t.Fatal(err)
	}
	msg := &Message{MessageID: "m1", ToType: "users", ToIDs: users, HasPush: true, Title: "hi", CreatedAt: 10}
	res, err := s.CommitChunk(Chunk{Message: msg, MessageID: "m1", SentAt: 10, Offline: rs, Push: true, Route: ownVendor})
	if err != nil {
		t.Fatal(err)
	}
	var done []Done
	for _, q := range res.Queued {
		done = append(done, Done{Key: q.Key, Outcome: OutcomeSent})
	}
	done[3] = Done{Key: res.Queued[3].Key, Outcome: OutcomeInvalid, Code: "80300007", Attempts: 1}
	if err := s.OutboxDone(done); err != nil {
		t.Fatal(err)
	}
	ref := s.ReceiptRef("m1")
	if len(ref) != 16 || ref == s.ReceiptRef("m2") {
		t.Fatalf("refs %q, %q", ref, s.ReceiptRef("m2"))
	}
	c, err := s.RecordArrivals("huawei", []Arrival{{ref, "hu0"}, {ref, "hu1"}, {ref, "hu0"}, {"AAAAAAAAAAAAAAAA", "hu2"}, {"short", "hu2"}})
	if err != nil || c != (ArrivalCounts{New: 2, Duplicate: 1, Unmatched: 2}) {
		t.Fatalf("first receipt: %+v %v", c, err)
	}
	c, err = s.RecordArrivals("huawei", []Arrival{{ref, "hu1"}, {ref, "hu2"}})
	if err != nil || c != (ArrivalCounts{New: 1, Duplicate: 1}) {
		t.Fatalf("repeated receipt: %+v %v", c, err)
	}
	check := func(s *Store) {
		t.Helper()
		st, ok, err := s.MessageStatus("m1", []string{"huawei"})
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if hw := st.Vendors["huawei"]; hw.Sent != 3 || hw.Delivered != 3 || hw.InvalidTokens != 1 {
			t.Fatalf("status %+v", hw)
		}
		fs, next, err := s.MessageFailures("m1", []string{"huawei"}, nil, 10)
		if err != nil || next != nil || len(fs) != 1 || fs[0].Key.UserID != "u3" {
			t.Fatalf("failures %+v %q %v", fs, next, err)
		}
	}
	check(s)
	_ = s.Close()
	s = open()
	defer s.Close()
	check(s)
	if s.ReceiptRef("m1") != ref {
		t.Fatal("the receipt reference changed across a reopen")
	}
	if n, err := s.ExpireMessages(11); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if n := countVerdicts(t, s, "m1"); n != 0 {
		t.Fatalf("%d verdicts and marks left after the message expired", n)
	}
	if _, ok, _ := s.get(receiptRefKey(ref)); ok {
		t.Fatal("the receipt reference outlived its message")
	}
	c, err = s.RecordArrivals("huawei", []Arrival{{ref, "hu0"}})
	if err != nil || c != (ArrivalCounts{Unmatched: 1}) {
		t.Fatalf("receipt for an expired message: %+v %v", c, err)
	}
}

// Without Options.Receipts a message carries no reference and gets no
// R/ entry.
func TestNoReceiptsNoReference(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	if ref := s.ReceiptRef("m1"); ref != "" {
		t.Fatalf("ref %q with receipts off", ref)
	}
	if _, err := s.CommitChunk(Chunk{Message: &Message{MessageID: "m1", HasPush: true}, MessageID: "m1"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.mu.RLock()
	err := eachKV(s.db, []byte(tagReceiptRef), []byte("R0"), func(_, _ []byte) error { n++; return nil })
	s.mu.RUnlock()
	if err != nil || n != 0 {
		t.Fatalf("%d receipt references written with receipts off (%v)", n, err)
	}
}
