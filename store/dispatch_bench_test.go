package store

import (
	"fmt"
	"testing"
)

// BenchmarkFanOutChunks measures committing a group fan-out: chunks of
// 1000 offline recipients (inbox entry, badge, one outbox row each), each
// chunk one synced batch. mode=commit waits for every chunk's fsync before
// the next (CommitChunk, as fan-outs did); mode=pipelined applies up to 8
// chunks ahead of their fsyncs (ApplyChunk, as the dispatcher does now), so
// Pebble syncs several with one fsync.
//
//	go test -run '^$' -bench FanOutChunks -benchmem ./store
func BenchmarkFanOutChunks(b *testing.B) {
	for _, mode := range []string{"commit", "pipelined"} {
		b.Run("users=1000/mode="+mode, func(b *testing.B) {
			const users = 1000
			s, ids, rs := benchRecipients(b, users)
			defer s.Close()
			waits := make(chan func() error, 8)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				id := fmt.Sprint("m", i)
				c := Chunk{MessageID: id, SentAt: 1, Offline: rs, Inbox: true, Push: true, Route: ownVendor, BadgeIncrement: 1, InboxCap: 100,
					Job: &Job{MessageID: id, GroupID: "g", Cursor: ids[len(ids)-1]}}
				if mode == "commit" {
					if _, err := s.CommitChunk(c); err != nil {
						b.Fatal(err)
					}
					continue
				}
				_, wait, err := s.ApplyChunk(c)
				if err != nil {
					b.Fatal(err)
				}
				if len(waits) == cap(waits) {
					if err := (<-waits)(); err != nil {
						b.Fatal(err)
					}
				}
				waits <- wait
			}
			for len(waits) > 0 {
				if err := (<-waits)(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "recipients/s")
		})
	}
}

// BenchmarkOutboxDone measures finishing a sender's 1000-row batch of one
// message (every row sent, all to one vendor as a sender's are): the
// outbox deletes and the message's tally, after checking each row is
// still queued and its message kept.
//
//	go test -run '^$' -bench OutboxDone -benchmem ./store
func BenchmarkOutboxDone(b *testing.B) {
	const users = 1000
	s, _, rs := benchRecipients(b, users)
	defer s.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		id := fmt.Sprint("m", i)
		res, err := s.CommitChunk(Chunk{Message: &Message{MessageID: id}, MessageID: id, Offline: rs, Push: true, Route: oneVendor})
		if err != nil {
			b.Fatal(err)
		}
		done := make([]Done, len(res.Queued))
		for j, q := range res.Queued {
			done[j] = Done{Key: q.Key, Outcome: OutcomeSent}
		}
		b.StartTimer()
		if err := s.OutboxDone(done); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(users*b.N), "ns/row")
}

// oneVendor routes every device to one sender's queue.
func oneVendor(d Device) (Route, bool) { return Route{Vendor: "huawei", Token: d.Token}, true }

// benchRecipients opens a store of users offline users with one device
// each and plans them all: the store, their ids and their recipients.
func benchRecipients(b *testing.B, users int) (*Store, []string, []Recipient) {
	b.Helper()
	s, ids := benchStore(b, users)
	populate(b, s, users, 1, 0, benchID)
	rs, err := s.Recipients(ids, 1)
	if err != nil {
		b.Fatal(err)
	}
	return s, ids, rs
}
