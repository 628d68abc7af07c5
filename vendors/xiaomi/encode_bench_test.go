package xiaomi

import (
	"fmt"
	"testing"

	"github.com/herald-push/herald/vendors"
)

func BenchmarkEncode(b *testing.B) {
	enc := encoder{pkg: "com.example.chat", channel: "im-private"}
	n := goldenCases()["notification"]
	for _, targets := range []int{1, 100, 1000} {
		regIDs := make([]string, targets)
		for i := range regIDs {
			regIDs[i] = fmt.Sprintf("k3mJvLhV0yG1Mq2Yp9xXb8Zc7Ed6Rf5Tg4Hy3Uj2Ik1Ol0Pz+%06d=", i)
		}
		b.Run(fmt.Sprintf("targets=%d", targets), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = enc.appendForm(buf[:0], n, regIDs)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
	b.Run("passthrough", func(b *testing.B) {
		b.ReportAllocs()
		p := &vendors.Notification{MessageID: "m", Passthrough: true, Data: map[string]string{"a": "1", "b": "2"}}
		var buf []byte
		for b.Loop() {
			buf = enc.appendForm(buf[:0], p, []string{"regid-1"})
		}
	})
}
