package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// Recipients of a whole chunk at once are what each user's recipients are
// alone, whatever the order of the chunk (sorted, shuffled, with repeats)
// and whichever users lack devices, leases or both.
func TestRecipientsOfAChunkMatchEachUserAlone(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	const now = 1_000_000
	var ids []string
	for i := range 60 {
		u := fmt.Sprintf("u%03d", i)
		ids = append(ids, u)
		for d := range i % 3 { // 0, 1 or 2 devices
			mustBind(t, s, u, fmt.Sprint("d", d), Device{Vendor: "fcm", Token: fmt.Sprintf("t-%d-%d", i, d)})
		}
		switch i % 5 {
		case 1: // live lease
			if err := s.ApplyLeases(u, map[string]Lease{"d0": {ExpiresAt: now + 1}}, nil); err != nil {
				t.Fatal(err)
			}
		case 2: // lapsed lease, then a live one on another device
			if err := s.ApplyLeases(u, map[string]Lease{"a": {ExpiresAt: now - 1}, "b": {ExpiresAt: now + 1}}, nil); err != nil {
				t.Fatal(err)
			}
		case 3: // lapsed only
			if err := s.ApplyLeases(u, map[string]Lease{"d0": {ExpiresAt: now - 1}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids = append(ids, "nobody", "u0", "u00", "u999") // unknown users, prefixes of others
	alone := map[string]Recipient{}
	for _, u := range ids {
		rs, err := s.Recipients([]string{u}, now)
		if err != nil || len(rs) != 1 {
			t.Fatalf("alone %s: %v %v", u, rs, err)
		}
		alone[u] = rs[0]
	}
	sorted := slices.Sorted(slices.Values(ids))
	shuffled := slices.Clone(ids)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	everyThird := []string{}
	for i, u := range sorted {
		if i%3 == 0 {
			everyThird = append(everyThird, u)
		}
	}
	for name, chunk := range map[string][]string{"sorted": sorted, "shuffled": shuffled, "gaps": everyThird,
		"repeats": append(slices.Clone(sorted[:10]), sorted[:10]...), "descending": reversed(sorted)} {
		rs, err := s.Recipients(chunk, now)
		if err != nil || len(rs) != len(chunk) {
			t.Fatalf("%s: %d recipients, %v", name, len(rs), err)
		}
		for i, r := range rs {
			if want := alone[chunk[i]]; !reflect.DeepEqual(r, want) {
				t.Fatalf("%s: %s planned %+v in a chunk, %+v alone", name, chunk[i], r, want)
			}
		}
	}
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
