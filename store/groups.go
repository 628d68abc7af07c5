package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// GroupChange is the outcome of UpdateGroup.
type GroupChange struct {
	Added, Removed int
	Members        int64 // members after the change
}

// UpdateGroup adds and removes members in one synced batch and keeps the
// member count. Adding a member twice or removing a non-member is a no-op.
func (s *Store) UpdateGroup(groupID string, add, remove []string) (GroupChange, error) {
	if err := s.acquire(); err != nil {
		return GroupChange{}, err
	}
	defer s.mu.RUnlock()
	unlock := s.groupLocks.lock(groupID)
	defer unlock()
	meta, err := s.groupMeta(groupID)
	if err != nil {
		return GroupChange{}, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	var ch GroupChange
	pending := map[string]bool{} // member state decided earlier in this batch
	isMember := func(u string) (bool, error) {
		if m, ok := pending[u]; ok {
			return m, nil
		}
		_, ok, err := s.get(GroupMemberKey(groupID, u))
		return ok, err
	}
	for _, u := range add {
		in, err := isMember(u)
		if err != nil {
			return GroupChange{}, err
		}
		if in {
			continue
		}
		if err := b.Set(GroupMemberKey(groupID, u), nil, nil); err != nil {
			return GroupChange{}, err
		}
		pending[u] = true
		ch.Added++
	}
	for _, u := range remove {
		in, err := isMember(u)
		if err != nil {
			return GroupChange{}, err
		}
		if !in {
			continue
		}
		if err := b.Delete(GroupMemberKey(groupID, u), nil); err != nil {
			return GroupChange{}, err
		}
		pending[u] = false
		ch.Removed++
	}
	meta.Members += int64(ch.Added - ch.Removed)
	ch.Members = meta.Members
	if b.Empty() {
		return ch, nil
	}
	if ch.Added > 0 {
		// Removing members frees space; adding them is refused near a
		// full disk (the whole change: nothing half-applied).
		if err := s.space.check(); err != nil {
			return GroupChange{}, err
		}
	}
	if err := b.Set(GroupMetaKey(groupID), EncodeGroupMeta(meta), nil); err != nil {
		return GroupChange{}, err
	}
	return ch, s.commit("group_update", b)
}

func (s *Store) groupMeta(groupID string) (GroupMeta, error) {
	v, ok, err := s.get(GroupMetaKey(groupID))
	if err != nil || !ok {
		return GroupMeta{}, err
	}
	m, err := DecodeGroupMeta(v)
	if err != nil {
		return GroupMeta{}, fmt.Errorf("store: group %q: %w", groupID, err)
	}
	return m, nil
}

// GroupSize returns the group's member count (0 for an unknown group).
func (s *Store) GroupSize(groupID string) (int64, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	m, err := s.groupMeta(groupID)
	return m.Members, err
}

// GroupMembers returns up to limit members after the given user id (""
// starts at the beginning), in user-id order, and whether more follow.
func (s *Store) GroupMembers(groupID, after string, limit int) ([]string, bool, error) {
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.mu.RUnlock()
	lower, upper := ownerPrefix(tagGroup, groupID)
	if after != "" {
		lower = append(GroupMemberKey(groupID, after), separator)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, false, fmt.Errorf("store: group members: %w", err)
	}
	defer it.Close()
	prefix := len(tagGroup) + len(groupID) + 1
	out := make([]string, 0, min(limit, 1024))
	for it.First(); it.Valid(); it.Next() {
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, string(it.Key()[prefix:]))
	}
	return out, false, it.Error()
}

// DeleteGroup removes the group and all its members in one synced batch.
func (s *Store) DeleteGroup(groupID string) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	unlock := s.groupLocks.lock(groupID)
	defer unlock()
	lower, upper := ownerPrefix(tagGroup, groupID)
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lower, upper, nil); err != nil {
		return err
	}
	if err := b.Delete(GroupMetaKey(groupID), nil); err != nil {
		return err
	}
	return s.commit("group_delete", b)
}

// IsGroupMember reports whether userID is in the group.
func (s *Store) IsGroupMember(groupID, userID string) (bool, error) {
	if err := s.acquire(); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	_, ok, err := s.get(GroupMemberKey(groupID, userID))
	return ok, err
}
