package fcm

import (
	"context"
	"fmt"
	"testing"

	"firebase.google.com/go/v4/messaging"

	"github.com/herald-push/herald/vendors"
)

// BenchmarkEncode is the per-message encoding cost: the mapping plus the
// JSON the SDK marshals for each token.
func BenchmarkEncode(b *testing.B) {
	for _, kind := range []vendors.Kind{vendors.FCM, vendors.Web} {
		b.Run("kind="+string(kind), func(b *testing.B) {
			n := chatNotification("m-bench")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeRequest(kind, n, "fcm-token-0123456789"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSend500 sends one notification to 500 tokens against the
// simulator over TLS + HTTP/2, with the client's own bounded concurrency
// and, for comparison, the SDK's SendEach (50 goroutines per call).
func BenchmarkSend500(b *testing.B) {
	e := newEnv(b, SimOptions{})
	tokens := make([]string, MaxBatch)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%d", i)
	}
	n := chatNotification("m-bench")
	for _, conc := range []int{50, 100, 200} {
		b.Run(fmt.Sprintf("impl=client/concurrent=%d", conc), func(b *testing.B) {
			c := e.client(b, func(cfg *Config) { cfg.MaxConcurrent = conc })
			ts := targets(tokens...)
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.Send(context.Background(), n, ts)
				if err != nil || !res[0].OK() {
					b.Fatalf("%v %+v", err, res[0])
				}
			}
			b.ReportMetric(float64(b.N*len(tokens))/b.Elapsed().Seconds(), "notifications/s")
		})
	}
	b.Run("impl=sdk-sendeach", func(b *testing.B) {
		c := e.client(b, nil)
		tmpl := buildMessage(vendors.FCM, n)
		msgs := make([]*messaging.Message, len(tokens))
		for i, tk := range tokens {
			m := *tmpl
			m.Token = tk
			msgs[i] = &m
		}
		b.ReportAllocs()
		for b.Loop() {
			br, err := c.mc.SendEach(context.Background(), msgs)
			if err != nil || br.FailureCount > 0 {
				b.Fatalf("%v %+v", err, br)
			}
		}
		b.ReportMetric(float64(b.N*len(tokens))/b.Elapsed().Seconds(), "notifications/s")
	})
}
