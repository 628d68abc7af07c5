package apns

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

func BenchmarkEncode(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	for _, data := range []int{2, 10} {
		n := &vendors.Notification{
			MessageID: "01J9Z8ZKX4Y8N3F7QH2M5V6W7X", Title: "Ann Smith", Body: strings.Repeat("Lunch at noon? ", 8),
			Priority: vendors.PriorityHigh, TTL: time.Hour, CollapseID: "conv-42", Badge: new(3),
			Category: "MESSAGE", ThreadID: "conv-42", Mutable: true, Data: map[string]string{},
		}
		for i := range data {
			n.Data[fmt.Sprintf("key_%02d", i)] = fmt.Sprintf("value number %d", i)
		}
		b.Run(fmt.Sprintf("data=%d", data), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				w, err := encode(n, "com.example.chat", now)
				if err != nil {
					b.Fatal(err)
				}
				size = len(w.Payload)
			}
			b.ReportMetric(float64(size), "payload_bytes")
		})
	}
}

// BenchmarkPayloadFor measures a target's payload when each target has its
// own badge (a group message with badge_increment): the bare payload with
// the badge spliced in, against encoding the whole notification per target.
func BenchmarkPayloadFor(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	n := &vendors.Notification{MessageID: "01J9Z8ZKX4Y8N3F7QH2M5V6W7X", Title: "Ann Smith", Body: strings.Repeat("Lunch at noon? ", 8),
		Priority: vendors.PriorityHigh, Category: "MESSAGE", Data: map[string]string{"key_00": "value number 0"}}
	w, err := encode(n, "com.example.chat", now)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("how=splice", func(b *testing.B) {
		b.ReportAllocs()
		badge := 0
		for b.Loop() {
			badge++
			_ = w.payloadFor(&badge)
		}
	})
	b.Run("how=encode", func(b *testing.B) {
		b.ReportAllocs()
		badge := 0
		for b.Loop() {
			badge++
			nn := *n
			nn.Badge = &badge
			if _, err := encode(&nn, "com.example.chat", now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
