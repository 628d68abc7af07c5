package store

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Recipient is one user's push-relevant state at planning time.
type Recipient struct {
	UserID  string
	Online  bool
	Devices []BoundDevice
}

// BoundDevice is a device with its binding.
type BoundDevice struct {
	DeviceID string
	Device   Device
}

// Recipients reads, for each user (in any order), whether a presence
// lease is live at nowMs and which devices are bound. One iterator per
// table seeks from user to user, so a sorted chunk reads sequentially.
func (s *Store) Recipients(userIDs []string, nowMs int64) ([]Recipient, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	devIt, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagDevice), UpperBound: []byte("d0")})
	if err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	defer devIt.Close()
	leaseIt, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagLease), UpperBound: []byte("l0")})
	if err != nil {
		return nil, fmt.Errorf("store: recipients: %w", err)
	}
	defer leaseIt.Close()
	out := make([]Recipient, 0, len(userIDs))
	leases, devices := &cursor{it: leaseIt, tag: tagLease}, &cursor{it: devIt, tag: tagDevice}
	for _, u := range userIDs {
		r := Recipient{UserID: u}
		lower := leases.at(u)
		for ok := leases.valid(); ok && bytes.HasPrefix(leaseIt.Key(), lower); ok = leaseIt.Next() {
			v, err := leaseIt.ValueAndErr()
			if err != nil {
				return nil, fmt.Errorf("store: recipients: %w", err)
			}
			l, err := DecodeLease(v)
			if err != nil {
				return nil, fmt.Errorf("store: lease of %q: %w", u, err)
			}
			if l.ExpiresAt > nowMs {
				r.Online = true
				break
			}
		}
		if err := leaseIt.Error(); err != nil { // a later seek would clear it
			return nil, fmt.Errorf("store: recipients: %w", err)
		}
		if !r.Online {
			lower = devices.at(u)
			for ok := devices.valid(); ok && bytes.HasPrefix(devIt.Key(), lower); ok = devIt.Next() {
				v, err := devIt.ValueAndErr()
				if err != nil {
					return nil, fmt.Errorf("store: recipients: %w", err)
				}
				d, err := DecodeDevice(v)
				if err != nil {
					return nil, fmt.Errorf("store: device of %q: %w", u, err)
				}
				r.Devices = append(r.Devices, BoundDevice{DeviceID: string(devIt.Key()[len(lower):]), Device: d})
			}
			if err := devIt.Error(); err != nil {
				return nil, fmt.Errorf("store: recipients: %w", err)
			}
		}
		out = append(out, r)
	}
	if err := leaseIt.Error(); err != nil {
		return nil, err
	}
	return out, devIt.Error()
}

// cursor walks one "<tag><user>\x00<...>" table for users in order. A
// seek costs far more than a step, and in a sorted chunk the iterator
// usually already stands at (or past) the next user's rows after reading
// the previous user's: at positions the iterator there, seeking only when
// it must.
type cursor struct {
	it   *pebble.Iterator
	tag  string
	buf  []byte // the current user's row prefix
	prev string // the previous user; "" before the first
	seen bool   // the iterator has been positioned
}

// at positions the iterator at the first row of userID or after it, and
// returns the user's row prefix (valid until the next call).
func (c *cursor) at(userID string) []byte {
	c.buf = appendOwnerPrefix(c.buf[:0], c.tag, userID)
	// Past the previous user's rows the iterator stands at the first key
	// >= that user's upper bound, which is <= this user's prefix when the
	// users ascend: if it is at or past this prefix, nothing lies between.
	ascending := c.seen && userID > c.prev
	if !ascending || (c.it.Valid() && bytes.Compare(c.it.Key(), c.buf) < 0) {
		c.it.SeekGE(c.buf)
	}
	c.seen, c.prev = true, userID
	return c.buf
}

// valid reports whether the iterator stands on a row.
func (c *cursor) valid() bool { return c.it.Valid() }
