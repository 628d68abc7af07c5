package oppo

import (
	"strconv"
	"testing"
)

func BenchmarkEncode(b *testing.B) {
	n := goldenCases()["messages_im"].n
	for _, size := range []int{1, 100, 1000} {
		ids := regIDs("CN_b6bbd94b59cdb5df8391642c15", size)
		b.Run("targets="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeMessages(n, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}
