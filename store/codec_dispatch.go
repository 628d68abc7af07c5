package store

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Message is an accepted message: what it says, where it goes, and the
// answer given when it was accepted (replayed for a duplicate message_id).
type Message struct {
	MessageID string
	From      string
	ToType    string // peer, users, group
	ToID      string // peer user or group id
	ToIDs     []string
	Body      []byte // raw JSON, stored for the inbox
	CreatedAt int64  // unix ms

	HasPush        bool
	Title          string
	Content        string
	Payload        string
	ResourcesID    string
	BadgeIncrement int64
	Passthrough    bool
	TTLSeconds     int64
	Priority       string
	CollapseID     string

	// Recipients, Online and Offline are the counts given in the answer.
	Recipients, Online, Offline int64
}

// Job is an unfinished group fan-out.
type Job struct {
	MessageID string
	GroupID   string
	Cursor    string // last member planned; "" = none yet
	Online    int64  // running counts
	Offline   int64
	Targets   int64
}

// OutboxEntry is one notification waiting for a final vendor verdict.
type OutboxEntry struct {
	Token     string
	APNsEnv   string
	Badge     int64 // badge to show; -1 = none
	VoIP      bool
	Attempts  int64
	NotBefore int64 // unix ms; 0 = now
	LastCode  string
	Priority  bool // a call push: the senders' priority lane, skipping batching
}

// RowKind is what an outbox row pushes.
type RowKind uint8

const (
	// RowMessage pushes a stored message; the row's ID is its message_id.
	RowMessage RowKind = iota
	// RowCallInvite rings an offline invitee; the row's ID is the call_id.
	RowCallInvite
	// RowCallCancel stops a ringing phone; the row's ID is the call_id and
	// its Reason why the call stopped ringing (cancel, timeout, accept, …).
	RowCallCancel
)

// String is the kind's name in the API: message, call_invite, call_cancel.
func (k RowKind) String() string {
	switch k {
	case RowMessage:
		return "message"
	case RowCallInvite:
		return "call_invite"
	case RowCallCancel:
		return "call_cancel"
	}
	return "unknown"
}

// RowID is what an outbox row pushes: the rows of one message (or of one
// call's invitation, or of one cancel notice) share it.
type RowID struct {
	Kind   RowKind
	ID     string // the message's id (RowMessage) or the call's
	Reason string // RowCallCancel only
}

