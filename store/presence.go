package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// ApplyLeases writes one user's presence changes in one synced batch: puts
// set or renew leases, deletes end sessions.
func (s *Store) ApplyLeases(userID string, puts map[string]Lease, deletes []string) error {
	if len(puts) == 0 && len(deletes) == 0 {
		return nil
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	for id, l := range puts {
		if err := b.Set(LeaseKey(userID, id), EncodeLease(l), nil); err != nil {
			return err
		}
	}
	for _, id := range deletes {
		if err := b.Delete(LeaseKey(userID, id), nil); err != nil {
			return err
		}
	}
	return s.commit("presence", b)
}

// PruneLeases drops expired leases. It is housekeeping: the batch is not
// synced, since a lost prune only leaves an expired lease, which readers
// already treat as offline.
func (s *Store) PruneLeases(userID string, deviceIDs []string) error {
	if len(deviceIDs) == 0 {
		return nil
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	for _, id := range deviceIDs {
		if err := b.Delete(LeaseKey(userID, id), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// SetBadge stores the badge count a device reported, keeping the rest of
// the user's meta.
func (s *Store) SetBadge(userID string, count int64) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	unlock := s.userLocks.lock(userID)
	defer unlock()
	m, err := s.userMeta(userID)
	if err != nil {
		return err
	}
	m.Badge = count
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(UserKey(userID), EncodeUserMeta(m), nil); err != nil {
		return err
	}
	return s.commit("user_meta", b)
}

// UserMeta reads a user's meta record (zero for an unknown user).
func (s *Store) UserMeta(userID string) (UserMeta, error) {
	if err := s.acquire(); err != nil {
		return UserMeta{}, err
	}
	defer s.mu.RUnlock()
	return s.userMeta(userID)
}

func (s *Store) userMeta(userID string) (UserMeta, error) {
	v, ok, err := s.get(UserKey(userID))
	if err != nil || !ok {
		return UserMeta{}, err
	}
	return decodeMeta(userID, v)
}

// decodeMeta decodes the meta row of userID.
func decodeMeta(userID string, v []byte) (UserMeta, error) {
	m, err := DecodeUserMeta(v)
	if err != nil {
		return UserMeta{}, fmt.Errorf("store: user %q: %w", userID, err)
	}
	return m, nil
}
