package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// formatV1 is the first byte of every value this package writes.
const formatV1 = 1

// Table tags (see doc.go).
const (
	tagDevice  = "d/"
	tagPushID  = "p/"
	tagLease   = "l/"
	tagUser    = "u/"
	tagGroup   = "g/"
	tagGroupM  = "gm/"
	tagMessage = "m/"
	tagJob     = "j/"
	tagOutbox  = "o/"
	tagDead    = "x/"
	tagInbox   = "i/"
	tagCall    = "c/"
	tagRinging = "r/"
	tagVerdict = "v/"
	separator  = 0x00
	maxStrSize = 1 << 20
)

// ErrCorrupt is returned when a stored value cannot be decoded.
var ErrCorrupt = errors.New("store: corrupt record")

// Device is one device's push binding as stored under d/.
type Device struct {
	Vendor    string // vendor kind name: apns, fcm, huawei, xiaomi, oppo, vivo, web
	Token     string // the vendor push token
	APNsEnv   string // apns only: production, development or automatic
	VoIPToken string // apns only: PushKit token, optional
	Locale    string
	// ResolvedEnv remembers which APNs environment accepted the token when
	// APNsEnv is automatic; empty until a send has found out.
	ResolvedEnv string
	UpdatedAt   int64 // unix milliseconds
}

// PushID is the public name of a binding: "<vendor>:<token>".
func (d Device) PushID() string { return d.Vendor + ":" + d.Token }

// Binding names the (user, device) that holds a PushID.
type Binding struct {
	UserID   string
	DeviceID string
}

// Lease is a device session's presence lease.
type Lease struct {
	ExpiresAt int64 // unix milliseconds
}

// UserMeta holds per-user counters.
type UserMeta struct {
	Badge      int64
	InboxNext  int64 // sequence number the next inbox entry gets (0 = 1)
	InboxFirst int64 // lowest sequence still stored (0 = 1)
	InboxAcked int64 // entries up to this sequence are acknowledged
}

// encoder appends fields to a buffer.
type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) int(v int64) { e.b = binary.AppendVarint(e.b, v) }

