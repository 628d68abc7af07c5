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

// BenchmarkSendEachRequestBody is SendEach's request bodies for 1000
// targets (encoding, escaping and the messages arrays, no I/O): every
// target its own notification (peer messages), or runs of ten targets
// sharing one. Its units are per target, each getting one notification:
// ns/notification and notifications/s divide the same time by the same
// count.
func BenchmarkSendEachRequestBody(b *testing.B) {
	c, err := New(Config{AppSecret: "s", PackageName: "com.example.chat", ChannelID: "im-private"})
	if err != nil {
		b.Fatal(err)
	}
	const targets = 1000
	base := goldenCases()["notification"]
	tgs := make([]vendors.Target, targets)
	for i := range tgs {
		tgs[i].Token = fmt.Sprintf("k3mJvLhV0yG1Mq2Yp9xXb8Zc7Ed6Rf5Tg4Hy3Uj2Ik1Ol0Pz+%06d=", i)
	}
	for _, run := range []int{1, 10} {
		ns := make([]*vendors.Notification, targets)
		for i := range ns {
			if i%run == 0 {
				n := *base
				n.MessageID = fmt.Sprintf("msg-%06d", i)
				ns[i] = &n
			} else {
				ns[i] = ns[i-1]
			}
		}
		b.Run(fmt.Sprintf("targets=%d/run=%d", targets, run), func(b *testing.B) {
			b.ReportAllocs()
			out := make([]vendors.Result, targets)
			var size int
			for b.Loop() {
				regIDs, slots := c.eachTargets(ns, tgs, out)
				bodies := newEachBodies(c.enc, ns, regIDs, slots, MaxEachBody)
				size = 0
				for start := 0; start < len(slots); {
					var body []byte
					body, start = bodies.next(start)
					size += len(body)
				}
			}
			b.SetBytes(int64(size))
			sent := float64(b.N) * targets
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/sent, "ns/notification")
			b.ReportMetric(sent/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}