// ParseRowKind is the kind named s (as String writes it).
func ParseRowKind(s string) (RowKind, bool) {
	for _, k := range []RowKind{RowMessage, RowCallInvite, RowCallCancel} {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// OutboxKey names one outbox (or dead-letter) row: the vendor's queue,
// then what it pushes, the user and the device. Re-planning the same
// message after a crash writes the same keys, so a resumed fan-out adds no
// rows.
type OutboxKey struct {
	Vendor string
	RowID
	UserID   string
	DeviceID string
}

// Stored ids of call rows: a call's rows live in their own namespace of
// the key's id part ('/' never appears in an API id, see doc.go).
const (
	callInvitePrefix = "call/"
	callCancelPrefix = "callx/"
)

// storedID is the id part of the row's key.
func (k RowID) storedID() string {
	switch k.Kind {
	case RowCallInvite:
		return callInvitePrefix + k.ID
	case RowCallCancel:
		return callCancelPrefix + k.Reason + "/" + k.ID
	}
	return k.ID
}

// parseStoredID sets k from a key's id part.
func (k *RowID) parseStoredID(s string) error {
	if rest, ok := strings.CutPrefix(s, callInvitePrefix); ok {
		k.Kind, k.ID = RowCallInvite, rest
		return nil
	}
	if rest, ok := strings.CutPrefix(s, callCancelPrefix); ok {
		reason, id, ok := strings.Cut(rest, "/")
		if !ok {
			return fmt.Errorf("%w: call cancel row id %q has no reason", ErrCorrupt, s)
		}
		k.Kind, k.ID, k.Reason = RowCallCancel, id, reason
		return nil
	}
	k.Kind, k.ID = RowMessage, s
	return nil
}

// InboxEntry is one message in a user's inbox.
type InboxEntry struct {
	MessageID string
	SentAt    int64 // unix ms
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// EncodeMessage returns the stored form of m.
func EncodeMessage(m Message) []byte {
	e := encoder{b: make([]byte, 0, 64+len(m.Body)+len(m.Title)+len(m.Content)+len(m.Payload))}
	e.b = append(e.b, formatV1)
	e.str(m.MessageID)
	e.str(m.From)
	e.str(m.ToType)
	e.str(m.ToID)
	e.int(int64(len(m.ToIDs)))
	for _, id := range m.ToIDs {
		e.str(id)
	}
	e.str(string(m.Body))
	e.int(m.CreatedAt)
	e.int(boolInt(m.HasPush))
	e.str(m.Title)
	e.str(m.Content)
	e.str(m.Payload)
	e.str(m.ResourcesID)
	e.int(m.BadgeIncrement)
	e.int(boolInt(m.Passthrough))
	e.int(m.TTLSeconds)
	e.str(m.Priority)
	e.str(m.CollapseID)
	e.int(m.Recipients)
	e.int(m.Online)
	e.int(m.Offline)
	return e.b
}

// DecodeMessage parses a value written by EncodeMessage.
func DecodeMessage(b []byte) (Message, error) {
	d := newDecoder(b)
	m := Message{MessageID: d.str(), From: d.str(), ToType: d.str(), ToID: d.str()}
	n := d.int()
	if n < 0 || n > int64(len(b)) {
		return Message{}, fmt.Errorf("message: %w: bad id count", ErrCorrupt)
	}
	for range n {
		m.ToIDs = append(m.ToIDs, d.str())
	}
	m.Body = []byte(d.str())
	if len(m.Body) == 0 {
		m.Body = nil
	}
	m.CreatedAt = d.int()
	m.HasPush = d.int() != 0
	m.Title, m.Content, m.Payload, m.ResourcesID = d.str(), d.str(), d.str(), d.str()
	m.BadgeIncrement = d.int()
	m.Passthrough = d.int() != 0
	m.TTLSeconds = d.int()
	m.Priority, m.CollapseID = d.str(), d.str()
	m.Recipients, m.Online, m.Offline = d.int(), d.int(), d.int()
	if err := d.done(); err != nil {
		return Message{}, fmt.Errorf("message: %w", err)
	}
	return m, nil
}

// EncodeJob returns the stored form of j.
func EncodeJob(j Job) []byte {
	e := encoder{b: make([]byte, 0, 32+len(j.MessageID)+len(j.GroupID)+len(j.Cursor))}
	e.b = append(e.b, formatV1)
	e.str(j.MessageID)
	e.str(j.GroupID)
	e.str(j.Cursor)
	e.int(j.Online)
	e.int(j.Offline)
	e.int(j.Targets)
	return e.b
}

// DecodeJob parses a value written by EncodeJob.
func DecodeJob(b []byte) (Job, error) {
	d := newDecoder(b)
	j := Job{MessageID: d.str(), GroupID: d.str(), Cursor: d.str(), Online: d.int(), Offline: d.int(), Targets: d.int()}
	if err := d.done(); err != nil {
		return Job{}, fmt.Errorf("job: %w", err)
	}
	return j, nil
}

// EncodeOutboxEntry returns the stored form of o.
func EncodeOutboxEntry(o OutboxEntry) []byte {
	e := encoder{b: make([]byte, 0, 24+len(o.Token)+len(o.APNsEnv)+len(o.LastCode))}
	e.b = append(e.b, formatV1)
	e.str(o.Token)
	e.str(o.APNsEnv)
	e.int(o.Badge)
	e.int(boolInt(o.VoIP))
	e.int(o.Attempts)
	e.int(o.NotBefore)
	e.str(o.LastCode)
	e.int(boolInt(o.Priority))
	return e.b
}

// DecodeOutboxEntry parses a value written by EncodeOutboxEntry.
func DecodeOutboxEntry(b []byte) (OutboxEntry, error) {
	d := newDecoder(b)
	o := OutboxEntry{Token: d.str(), APNsEnv: d.str(), Badge: d.int(), VoIP: d.int() != 0, Attempts: d.int(), NotBefore: d.int(), LastCode: d.str(), Priority: d.int() != 0}
	if err := d.done(); err != nil {
		return OutboxEntry{}, fmt.Errorf("outbox entry: %w", err)
	}
	return o, nil
}

// EncodeInboxEntry returns the stored form of i.
func EncodeInboxEntry(i InboxEntry) []byte {
	e := encoder{b: make([]byte, 0, 12+len(i.MessageID))}
	e.b = append(e.b, formatV1)
	e.str(i.MessageID)
	e.int(i.SentAt)
	return e.b
}

// DecodeInboxEntry parses a value written by EncodeInboxEntry.
func DecodeInboxEntry(b []byte) (InboxEntry, error) {
	d := newDecoder(b)
	i := InboxEntry{MessageID: d.str(), SentAt: d.int()}
	if err := d.done(); err != nil {
		return InboxEntry{}, fmt.Errorf("inbox entry: %w", err)
	}
	return i, nil
}

// MessageKey is the key of a message record.
func MessageKey(id string) []byte { return append([]byte(tagMessage), id...) }

// JobKey is the key of a fan-out job.
func JobKey(messageID string) []byte { return append([]byte(tagJob), messageID...) }

func outboxKey(tag string, k OutboxKey) []byte {
	return k.appendKey(make([]byte, 0, len(tag)+len(k.Vendor)+len(k.ID)+len(k.Reason)+len(k.UserID)+len(k.DeviceID)+len(callCancelPrefix)+4), tag)
}

// appendKey appends the row's key under tag to b.
func (k OutboxKey) appendKey(b []byte, tag string) []byte {
	b = append(b, tag...)
	b = append(b, k.Vendor...)
	b = append(b, separator)
	if k.Kind == RowMessage {
		b = append(b, k.ID...) // the hot path: no string built
	} else {
		b = append(b, k.storedID()...)
	}
	b = append(b, separator)
	b = append(b, k.UserID...)
	b = append(b, separator)
	return append(b, k.DeviceID...)
}

// encode returns the outbox row key.
func (k OutboxKey) encode() []byte { return outboxKey(tagOutbox, k) }

// DeadKey returns the dead-letter row key.
func (k OutboxKey) DeadKey() []byte { return outboxKey(tagDead, k) }

// parseOutboxKey splits a key built by outboxKey.
func parseOutboxKey(tag string, key []byte) (OutboxKey, error) {
	if len(key) < len(tag) {
		return OutboxKey{}, fmt.Errorf("%w: short outbox key", ErrCorrupt)
	}
	parts := strings.Split(string(key[len(tag):]), "\x00")
	if len(parts) != 4 {
		return OutboxKey{}, fmt.Errorf("%w: outbox key has %d parts", ErrCorrupt, len(parts))
	}
	k := OutboxKey{Vendor: parts[0], UserID: parts[2], DeviceID: parts[3]}
	if err := k.parseStoredID(parts[1]); err != nil {
		return OutboxKey{}, err
	}
	return k, nil
}

// Cursor is the row's position among the rows as an opaque, URL-safe
// string (a dead-letter page's next cursor).
func (k OutboxKey) Cursor() string {
	return base64.RawURLEncoding.EncodeToString(k.appendKey(nil, ""))
}

// ParseCursor is the key of the row at cursor (from Cursor).
func ParseCursor(cursor string) (OutboxKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return OutboxKey{}, fmt.Errorf("cursor: %w", err)
	}
	k, err := parseOutboxKey("", b)
	if err != nil || k.Vendor == "" {
		return OutboxKey{}, errors.New("cursor: not a row position")
	}
	return k, nil
}

// InboxKey is the key of one inbox entry: the user, then the big-endian
// sequence number, so entries sort in arrival order.
func InboxKey(userID string, seq int64) []byte {
	b := make([]byte, 0, len(tagInbox)+len(userID)+9)
	b = append(b, tagInbox...)
	b = append(b, userID...)
	b = append(b, separator)
	return binary.BigEndian.AppendUint64(b, uint64(seq))
}