// decoder reads fields written by encoder; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func newDecoder(b []byte) *decoder {
	d := &decoder{b: b}
	if len(b) == 0 {
		d.err = fmt.Errorf("%w: empty value", ErrCorrupt)
		return d
	}
	if b[0] != formatV1 {
		d.err = fmt.Errorf("%w: unknown format version %d", ErrCorrupt, b[0])
		return d
	}
	d.b = b[1:]
	return d
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	var buf [binary.MaxVarintLen64]byte
	if k <= 0 || binary.PutUvarint(buf[:], n) != k || n > maxStrSize || n > uint64(len(d.b)-k) {
		d.err = fmt.Errorf("%w: bad string field", ErrCorrupt)
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Varint(d.b)
	var buf [binary.MaxVarintLen64]byte
	if k <= 0 || binary.PutVarint(buf[:], v) != k {
		// Overlong encodings are rejected so every value has one byte form.
		d.err = fmt.Errorf("%w: bad integer field", ErrCorrupt)
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return d.err
}

// EncodeDevice returns the stored form of d.
func EncodeDevice(d Device) []byte {
	e := encoder{b: make([]byte, 0, 16+len(d.Vendor)+len(d.Token)+len(d.VoIPToken)+len(d.Locale)+len(d.APNsEnv)+len(d.ResolvedEnv))}
	e.b = append(e.b, formatV1)
	e.str(d.Vendor)
	e.str(d.Token)
	e.str(d.APNsEnv)
	e.str(d.VoIPToken)
	e.str(d.Locale)
	e.str(d.ResolvedEnv)
	e.int(d.UpdatedAt)
	return e.b
}

// DecodeDevice parses a value written by EncodeDevice.
func DecodeDevice(b []byte) (Device, error) {
	dec := newDecoder(b)
	d := Device{
		Vendor:      dec.str(),
		Token:       dec.str(),
		APNsEnv:     dec.str(),
		VoIPToken:   dec.str(),
		Locale:      dec.str(),
		ResolvedEnv: dec.str(),
		UpdatedAt:   dec.int(),
	}
	if err := dec.done(); err != nil {
		return Device{}, fmt.Errorf("device: %w", err)
	}
	return d, nil
}

// EncodeBinding returns the stored form of b.
func EncodeBinding(b Binding) []byte {
	e := encoder{b: make([]byte, 0, 3+len(b.UserID)+len(b.DeviceID))}
	e.b = append(e.b, formatV1)
	e.str(b.UserID)
	e.str(b.DeviceID)
	return e.b
}

// DecodeBinding parses a value written by EncodeBinding.
func DecodeBinding(b []byte) (Binding, error) {
	dec := newDecoder(b)
	v := Binding{UserID: dec.str(), DeviceID: dec.str()}
	if err := dec.done(); err != nil {
		return Binding{}, fmt.Errorf("binding: %w", err)
	}
	return v, nil
}

// EncodeLease returns the stored form of l.
func EncodeLease(l Lease) []byte {
	e := encoder{b: make([]byte, 0, 11)}
	e.b = append(e.b, formatV1)
	e.int(l.ExpiresAt)
	return e.b
}

// DecodeLease parses a value written by EncodeLease.
func DecodeLease(b []byte) (Lease, error) {
	dec := newDecoder(b)
	l := Lease{ExpiresAt: dec.int()}
	if err := dec.done(); err != nil {
		return Lease{}, fmt.Errorf("lease: %w", err)
	}
	return l, nil
}

// EncodeUserMeta returns the stored form of m.
func EncodeUserMeta(m UserMeta) []byte {
	e := encoder{b: make([]byte, 0, 31)}
	e.b = append(e.b, formatV1)
	e.int(m.Badge)
	e.int(m.InboxNext)
	e.int(m.InboxFirst)
	e.int(m.InboxAcked)
	return e.b
}

// DecodeUserMeta parses a value written by EncodeUserMeta.
func DecodeUserMeta(b []byte) (UserMeta, error) {
	dec := newDecoder(b)
	m := UserMeta{Badge: dec.int(), InboxNext: dec.int(), InboxFirst: dec.int(), InboxAcked: dec.int()}
	if err := dec.done(); err != nil {
		return UserMeta{}, fmt.Errorf("user meta: %w", err)
	}
	return m, nil
}

// Key builders. Each returns a fresh slice.

func key2(tag, a, b string) []byte {
	k := make([]byte, 0, len(tag)+len(a)+1+len(b))
	k = append(k, tag...)
	k = append(k, a...)
	k = append(k, separator)
	return append(k, b...)
}

// DeviceKey is the key of one device record.
func DeviceKey(userID, deviceID string) []byte { return key2(tagDevice, userID, deviceID) }

// PushIDKey is the key of one PushID index row.
func PushIDKey(vendor, token string) []byte { return key2(tagPushID, vendor, token) }

// LeaseKey is the key of one presence lease.
func LeaseKey(userID, deviceID string) []byte { return key2(tagLease, userID, deviceID) }

// UserKey is the key of a user's meta record.
func UserKey(userID string) []byte { return append([]byte(tagUser), userID...) }

// ownerPrefix returns the [lower, upper) bounds of every row of one user in
// a table keyed "<tag><user>\x00<...>".
func ownerPrefix(tag, userID string) (lower, upper []byte) {
	lower = appendOwnerPrefix(make([]byte, 0, len(tag)+len(userID)+1), tag, userID)
	upper = append(append([]byte(nil), lower[:len(lower)-1]...), separator+1)
	return lower, upper
}

// appendOwnerPrefix appends "<tag><user>\x00", the lower bound of ownerPrefix.
func appendOwnerPrefix(dst []byte, tag, userID string) []byte {
	return append(append(append(dst, tag...), userID...), separator)
}

// splitKey2 returns the second part of a "<tag><a>\x00<b>" key.
func splitKey2(key []byte, prefixLen int) (string, error) {
	if len(key) < prefixLen {
		return "", fmt.Errorf("%w: short key", ErrCorrupt)
	}
	return string(key[prefixLen:]), nil
}

// GroupMeta holds a group's member count.
type GroupMeta struct {
	Members int64
}

// EncodeGroupMeta returns the stored form of m.
func EncodeGroupMeta(m GroupMeta) []byte {
	e := encoder{b: make([]byte, 0, 11)}
	e.b = append(e.b, formatV1)
	e.int(m.Members)
	return e.b
}

// DecodeGroupMeta parses a value written by EncodeGroupMeta.
func DecodeGroupMeta(b []byte) (GroupMeta, error) {
	dec := newDecoder(b)
	m := GroupMeta{Members: dec.int()}
	if err := dec.done(); err != nil {
		return GroupMeta{}, fmt.Errorf("group meta: %w", err)
	}
	return m, nil
}

// GroupMemberKey is the key of one group membership (the value is empty).
func GroupMemberKey(groupID, userID string) []byte { return key2(tagGroup, groupID, userID) }

// GroupMetaKey is the key of a group's meta record.
func GroupMetaKey(groupID string) []byte { return append([]byte(tagGroupM), groupID...) }

// Pending is the number of stored, unacknowledged inbox entries.
func (m UserMeta) Pending() int64 {
	next, first := max(m.InboxNext, 1), max(m.InboxFirst, 1)
	return max(next-max(m.InboxAcked+1, first), 0)
}
