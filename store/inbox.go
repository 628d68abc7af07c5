package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// InboxItem is one inbox entry with its message (nil when the message
// record is gone).
type InboxItem struct {
	Seq     int64
	Entry   InboxEntry
	Message *Message
}

// Inbox reads up to limit entries of a user with sequence > after.
func (s *Store) Inbox(userID string, after int64, limit int) (items []InboxItem, more bool, err error) {
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.mu.RUnlock()
	meta, err := s.userMeta(userID)
	if err != nil {
		return nil, false, err
	}
	from := max(after+1, meta.InboxAcked+1, meta.InboxFirst, 1)
	_, upper := ownerPrefix(tagInbox, userID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: InboxKey(userID, from), UpperBound: upper})
	if err != nil {
		return nil, false, err
	}
	defer it.Close()
	prefix := len(tagInbox) + len(userID) + 1
	for it.First(); it.Valid(); it.Next() {
		if len(items) == limit {
			return items, true, nil
		}
		k := it.Key()
		if len(k) != prefix+8 {
			return nil, false, fmt.Errorf("store: inbox key: %w", ErrCorrupt)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, false, err
		}
		e, err := DecodeInboxEntry(v)
		if err != nil {
			return nil, false, err
		}
		item := InboxItem{Seq: int64(binary.BigEndian.Uint64(k[prefix:])), Entry: e}
		if mv, ok, err := s.get(MessageKey(e.MessageID)); err != nil {
			return nil, false, err
		} else if ok {
			m, err := DecodeMessage(mv)
			if err != nil {
				return nil, false, err
			}
			item.Message = &m
		}
		items = append(items, item)
	}
	return items, false, it.Error()
}

// AckInbox acknowledges entries up to seq (clamped to what exists) and
// deletes them. It returns the user's remaining pending count.
func (s *Store) AckInbox(userID string, upTo int64) (int64, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	unlock := s.userLocks.lock(userID)
	defer unlock()
	m, err := s.userMeta(userID)
	if err != nil {
		return 0, err
	}
	upTo = min(upTo, max(m.InboxNext, 1)-1)
	if upTo <= m.InboxAcked {
		return m.Pending(), nil
	}
	first := max(m.InboxFirst, 1)
	b := s.db.NewBatch()
	defer b.Close()
	if upTo+1 > first {
		if err := b.DeleteRange(InboxKey(userID, first), InboxKey(userID, upTo+1), nil); err != nil {
			return 0, err
		}
		m.InboxFirst = upTo + 1
	}
	m.InboxAcked = upTo
	if err := b.Set(UserKey(userID), EncodeUserMeta(m), nil); err != nil {
		return 0, err
	}
	return m.Pending(), s.commit("inbox_ack", b)
}

// ExpireInbox drops a user's inbox entries sent before cutoffMs (entries
// are in time order, so it stops at the first newer one) and returns how
// many it dropped.
func (s *Store) ExpireInbox(userID string, cutoffMs int64) (int64, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	unlock := s.userLocks.lock(userID)
	defer unlock()
	m, err := s.userMeta(userID)
	if err != nil {
		return 0, err
	}
	first, next := max(m.InboxFirst, 1), max(m.InboxNext, 1)
	newFirst := first
	for ; newFirst < next; newFirst++ {
		v, ok, err := s.get(InboxKey(userID, newFirst))
		if err != nil {
			return 0, err
		}
		if ok {
			e, err := DecodeInboxEntry(v)
			if err != nil {
				return 0, err
			}
			if e.SentAt >= cutoffMs {
				break
			}
		}
	}
	if newFirst == first {
		return 0, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(InboxKey(userID, first), InboxKey(userID, newFirst), nil); err != nil {
		return 0, err
	}
	m.InboxFirst = newFirst
	m.InboxAcked = max(m.InboxAcked, newFirst-1)
	if err := b.Set(UserKey(userID), EncodeUserMeta(m), nil); err != nil {
		return 0, err
	}
	return newFirst - first, s.commit("inbox_expire", b)
}

// InboxUsers calls fn for every user that has inbox rows, once each.
func (s *Store) InboxUsers(fn func(userID string) error) error {
	if err := s.acquire(); err != nil {
		return err
	}
	users := []string{}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagInbox), UpperBound: []byte("i0")})
	if err != nil {
		s.mu.RUnlock()
		return err
	}
	for ok := it.First(); ok; {
		k := it.Key()
		end := len(k) - 9
		if end < len(tagInbox) {
			ok = it.Next()
			continue
		}
		u := string(k[len(tagInbox):end])
		users = append(users, u)
		_, upper := ownerPrefix(tagInbox, u)
		ok = it.SeekGE(upper)
	}
	err = it.Close()
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}
