package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// BenchmarkGetMessageMissing measures the idempotency read of a new
// message id (a point read that finds nothing) in a store that holds a
// million users' rows and 200 000 messages on disk, with a memtable in
// use: every peer accept pays it once. cache=shared is Pebble's own
// accounting, which reserves the memtables out of the block cache (with
// herald's default sizes nothing is left for blocks, so every read is a
// pread); cache=own is what Open configures (cache_size for blocks, the
// memtables on top).
//
//	go test -run '^$' -bench GetMessageMissing -benchmem ./store
func BenchmarkGetMessageMissing(b *testing.B) {
	for _, cache := range []string{"shared", "own"} {
		b.Run("cache="+cache, func(b *testing.B) {
			shared := cache == "shared"
			s, err := Open(b.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				CacheSize: 64 << 20, MemTableSize: 32 << 20, sharedMemtab: shared})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			val := make([]byte, 120)
			write := func(n int, key func(int) []byte) {
				for i := 0; i < n; {
					batch := s.db.NewBatch()
					for end := min(n, i+10_000); i < end; i++ {
						if err := batch.Set(key(i), val, nil); err != nil {
							b.Fatal(err)
						}
					}
					if err := batch.Commit(pebble.NoSync); err != nil {
						b.Fatal(err)
					}
				}
			}
			write(1_000_000, func(i int) []byte { return DeviceKey(benchID(i), "d") })
			write(200_000, func(i int) []byte { return MessageKey(fmt.Sprint("old-", i)) })
			// Settle the tables (no compaction running while measuring),
			// then warm the block cache with one pass of reads.
			if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
				b.Fatal(err)
			}
			for i := range 1000 {
				if _, _, err := s.GetMessage(fmt.Sprint("warm-", i)); err != nil {
					b.Fatal(err)
				}
			}
			write(100_000, func(i int) []byte { return MessageKey(fmt.Sprint("new-", i)) }) // in the memtable
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, ok, err := s.GetMessage(fmt.Sprint("missing-", i)); err != nil || ok {
					b.Fatal(ok, err)
				}
			}
			if c := s.db.Metrics().BlockCache; !shared && c.Hits < c.Misses {
				b.Fatalf("block cache hits %d, misses %d: blocks are not cached", c.Hits, c.Misses)
			}
		})
	}
}
