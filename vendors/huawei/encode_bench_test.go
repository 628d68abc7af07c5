package huawei

import (
	"fmt"
	"testing"

	"github.com/herald-push/herald/vendors"
)

func BenchmarkEncode(b *testing.B) {
	n := &vendors.Notification{
		MessageID: "01J9Z3X4W5V6T7S8R9Q0P1N2M3", Title: "Alice", Body: "See you at 7?",
		Data:     map[string]string{"conv": "c-42", "sender": "alice", "payload": `{"type":"text"}`},
		Priority: vendors.PriorityHigh, Channel: "im", Category: "IM", CollapseID: "c-42",
	}
	for _, size := range []int{1, 100, 1000} {
		tokens := make([]string, size)
		for i := range tokens {
			tokens[i] = fmt.Sprintf("IQAAAACy0kf9AAB%0100d", i)
		}
		b.Run(fmt.Sprintf("tokens=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeSend(n, tokens, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
