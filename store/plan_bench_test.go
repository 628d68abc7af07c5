package store

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
)

// BenchmarkRecipients measures planning one fan-out chunk: reading, for a
// sorted chunk of 1000 users, whether each is online and which devices are
// bound (what a group fan-out does per chunk before committing it).
//
//	go test -run '^$' -bench Recipients -benchmem ./store
func BenchmarkRecipients(b *testing.B) {
	for _, c := range []struct {
		devices      int
		onlineEveryN int // every Nth user holds a live lease; 0 = none
	}{{1, 0}, {3, 0}, {1, 2}} {
		b.Run(fmt.Sprintf("users=1000/devices=%d/online=%s", c.devices, onlineName(c.onlineEveryN)), func(b *testing.B) {
			const users = 1000
			s, ids := benchStore(b, users)
			defer s.Close()
			// Other users' rows around the chunk, so seeks skip real data.
			populate(b, s, users*3, c.devices, c.onlineEveryN, benchID)
			slices.Sort(ids)
			const now = 1_800_000_000_000
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rs, err := s.Recipients(ids, now)
				if err != nil || len(rs) != users {
					b.Fatalf("%d recipients, %v", len(rs), err)
				}
			}
			b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

func onlineName(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("1in%d", n)
}

// populate binds devices for users 0..n-1 (and leases every onlineEveryN-th
// user far in the future), 16 writers at once so Pebble groups the syncs.
func populate(b *testing.B, s *Store, n, devices, onlineEveryN int, id func(int) string) {
	b.Helper()
	vendors := []string{"apns", "fcm", "huawei", "xiaomi", "oppo", "vivo", "web"}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				for d := 0; d < devices; d++ {
					k := i*devices + d
					dev := Device{Vendor: vendors[k%len(vendors)], Token: fmt.Sprintf("tok-%d", k), UpdatedAt: 1}
					if _, err := s.BindDevice(id(i), fmt.Sprintf("d%d", d), dev); err != nil {
						errs <- err
						return
					}
				}
				if onlineEveryN > 0 && i%onlineEveryN == 0 {
					if err := s.ApplyLeases(id(i), map[string]Lease{"d0": {ExpiresAt: 1 << 62}}, nil); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// benchStore opens a store in a temporary directory and returns the ids
// of its first n benchmark users (benchID order, which is sorted).
func benchStore(b *testing.B, n int) (*Store, []string) {
	b.Helper()
	s, err := Open(b.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = benchID(i)
	}
	return s, ids
}

func benchID(i int) string { return fmt.Sprintf("u%06d", i) }
