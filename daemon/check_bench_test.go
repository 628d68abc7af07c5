package daemon

import (
	"testing"

	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
)

// BenchmarkCheckMessage is what refusing at the door costs one message
// with a push: every configured vendor's encoder and limits (all seven
// in simulator mode), on a typical chat push.
//
//	go test ./daemon -run '^$' -bench CheckMessage -benchmem
func BenchmarkCheckMessage(b *testing.B) {
	s := startDaemon(b, nil, Env{})
	m := &store.Message{MessageID: "m-bench-0001", From: "bob", ToType: "peer", ToID: "ann", HasPush: true,
		Title: "Bob", Content: "are we still on for tonight?", Payload: `{"conv":"c-42","seq":7}`, TTLSeconds: 86400, Priority: "high"}
	clients, res := s.d.push.senders, s.d.composer.Resources()
	b.ReportAllocs()
	for b.Loop() {
		if err := push.CheckMessage(clients, res, m); err != nil {
			b.Fatal(err)
		}
	}
}
