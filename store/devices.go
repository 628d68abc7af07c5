package store

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// UserState is everything the store keeps about one user. Devices and
// leases are slices sorted by device id rather than maps: a user has a
// handful of each, and a Go map of one Device costs a whole group of eight
// slots (about 1 KiB), which a live user actor would carry around.
type UserState struct {
	Devices []DeviceRow // sorted by DeviceID, unique
	Leases  []LeaseRow  // sorted by DeviceID, unique
	Meta    UserMeta
}

// DeviceRow is one of a user's device bindings.
type DeviceRow struct {
	DeviceID string
	Device   Device
}

// LeaseRow is the presence lease of one of a user's device sessions.
type LeaseRow struct {
	DeviceID string
	Lease    Lease
}

// BindResult reports what a BindDevice changed besides the new row.
type BindResult struct {
	// MovedFrom is the (user, device) that held the PushID before, when it
	// was another one; that device's binding is gone.
	MovedFrom *Binding
	// Replaced is the PushID this device held before, when it was another
	// one; its index row is gone.
	Replaced string
}

// LoadUser reads a user's devices, leases and meta.
func (s *Store) LoadUser(userID string) (UserState, error) {
	if err := s.acquire(); err != nil {
		return UserState{}, err
	}
	defer s.mu.RUnlock()
	// Keys are in device-id order, so appending keeps the rows sorted.
	var st UserState
	if err := s.scanOwner(tagDevice, userID, func(dev string, v []byte) error {
		d, err := DecodeDevice(v)
		if err != nil {
			return err
		}
		st.Devices = append(st.Devices, DeviceRow{DeviceID: dev, Device: d})
		return nil
	}); err != nil {
		return UserState{}, err
	}
	if err := s.scanOwner(tagLease, userID, func(dev string, v []byte) error {
		l, err := DecodeLease(v)
		if err != nil {
			return err
		}
		st.Leases = append(st.Leases, LeaseRow{DeviceID: dev, Lease: l})
		return nil
	}); err != nil {
		return UserState{}, err
	}
	v, ok, err := s.get(UserKey(userID))
	if err != nil {
		return UserState{}, err
	}
	if ok {
		if st.Meta, err = DecodeUserMeta(v); err != nil {
			return UserState{}, fmt.Errorf("store: user %q: %w", userID, err)
		}
	}
	return st, nil
}

// scanOwner calls fn for every row of userID in a "<tag><user>\x00<id>" table.
func (s *Store) scanOwner(tag, userID string, fn func(id string, v []byte) error) error {
	lower, upper := ownerPrefix(tag, userID)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("store: scan: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		id, err := splitKey2(it.Key(), len(lower))
		if err == nil {
			var v []byte
			if v, err = it.ValueAndErr(); err == nil {
				err = fn(id, v)
			}
		}
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("store: scan %s%s: %w", tag, userID, err)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: scan: %w", err)
	}
	return nil
}

// GetDevice reads one device record.
func (s *Store) GetDevice(userID, deviceID string) (Device, bool, error) {
	if err := s.acquire(); err != nil {
		return Device{}, false, err
	}
	defer s.mu.RUnlock()
	return s.getDevice(userID, deviceID)
}

func (s *Store) getDevice(userID, deviceID string) (Device, bool, error) {
	v, ok, err := s.get(DeviceKey(userID, deviceID))
	if err != nil || !ok {
		return Device{}, false, err
	}
	d, err := DecodeDevice(v)
	if err != nil {
		return Device{}, false, fmt.Errorf("store: device %q/%q: %w", userID, deviceID, err)
	}
	return d, true, nil
}

// LookupPushID returns who holds a PushID.
func (s *Store) LookupPushID(vendor, token string) (Binding, bool, error) {
	if err := s.acquire(); err != nil {
		return Binding{}, false, err
	}
	defer s.mu.RUnlock()
	return s.lookup(vendor, token)
}

func (s *Store) lookup(vendor, token string) (Binding, bool, error) {
	v, ok, err := s.get(PushIDKey(vendor, token))
	if err != nil || !ok {
		return Binding{}, false, err
	}
	b, err := DecodeBinding(v)
	if err != nil {
		return Binding{}, false, fmt.Errorf("store: pushid %s:%s: %w", vendor, token, err)
	}
	return b, true, nil
}

