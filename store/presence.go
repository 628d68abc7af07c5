package store

import "github.com/cockroachdb/pebble/v2"

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

// SetUserMeta writes a user's meta record.
func (s *Store) SetUserMeta(userID string, m UserMeta) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(UserKey(userID), EncodeUserMeta(m), nil); err != nil {
		return err
	}
	return s.commit("user_meta", b)
}
