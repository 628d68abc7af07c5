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
	for _, u := range userIDs {
		r := Recipient{UserID: u}
		lower, _ := ownerPrefix(tagLease, u)
		for ok := leaseIt.SeekGE(lower); ok && bytes.HasPrefix(leaseIt.Key(), lower); ok = leaseIt.Next() {
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
		if !r.Online {
			lower, _ = ownerPrefix(tagDevice, u)
			for ok := devIt.SeekGE(lower); ok && bytes.HasPrefix(devIt.Key(), lower); ok = devIt.Next() {
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
		}
		out = append(out, r)
	}
	if err := leaseIt.Error(); err != nil {
		return nil, err
	}
	return out, devIt.Error()
}
