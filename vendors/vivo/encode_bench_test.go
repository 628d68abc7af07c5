package vivo

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

func BenchmarkEncode(b *testing.B) {
	n := &vendors.Notification{
		MessageID:  "msg-0001",
		Title:      "Alice",
		Body:       "Are we still on for lunch?",
		Data:       map[string]string{"payload": `{"conv":"c1"}`, "sender": "alice"},
		TTL:        time.Hour,
		CollapseID: "conv-c1",
	}
	regIDs := make([]string, 1000)
	for i := range regIDs {
		regIDs[i] = fmt.Sprintf("156385354103010%08d", i)
	}
	b.Run("endpoint=send", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _ := buildMessage(SimAppID, n)
			_ = encodeSend(m, regIDs[0], "0123456789abcdef0123456789abcdef")
		}
	})
	b.Run("endpoint=saveListPayload", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, _ := buildMessage(SimAppID, n)
			_ = encodeSaveList(m, "0123456789abcdef0123456789abcdef")
		}
	})
	b.Run("endpoint=pushToList/regIds=1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodePushToList(SimAppID, regIDs, "50000001", "0123456789abcdef0123456789abcdef")
		}
		b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "tokens/s")
	})
}
