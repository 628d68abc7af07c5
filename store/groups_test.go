package store

import (
	"fmt"
	"testing"
)

func TestGroups(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	ch, err := s.UpdateGroup("g1", []string{"a", "b", "c", "a"}, nil)
	if err != nil || ch.Added != 3 || ch.Members != 3 {
		t.Fatalf("add: %+v %v", ch, err)
	}
	ch, err = s.UpdateGroup("g1", []string{"d"}, []string{"b", "zz"})
	if err != nil || ch.Added != 1 || ch.Removed != 1 || ch.Members != 3 {
		t.Fatalf("update: %+v %v", ch, err)
	}
	// A group whose id extends another's shares nothing with it.
	if _, err := s.UpdateGroup("g10", []string{"x"}, nil); err != nil {
		t.Fatal(err)
	}
	got, more, err := s.GroupMembers("g1", "", 2)
	if err != nil || more != true || fmt.Sprint(got) != "[a c]" {
		t.Fatalf("page 1: %v %v %v", got, more, err)
	}
	got, more, _ = s.GroupMembers("g1", "c", 2)
	if more || fmt.Sprint(got) != "[d]" {
		t.Fatalf("page 2: %v %v", got, more)
	}
	if err := s.DeleteGroup("g1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.GroupSize("g1"); n != 0 {
		t.Fatalf("size after delete: %d", n)
	}
	if got, _, _ := s.GroupMembers("g10", "", 10); fmt.Sprint(got) != "[x]" {
		t.Fatalf("g10 after deleting g1: %v", got)
	}
}
