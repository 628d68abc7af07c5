package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestCommitChunkInboxBadgeOutbox(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	mustBind(t, s, "bob", "ios", Device{Vendor: "apns", Token: "a1", APNsEnv: "automatic", ResolvedEnv: "development"})
	mustBind(t, s, "bob", "hw", Device{Vendor: "huawei", Token: "h1"})
	mustBind(t, s, "amy", "mi", Device{Vendor: "xiaomi", Token: "x1"})
	if err := s.ApplyLeases("amy", map[string]Lease{"mi": {ExpiresAt: 2000}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBadge("bob", 2); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Recipients([]string{"amy", "bob", "nobody"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Online || rs[1].Online || len(rs[1].Devices) != 2 || rs[2].Online || len(rs[2].Devices) != 0 {
		t.Fatalf("recipients: %+v", rs)
	}
	msg := &Message{MessageID: "m1", From: "amy", ToType: "peer", ToID: "bob", Body: []byte(`{"t":1}`), HasPush: true, Title: "hi"}
	res, err := s.CommitChunk(Chunk{Message: msg, MessageID: "m1", SentAt: 5, Offline: rs[1:2], Inbox: true, Push: true, Route: ownVendor, BadgeIncrement: 1, InboxCap: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Queued) != 2 || res.Queued[1].Entry.Badge != 3 || res.Queued[1].Entry.APNsEnv != "development" {
		t.Fatalf("queued: %+v", res.Queued)
	}
	if m, _ := s.UserMeta("bob"); m.Badge != 3 || m.Pending() != 1 {
		t.Fatalf("bob meta: %+v", m)
	}
	// Two more messages with cap 2: the first falls off.
	for i := 2; i <= 3; i++ {
		id := fmt.Sprint("m", i)
		if _, err := s.CommitChunk(Chunk{Message: &Message{MessageID: id}, MessageID: id, SentAt: int64(5 + i), Offline: rs[1:2], Inbox: true, InboxCap: 2}); err != nil {
			t.Fatal(err)
		}
	}
	items, more, err := s.Inbox("bob", 0, 10)
	if err != nil || more || len(items) != 2 || items[0].Entry.MessageID != "m2" || items[1].Seq != 3 || items[1].Message == nil {
		t.Fatalf("inbox: %+v %v %v", items, more, err)
	}
	if left, err := s.AckInbox("bob", 2); err != nil || left != 1 {
		t.Fatalf("ack: %v %v", left, err)
	}
	if items, _, _ := s.Inbox("bob", 0, 10); len(items) != 1 || items[0].Seq != 3 {
		t.Fatalf("after ack: %+v", items)
	}
	if n, err := s.ExpireInbox("bob", 100); err != nil || n != 1 {
		t.Fatalf("expire: %v %v", n, err)
	}
	if m, _ := s.UserMeta("bob"); m.Pending() != 0 {
		t.Fatalf("after expire: %+v", m)
	}
	// Outbox survives a reopen; done rows leave; dead letters are listed.
	var rows []Queued
	_ = s.Close()
	s = openTest(t, dir)
	defer s.Close()
	for _, v := range []string{"apns", "huawei"} {
		if err := s.Outbox(v, func(q Queued) error { rows = append(rows, q); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(rows) != 2 || rows[0].Key != (OutboxKey{Vendor: "apns", RowID: RowID{ID: "m1"}, UserID: "bob", DeviceID: "ios"}) {
		t.Fatalf("outbox after reopen: %+v", rows)
	}
	if err := s.OutboxDone([]Done{{Key: rows[0].Key, Outcome: OutcomeSent}}); err != nil {
		t.Fatal(err)
	}
	rows[1].Entry.LastCode = "81000001"
	if err := s.DeadLetter(rows[1:]); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeadLetters("huawei", nil, 10)
	if err != nil || len(dead) != 1 || dead[0].Entry.LastCode != "81000001" {
		t.Fatalf("dead letters: %+v %v", dead, err)
	}
	left := 0
	_ = s.Outbox("huawei", func(Queued) error { left++; return nil })
	_ = s.Outbox("apns", func(Queued) error { left++; return nil })
	if left != 0 {
		t.Fatalf("%d outbox rows left", left)
	}
	if m, ok, _ := s.GetMessage("m1"); !ok || string(m.Body) != `{"t":1}` || m.Title != "hi" {
		t.Fatalf("message: %+v", m)
	}
}

// ApplyChunk holds a recipient's meta lock only while its batch is built
// and applied, not across the fsync: the chunk is visible at once, a later
// write of the same user's meta proceeds while the chunk still waits for
// its sync, and everything is durable after a reopen.
func TestApplyChunkReleasesUserLocksBeforeSync(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	mustBind(t, s, "bob", "hw", Device{Vendor: "huawei", Token: "h1"})
	rs, err := s.Recipients([]string{"bob"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(id string) Chunk {
		return Chunk{Message: &Message{MessageID: id}, MessageID: id, SentAt: 5, Offline: rs, Inbox: true, Push: true, Route: ownVendor, BadgeIncrement: 1}
	}
	res1, wait1, err := s.ApplyChunk(chunk("m1"))
	if err != nil || len(res1.Queued) != 1 {
		t.Fatalf("apply m1: %+v %v", res1, err)
	}
	if m, _ := s.UserMeta("bob"); m.Badge != 1 || m.Pending() != 1 {
		t.Fatalf("meta right after apply: %+v", m)
	}
	acked := make(chan error, 1)
	go func() {
		_, err := s.AckInbox("bob", 1) // takes bob's meta lock
		acked <- err
	}()
	select {
	case err := <-acked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a write of bob's meta waited for a chunk's fsync")
	}
	_, wait2, err := s.ApplyChunk(chunk("m2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wait2(); err != nil { // waits may come in any order
		t.Fatal(err)
	}
	if err := wait1(); err != nil {
		t.Fatal(err)
	}
	if _, wait, err := s.ApplyChunk(Chunk{MessageID: "none"}); err != nil || wait() != nil {
		t.Fatalf("an empty chunk: %v", err)
	}
	_ = s.Close()
	s = openTest(t, dir)
	defer s.Close()
	if m, _ := s.UserMeta("bob"); m.Badge != 2 || m.Pending() != 1 {
		t.Fatalf("meta after reopen: %+v", m)
	}
	items, _, err := s.Inbox("bob", 0, 10)
	if err != nil || len(items) != 1 || items[0].Entry.MessageID != "m2" {
		t.Fatalf("inbox after reopen: %+v %v", items, err)
	}
	var n int
	if err := s.Outbox("huawei", func(Queued) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("outbox after reopen: %d rows, %v", n, err)
	}
}

// OutboxRange reads exactly the rows between two keys of one vendor's
// queue, continuing after a row (After), and stops at the limit.
func TestOutboxRangeReadsOneMessagesRowsBetweenKeys(t *testing.T) {
	s := openTest(t, t.TempDir())
	var rows []Queued
	for _, v := range []string{"apns", "huawei"} {
		for _, m := range []string{"m1", "m2"} {
			for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
				rows = append(rows, Queued{Key: OutboxKey{Vendor: v, RowID: RowID{ID: m}, UserID: u, DeviceID: "d"}, Entry: OutboxEntry{Token: v + m + u, Badge: -1}})
			}
		}
	}
	if err := s.OutboxRetry(rows); err != nil {
		t.Fatal(err)
	}
	key := func(u string) OutboxKey {
		return OutboxKey{Vendor: "apns", RowID: RowID{ID: "m1"}, UserID: u, DeviceID: "d"}
	}
	read := func(from OutboxPos, to OutboxKey, limit int) []string {
		t.Helper()
		var got []string
		n, err := s.OutboxRange(from, to, limit, func(q Queued) error { got = append(got, q.Entry.Token); return nil })
		if err != nil || n != len(got) {
			t.Fatalf("OutboxRange: n %d, %d rows, err %v", n, len(got), err)
		}
		return got
	}
	for _, c := range []struct {
		name  string
		from  OutboxPos
		to    OutboxKey
		limit int
		want  []string
	}{
		{"inclusive both ends", At(key("u2")), key("u4"), -1, []string{"apnsm1u2", "apnsm1u3", "apnsm1u4"}},
		{"after a row", After(key("u2")), key("u4"), -1, []string{"apnsm1u3", "apnsm1u4"}},
		{"limit", At(key("u1")), key("u5"), 2, []string{"apnsm1u1", "apnsm1u2"}},
		{"after the last", After(key("u5")), key("u5"), -1, nil},
	} {
		if got := read(c.from, c.to, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// ownVendor routes a device to its own vendor and token, and the APNs
// environment that accepted it before (as package push does).
func ownVendor(d Device) (Route, bool) {
	env := d.APNsEnv
	if d.ResolvedEnv != "" {
		env = d.ResolvedEnv
	}
	return Route{Vendor: d.Vendor, Token: d.Token, APNsEnv: env}, true
}

// Call rows keep their kind, id and reason through the key, and a dead
// letter page's cursor survives a call row at the page's end.
func TestOutboxKeyKindsRoundTrip(t *testing.T) {
	for _, k := range []OutboxKey{
		{Vendor: "apns", RowID: RowID{Kind: RowMessage, ID: "m1"}, UserID: "u", DeviceID: "d"},
		{Vendor: "fcm", RowID: RowID{Kind: RowCallInvite, ID: "call-1"}, UserID: "u", DeviceID: "d"},
		{Vendor: "vivo", RowID: RowID{Kind: RowCallCancel, ID: "call-1", Reason: "timeout"}, UserID: "u", DeviceID: "d"},
	} {
		for _, tag := range []string{tagOutbox, tagDead} {
			got, err := parseOutboxKey(tag, outboxKey(tag, k))
			if err != nil || got != k {
				t.Fatalf("%v: parsed back as %+v, %v", k, got, err)
			}
		}
		got, err := ParseCursor(k.Cursor())
		if err != nil || got != k {
			t.Fatalf("%v: cursor parsed back as %+v, %v", k, got, err)
		}
	}
	// The stored form is what earlier versions wrote (message ids as they
	// are, "call/<id>", "callx/<reason>/<id>"): rows on disk stay readable.
	for k, want := range map[OutboxKey]string{
		{Vendor: "apns", RowID: RowID{ID: "m1"}, UserID: "u", DeviceID: "d"}:                                       "o/apns\x00m1\x00u\x00d",
		{Vendor: "apns", RowID: RowID{Kind: RowCallInvite, ID: "c"}, UserID: "u", DeviceID: "d"}:                   "o/apns\x00call/c\x00u\x00d",
		{Vendor: "apns", RowID: RowID{Kind: RowCallCancel, ID: "c", Reason: "accept"}, UserID: "u", DeviceID: "d"}: "o/apns\x00callx/accept/c\x00u\x00d",
	} {
		if got := string(k.encode()); got != want {
			t.Fatalf("%+v stored as %q, want %q", k, got, want)
		}
		if got := string(k.DeadKey()); got != "x"+want[1:] {
			t.Fatalf("%+v dead-lettered as %q", k, got)
		}
	}
	for _, bad := range []string{"", "!!", "YQ"} {
		if _, err := ParseCursor(bad); err == nil {
			t.Fatalf("cursor %q accepted", bad)
		}
	}
	if _, err := parseOutboxKey(tagOutbox, []byte(tagOutbox+"apns\x00callx/noreason\x00u\x00d")); err == nil {
		t.Fatal("a cancel row id without a reason parsed")
	}
}

// DeadLetters without a vendor lists every vendor's, in vendor order,
// and pages by cursor across a call row and a vendor boundary.
func TestDeadLettersAcrossVendors(t *testing.T) {
	s := openTest(t, t.TempDir())
	rows := []Queued{
		{Key: OutboxKey{Vendor: "apns", RowID: RowID{ID: "m1"}, UserID: "u1", DeviceID: "d"}, Entry: OutboxEntry{Token: "a", Badge: -1}},
		{Key: OutboxKey{Vendor: "apns", RowID: RowID{Kind: RowCallCancel, ID: "c1", Reason: "timeout"}, UserID: "u2", DeviceID: "d"}, Entry: OutboxEntry{Token: "b", Badge: -1}},
		{Key: OutboxKey{Vendor: "vivo", RowID: RowID{Kind: RowCallInvite, ID: "c1"}, UserID: "u3", DeviceID: "d"}, Entry: OutboxEntry{Token: "c", Badge: -1}},
	}
	if err := s.DeadLetter(rows); err != nil {
		t.Fatal(err)
	}
	var got []OutboxKey
	var after *OutboxKey
	for range 10 {
		page, err := s.DeadLetters("", after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page[0].Key)
		k, err := ParseCursor(page[0].Key.Cursor())
		if err != nil {
			t.Fatal(err)
		}
		after = &k
	}
	if len(got) != 3 || got[0].Vendor != "apns" || got[2].Vendor != "vivo" || got[2].Kind != RowCallInvite {
		t.Fatalf("pages: %+v", got)
	}
	if only, err := s.DeadLetters("vivo", nil, 10); err != nil || len(only) != 1 || only[0].Key.UserID != "u3" {
		t.Fatalf("vivo's: %+v, %v", only, err)
	}
}

// ReplayDead by id finds a message's rows and a call's invitation and
// cancel notices; a kind narrows it; limit and more hold across the
// ranges; an id that is a prefix of another matches only itself.
func TestReplayDeadByIDAndKind(t *testing.T) {
	row := func(id RowID, user string) Queued {
		return Queued{Key: OutboxKey{Vendor: "vivo", RowID: id, UserID: user, DeviceID: "d"}, Entry: OutboxEntry{Token: "t" + user, Badge: -1, LastCode: "10050", Attempts: 3}}
	}
	all := []Queued{
		row(RowID{ID: "c1"}, "a"),                                         // a message that shares the call's id
		row(RowID{ID: "c10"}, "b"),                                        // a longer id
		row(RowID{Kind: RowCallInvite, ID: "c1"}, "c"),                    //
		row(RowID{Kind: RowCallCancel, ID: "c1", Reason: "timeout"}, "d"), //
		row(RowID{Kind: RowCallCancel, ID: "c1", Reason: "cancel"}, "e"),  //
		row(RowID{Kind: RowCallCancel, ID: "c2", Reason: "cancel"}, "f"),  // another call's
	}
	users := func(rows []Queued) string {
		var b []byte
		for _, q := range rows {
			b = append(b, q.Key.UserID...)
		}
		return string(b)
	}
	cancel := RowCallCancel
	for _, tc := range []struct {
		name  string
		f     DeadFilter
		limit int
		want  []string // the users of each call's rows, in key order (a call's cancels by reason)
		more  []bool
	}{
		{"every row of id c1", DeadFilter{ID: "c1"}, 10, []string{"aced"}, []bool{false}},
		{"c1's cancel notices", DeadFilter{ID: "c1", Kind: &cancel}, 10, []string{"ed"}, []bool{false}},
		{"c1 two at a time", DeadFilter{ID: "c1"}, 2, []string{"ac", "ed", ""}, []bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, t.TempDir())
			if err := s.DeadLetter(all); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				rows, more, err := s.ReplayDead("vivo", tc.f, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if got := users(rows); got != want || more != tc.more[i] {
					t.Fatalf("call %d: rows of %q more %v, want %q more %v", i, got, more, want, tc.more[i])
				}
				for _, q := range rows {
					if q.Entry.Attempts != 0 || q.Entry.LastCode != "" {
						t.Fatalf("replayed row keeps its attempts: %+v", q)
					}
				}
			}
		})
	}
}
