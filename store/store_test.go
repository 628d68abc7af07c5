package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

func openTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustBind(t *testing.T, s *Store, user, dev string, d Device) BindResult {
	t.Helper()
	r, err := s.BindDevice(user, dev, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBindMoveReplaceDelete(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	tok := Device{Vendor: "fcm", Token: "t1"}

	if r := mustBind(t, s, "alice", "phone", tok); r.MovedFrom != nil || r.Replaced != "" {
		t.Fatalf("first bind: %+v", r)
	}
	// Same binding again is a no-op move.
	if r := mustBind(t, s, "alice", "phone", tok); r.MovedFrom != nil {
		t.Fatalf("rebind same: %+v", r)
	}
	// Bob takes the token: alice loses the device.
	r := mustBind(t, s, "bob", "tab", tok)
	if r.MovedFrom == nil || *r.MovedFrom != (Binding{"alice", "phone"}) {
		t.Fatalf("move: %+v", r)
	}
	if _, ok, _ := s.GetDevice("alice", "phone"); ok {
		t.Fatal("alice still holds the moved device")
	}
	if b, ok, _ := s.LookupPushID("fcm", "t1"); !ok || b != (Binding{"bob", "tab"}) {
		t.Fatalf("index after move: %+v %v", b, ok)
	}
	// Bob's device gets a new token: the old index row goes.
	r = mustBind(t, s, "bob", "tab", Device{Vendor: "fcm", Token: "t2"})
	if r.Replaced != "fcm:t1" {
		t.Fatalf("replace: %+v", r)
	}
	if _, ok, _ := s.LookupPushID("fcm", "t1"); ok {
		t.Fatal("replaced token still indexed")
	}
	// Delete clears binding and index but keeps the lease.
	if err := s.ApplyLeases("bob", map[string]Lease{"tab": {ExpiresAt: 10}}, nil); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteDevice("bob", "tab"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if ok, _ := s.DeleteDevice("bob", "tab"); ok {
		t.Fatal("second delete reported a removal")
	}
	st, _ := s.LoadUser("bob")
	if len(st.Devices) != 0 || len(st.Leases) != 1 {
		t.Fatalf("after delete: %+v", st)
	}
	if _, ok, _ := s.LookupPushID("fcm", "t2"); ok {
		t.Fatal("deleted token still indexed")
	}
}

func TestLogout(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mustBind(t, s, "u", "d1", Device{Vendor: "apns", Token: "a"})
	mustBind(t, s, "u", "d2", Device{Vendor: "vivo", Token: "b"})
	mustBind(t, s, "u2", "d1", Device{Vendor: "apns", Token: "c"})
	if err := s.ApplyLeases("u", map[string]Lease{"d1": {1}, "d2": {1}, "web": {1}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Logout("u", "d1"); err != nil || len(got) != 1 {
		t.Fatalf("logout one: %v %v", got, err)
	}
	st, _ := s.LoadUser("u")
	if len(st.Devices) != 1 || len(st.Leases) != 2 {
		t.Fatalf("after logout d1: %+v", st)
	}
	if got, err := s.Logout("u", ""); err != nil || len(got) != 1 {
		t.Fatalf("logout all: %v %v", got, err)
	}
	st, _ = s.LoadUser("u")
	if len(st.Devices) != 0 || len(st.Leases) != 0 {
		t.Fatalf("after logout all: %+v", st)
	}
	// A user whose id is a prefix of another's keeps nothing of the other's.
	st2, _ := s.LoadUser("u2")
	if len(st2.Devices) != 1 {
		t.Fatalf("u2 lost its device: %+v", st2)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	mustBind(t, s, "u", "d", Device{Vendor: "oppo", Token: "x", Locale: "en"})
	if err := s.ApplyLeases("u", map[string]Lease{"d": {ExpiresAt: 77}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBadge("u", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadUser("u"); !errors.Is(err, ErrClosed) {
		t.Fatalf("use after close: %v", err)
	}
	s = openTest(t, dir)
	defer s.Close()
	st, err := s.LoadUser("u")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Devices) != 1 || len(st.Leases) != 1 || st.Devices[0].DeviceID != "d" || st.Devices[0].Device.Locale != "en" ||
		st.Leases[0].DeviceID != "d" || st.Leases[0].Lease.ExpiresAt != 77 || st.Meta.Badge != 3 {
		t.Fatalf("after reopen: %+v", st)
	}
}

// TestConcurrentMovesKeepOneOwner races many users for the same tokens: at
// the end every token has exactly one owner and that owner's device row names it.
func TestConcurrentMovesKeepOneOwner(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	const users, rounds, tokens = 8, 50, 4
	var wg sync.WaitGroup
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				tok := fmt.Sprint("t", (u+i)%tokens)
				if _, err := s.BindDevice(fmt.Sprint("user", u), "dev", Device{Vendor: "fcm", Token: tok}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	holders := 0
	for u := range users {
		d, ok, err := s.GetDevice(fmt.Sprint("user", u), "dev")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		holders++
		b, ok, _ := s.LookupPushID(d.Vendor, d.Token)
		if !ok || b.UserID != fmt.Sprint("user", u) {
			t.Fatalf("user%d holds %s but index says %+v", u, d.Token, b)
		}
	}
	if holders > tokens {
		t.Fatalf("%d holders for %d tokens", holders, tokens)
	}
}

// A data directory already open is refused with ErrLocked, naming it and
// the pid that holds it.
func TestOpenLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	_, err := Open(dir, Options{Logger: s.log})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Open: %v", err)
	}
}