// BindDevice binds d to (userID, deviceID) durably. If another (user, device)
// held the same PushID, that binding is removed in the same batch and named
// in the result; if this device held another PushID, that index row goes.
func (s *Store) BindDevice(userID, deviceID string, d Device) (BindResult, error) {
	if err := s.acquire(); err != nil {
		return BindResult{}, err
	}
	defer s.mu.RUnlock()
	if err := s.space.check(); err != nil {
		return BindResult{}, err
	}
	for {
		cur, had, err := s.getDevice(userID, deviceID)
		if err != nil {
			return BindResult{}, err
		}
		unlock := s.lockStripesOf(d, cur)
		res, retry, err := s.bindLocked(userID, deviceID, d, cur, had)
		unlock()
		if !retry {
			return res, err
		}
	}
}

// bindLocked runs with the stripes of d and cur held. retry reports that the
// device changed between the unlocked read and the lock.
func (s *Store) bindLocked(userID, deviceID string, d, cur Device, had bool) (res BindResult, retry bool, err error) {
	now, hasNow, err := s.getDevice(userID, deviceID)
	if err != nil {
		return res, false, err
	}
	if hasNow != had || now.PushID() != cur.PushID() {
		return res, true, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	owner, held, err := s.lookup(d.Vendor, d.Token)
	if err != nil {
		return res, false, err
	}
	self := Binding{UserID: userID, DeviceID: deviceID}
	if held && owner != self {
		od, ok, err := s.getDevice(owner.UserID, owner.DeviceID)
		if err != nil {
			return res, false, err
		}
		if ok && od.PushID() == d.PushID() {
			if err := b.Delete(DeviceKey(owner.UserID, owner.DeviceID), nil); err != nil {
				return res, false, err
			}
		}
		res.MovedFrom = &owner
	}
	if had && cur.PushID() != d.PushID() {
		if prev, ok, err := s.lookup(cur.Vendor, cur.Token); err != nil {
			return res, false, err
		} else if ok && prev == self {
			if err := b.Delete(PushIDKey(cur.Vendor, cur.Token), nil); err != nil {
				return res, false, err
			}
		}
		res.Replaced = cur.PushID()
	}
	if err := b.Set(DeviceKey(userID, deviceID), EncodeDevice(d), nil); err != nil {
		return res, false, err
	}
	if err := b.Set(PushIDKey(d.Vendor, d.Token), EncodeBinding(self), nil); err != nil {
		return res, false, err
	}
	return res, false, s.commit("bind_device", b)
}

// UpdateDevice rewrites a device record's non-token fields if the device
// still holds the same PushID. The write is synced.
func (s *Store) UpdateDevice(userID, deviceID string, d Device) (bool, error) {
	return s.updateDevice(userID, deviceID, d, true, nil)
}

// RememberEnv records the APNs environment an automatic token turned out
// to belong to. It is a hint, not an acknowledged write: it is not synced
// (a lost hint only costs one production-then-development lookup again),
// which spares a fan-out one fsync per iOS device.
func (s *Store) RememberEnv(userID, deviceID string, d Device) (bool, error) {
	return s.updateDevice(userID, deviceID, d, false, nil)
}

// ev, when not nil, is the token.invalidated event the update gives.
func (s *Store) updateDevice(userID, deviceID string, d Device, sync bool, ev *TokenInvalidatedData) (bool, error) {
	if err := s.acquire(); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	unlock := s.lockStripesOf(d)
	defer unlock()
	cur, ok, err := s.getDevice(userID, deviceID)
	if err != nil || !ok || cur.PushID() != d.PushID() {
		return false, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(DeviceKey(userID, deviceID), EncodeDevice(d), nil); err != nil {
		return false, err
	}
	if !sync {
		return true, b.Commit(pebble.NoSync)
	}
	em := &emitter{s: s, b: b}
	if ev != nil {
		if err := em.emit(EventTokenInvalidated, ev); err != nil {
			return false, err
		}
	}
	return true, em.done(s.commit("update_device", b))
}

// DeleteDevice removes one device binding (unregister). Its presence lease
// stays: the session may still be connected without a push token.
func (s *Store) DeleteDevice(userID, deviceID string) (bool, error) {
	removed, err := s.removeDevices(userID, []string{deviceID}, false, "delete_device")
	return len(removed) > 0, err
}

// Logout removes the bindings and presence leases of the given device, or of
// all the user's devices when deviceID is empty, in one batch. It returns the
// device ids whose bindings were removed.
func (s *Store) Logout(userID, deviceID string) ([]string, error) {
	if deviceID != "" {
		return s.removeDevices(userID, []string{deviceID}, true, "logout")
	}
	if err := s.acquire(); err != nil {
		return nil, err
	}
	ids := map[string]struct{}{}
	for _, tag := range []string{tagDevice, tagLease} {
		if err := s.scanOwner(tag, userID, func(id string, _ []byte) error {
			ids[id] = struct{}{}
			return nil
		}); err != nil {
			s.mu.RUnlock()
			return nil, err
		}
	}
	s.mu.RUnlock()
	return s.removeDevices(userID, sortedKeys(ids), true, "logout")
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// removeDevices deletes the device rows (and their index rows, and with
// leases their leases) of deviceIDs in one synced batch.
func (s *Store) removeDevices(userID string, deviceIDs []string, leases bool, op string) ([]string, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	for {
		devs := make(map[string]Device, len(deviceIDs))
		for _, id := range deviceIDs {
			d, ok, err := s.getDevice(userID, id)
			if err != nil {
				return nil, err
			}
			if ok {
				devs[id] = d
			}
		}
		list := make([]Device, 0, len(devs))
		for _, d := range devs {
			list = append(list, d)
		}
		unlock := s.lockStripesOf(list...)
		removed, retry, err := s.removeLocked(userID, deviceIDs, devs, leases, op, nil)
		unlock()
		if !retry {
			return removed, err
		}
	}
}

// ev, when not nil, is the token.invalidated event the removal gives.
func (s *Store) removeLocked(userID string, deviceIDs []string, devs map[string]Device, leases bool, op string, ev *TokenInvalidatedData) (removed []string, retry bool, err error) {
	b := s.db.NewBatch()
	defer b.Close()
	self := Binding{UserID: userID}
	for _, id := range deviceIDs {
		d, ok, err := s.getDevice(userID, id)
		if err != nil {
			return nil, false, err
		}
		if was, had := devs[id]; had != ok || (ok && was.PushID() != d.PushID()) {
			return nil, true, nil
		}
		if leases {
			if err := b.Delete(LeaseKey(userID, id), nil); err != nil {
				return nil, false, err
			}
		}
		if !ok {
			continue
		}
		if err := b.Delete(DeviceKey(userID, id), nil); err != nil {
			return nil, false, err
		}
		self.DeviceID = id
		if owner, held, err := s.lookup(d.Vendor, d.Token); err != nil {
			return nil, false, err
		} else if held && owner == self {
			if err := b.Delete(PushIDKey(d.Vendor, d.Token), nil); err != nil {
				return nil, false, err
			}
		}
		removed = append(removed, id)
	}
	if b.Empty() {
		return nil, false, nil
	}
	em := &emitter{s: s, b: b}
	if ev != nil && len(removed) > 0 {
		if err := em.emit(EventTokenInvalidated, ev); err != nil {
			return nil, false, err
		}
	}
	return removed, false, em.done(s.commit(op, b))
}

// DeleteDeviceIfToken unbinds a device only if it still holds the PushID
// (vendor, token): a vendor's "token invalid" must not remove a token the
// device registered since.
func (s *Store) DeleteDeviceIfToken(userID, deviceID, vendor, token string) (bool, error) {
	if err := s.acquire(); err != nil {
		return false, err
	}
	d, ok, err := s.getDevice(userID, deviceID)
	s.mu.RUnlock()
	if err != nil || !ok || d.Vendor != vendor || (d.Token != token && d.VoIPToken != token) {
		return false, err
	}
	ev := TokenInvalidatedData{UserID: userID, DeviceID: deviceID, Vendor: vendor}
	if d.Token != token {
		// The VoIP token died: keep the binding, drop the VoIP token.
		d.VoIPToken = ""
		ev.VoIP = true
		return s.updateDevice(userID, deviceID, d, true, &ev)
	}
	removed, err := s.removeDevicesIf(userID, deviceID, d, &ev)
	return removed, err
}

// removeDevicesIf removes the device if it still equals want.
func (s *Store) removeDevicesIf(userID, deviceID string, want Device, ev *TokenInvalidatedData) (bool, error) {
	if err := s.acquire(); err != nil {
		return false, err
	}
	defer s.mu.RUnlock()
	unlock := s.lockStripesOf(want)
	defer unlock()
	removed, retry, err := s.removeLocked(userID, []string{deviceID}, map[string]Device{deviceID: want}, false, "unbind_invalid", ev)
	if retry {
		return false, nil // changed meanwhile: not the token that died
	}
	return len(removed) > 0, err
}
