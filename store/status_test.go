package store

import (
	"fmt"
	"testing"
)

// A message's status counts its rows where the senders leave them: in
// the outbox (queued), among the dead letters, and as verdicts recorded
// with the outbox delete (sent, invalid, expired). The failures list the
// dead letters and invalid tokens in vendor order, page by page. The
// counts survive a reopen, and the verdicts go with the message when it
// expires.
func TestMessageStatusAndFailures(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	var offline []Recipient
	var users []string
	for i := range 6 {
		u := fmt.Sprint("u", i)
		mustBind(t, s, u, "hw", Device{Vendor: "huawei", Token: "h" + u})
		mustBind(t, s, u, "mi", Device{Vendor: "xiaomi", Token: "x" + u})
		users = append(users, u)
	}
	rs, err := s.Recipients(users, 1000)
	if err != nil {
		t.Fatal(err)
	}
	offline = append(offline, rs...)
	msg := &Message{MessageID: "m1", From: "amy", ToType: "users", ToIDs: users, HasPush: true, Title: "hi", CreatedAt: 10}
	res, err := s.CommitChunk(Chunk{Message: msg, MessageID: "m1", SentAt: 10, Offline: offline, Push: true, Route: ownVendor})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]Queued{}
	for _, q := range res.Queued {
		by[q.Key.Vendor] = append(by[q.Key.Vendor], q)
	}
	hw, mi := by["huawei"], by["xiaomi"]
	if len(hw) != 6 || len(mi) != 6 {
		t.Fatalf("queued %d huawei, %d xiaomi", len(hw), len(mi))
	}
	// huawei: 2 sent, 1 invalid, 1 expired, 2 dead; xiaomi: 1 invalid, 5 queued.
	done := []Done{
		{Key: hw[0].Key, Outcome: OutcomeSent}, {Key: hw[1].Key, Outcome: OutcomeSent},
		{Key: hw[2].Key, Outcome: OutcomeInvalid, Code: "80300007", Attempts: 1},
		{Key: hw[3].Key, Outcome: OutcomeExpired},
		{Key: mi[4].Key, Outcome: OutcomeInvalid, Code: "20301", Attempts: 2},
	}
	if err := s.OutboxDone(done); err != nil {
		t.Fatal(err)
	}
	dead := []Queued{hw[4], hw[5]}
	for i := range dead {
		dead[i].Entry.LastCode, dead[i].Entry.Attempts = "80300008", 1
	}
	if err := s.DeadLetter(dead); err != nil {
		t.Fatal(err)
	}
	vendors := []string{"huawei", "xiaomi", "vivo"}
	want := map[string]VendorStatus{
		"huawei": {Sent: 2, InvalidTokens: 1, Expired: 1, Dead: 2, FailedByCode: map[string]int64{"80300007": 1, "80300008": 2}},
		"xiaomi": {Queued: 5, InvalidTokens: 1, FailedByCode: map[string]int64{"20301": 1}},
		"vivo":   {FailedByCode: map[string]int64{}},
	}
	check := func(s *Store) {
		t.Helper()
		st, ok, err := s.MessageStatus("m1", vendors)
		if err != nil || !ok || st.FanningOut || st.Message.Title != "hi" {
			t.Fatalf("status: %+v %v %v", st, ok, err)
		}
		if fmt.Sprint(st.Vendors) != fmt.Sprint(want) {
			t.Fatalf("status %v\nwant %v", st.Vendors, want)
		}
	}
	check(s)
	_ = s.Close()
	s = openTest(t, dir)
	defer s.Close()
	check(s)
	if _, ok, err := s.MessageStatus("m-none", vendors); ok || err != nil {
		t.Fatalf("unknown message: %v %v", ok, err)
	}

	// Failures, two per page: huawei u2 (invalid), u4, u5 (dead), then
	// xiaomi u4 (invalid).
	var got []string
	var after []byte
	for page := 0; ; page++ {
		fs, next, err := s.MessageFailures("m1", vendors, after, 2)
		if err != nil || page > 4 {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, f := range fs {
			got = append(got, fmt.Sprintf("%s/%s dead=%v %s %d", f.Key.Vendor, f.Key.UserID, f.Dead, f.Code, f.Attempts))
		}
		if after = next; after == nil {
			break
		}
	}
	wantF := []string{"huawei/u2 dead=false 80300007 1", "huawei/u4 dead=true 80300008 1", "huawei/u5 dead=true 80300008 1", "xiaomi/u4 dead=false 20301 2"}
	if fmt.Sprint(got) != fmt.Sprint(wantF) {
		t.Fatalf("failures %v\nwant %v", got, wantF)
	}

	// The message expires with its verdicts.
	if n, err := s.ExpireMessages(11); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	lower, upper := verdictRange("m1", "")
	left := 0
	s.mu.RLock()
	err = eachKV(s.db, lower, upper, func(_, _ []byte) error { left++; return nil })
	s.mu.RUnlock()
	if err != nil || left != 0 {
		t.Fatalf("%d verdicts left after the message expired (%v)", left, err)
	}
	// Rows of the expired message still held by a sender finish later:
	// they leave the outbox and record nothing for a message not kept.
	if err := s.OutboxDone([]Done{{Key: mi[0].Key, Outcome: OutcomeSent}, {Key: mi[1].Key, Outcome: OutcomeInvalid, Code: "20301"}}); err != nil {
		t.Fatal(err)
	}
	if n := countVerdicts(t, s, "m1"); n != 0 {
		t.Fatalf("%d verdicts recorded for an expired message", n)
	}
}

func countVerdicts(t *testing.T, s *Store, id string) int {
	t.Helper()
	lower, upper := verdictRange(id, "")
	n := 0
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := eachKV(s.db, lower, upper, func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A row finished twice (a resumed fan-out queued it again while the
// sender still held it) counts once, whether the two finishes come in
// one batch, in any order, or in two.
func TestRowFinishedTwiceCountsOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
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
	res, err := s.CommitChunk(Chunk{Message: &Message{MessageID: "m", CreatedAt: 1}, MessageID: "m", Offline: rs, Push: true, Route: ownVendor})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Queued
	sent := func(i int) Done { return Done{Key: q[i].Key, Outcome: OutcomeSent} }
	invalid := Done{Key: q[3].Key, Outcome: OutcomeInvalid, Code: "80300007", Attempts: 1}
	if err := s.OutboxDone([]Done{sent(1), sent(0), sent(1), invalid, sent(0), invalid}); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxDone([]Done{sent(0), sent(2), sent(2), invalid}); err != nil {
		t.Fatal(err)
	}
	st, _, err := s.MessageStatus("m", []string{"huawei"})
	if err != nil {
		t.Fatal(err)
	}
	want := VendorStatus{Sent: 3, InvalidTokens: 1, FailedByCode: map[string]int64{"80300007": 1}}
	if fmt.Sprint(st.Vendors["huawei"]) != fmt.Sprint(want) {
		t.Fatalf("status %+v, want %+v", st.Vendors["huawei"], want)
	}
}
