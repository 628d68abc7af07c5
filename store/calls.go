package store

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// CallState is the state of a call or of one of its invitees. Its string
// is what the API shows and what the store writes: a value never changes.
type CallState string

// Call and invitee states. An invitee starts ringing and ends in one of
// the others; a call rings while any invitee rings and then takes the
// state its last action or timeout implies (the call actor decides).
const (
	CallRinging   CallState = "ringing"   // invitee: not answered yet; call: an invitee still rings
	CallAccepted  CallState = "accepted"  // invitee: picked up; call: an invitee picked up
	CallRejected  CallState = "rejected"  // invitee: declined; call: every invitee declined
	CallCancelled CallState = "cancelled" // invitee: still rang when the call was cancelled or ended; call: the inviter cancelled before anyone picked up
	CallTimedOut  CallState = "timed_out" // invitee: rang until the deadline; call: nobody picked up and an invitee timed out
	CallEnded     CallState = "ended"     // invitee: had picked up when the call ended; call: a party ended it
)

// String is the state's name, as stored and shown.
func (s CallState) String() string { return string(s) }

// Call is a call invitation and its state.
type Call struct {
	CallID     string
	Inviter    string
	State      CallState
	Invitees   []Invitee
	CreatedAt  int64 // unix ms
	DeadlineAt int64 // unix ms: ringing invitees time out then
	Data       []byte
	Title      string
	Content    string
	Resources  string
	// Pushed are the outbox rows the invitation created: who gets a cancel
	// notice when an invitee stops ringing.
	Pushed []OutboxKeyToken
}

// Invitee is one invitee's state.
type Invitee struct {
	UserID string
	State  CallState
}

// OutboxKeyToken is a pushed device: its row key and token.
type OutboxKeyToken struct {
	Key   OutboxKey
	Token string
	VoIP  bool
}

// Ringing reports whether any invitee still rings.
func (c *Call) Ringing() bool {
	for _, iv := range c.Invitees {
		if iv.State == CallRinging {
			return true
		}
	}
	return false
}

// EncodeCall returns the stored form of c.
func EncodeCall(c Call) []byte {
	e := encoder{b: make([]byte, 0, 128+len(c.Data))}
	e.b = append(e.b, formatV1)
	e.str(c.CallID)
	e.str(c.Inviter)
	e.str(string(c.State))
	e.int(int64(len(c.Invitees)))
	for _, iv := range c.Invitees {
		e.str(iv.UserID)
		e.str(string(iv.State))
	}
	e.int(c.CreatedAt)
	e.int(c.DeadlineAt)
	e.str(string(c.Data))
	e.str(c.Title)
	e.str(c.Content)
	e.str(c.Resources)
	e.int(int64(len(c.Pushed)))
	for _, p := range c.Pushed {
		e.str(p.Key.Vendor)
		e.str(p.Key.storedID())
		e.str(p.Key.UserID)
		e.str(p.Key.DeviceID)
		e.str(p.Token)
		e.int(boolInt(p.VoIP))
	}
	return e.b
}

// DecodeCall parses a value written by EncodeCall.
func DecodeCall(b []byte) (Call, error) {
	d := newDecoder(b)
	c := Call{CallID: d.str(), Inviter: d.str(), State: CallState(d.str())}
	n := d.int()
	if n < 0 || n > int64(len(b)) {
		return Call{}, fmt.Errorf("call: %w: bad invitee count", ErrCorrupt)
	}
	for range n {
		c.Invitees = append(c.Invitees, Invitee{UserID: d.str(), State: CallState(d.str())})
	}
	c.CreatedAt, c.DeadlineAt = d.int(), d.int()
	c.Data = []byte(d.str())
	if len(c.Data) == 0 {
		c.Data = nil
	}
	c.Title, c.Content, c.Resources = d.str(), d.str(), d.str()
	n = d.int()
	if n < 0 || n > int64(len(b)) {
		return Call{}, fmt.Errorf("call: %w: bad pushed count", ErrCorrupt)
	}
	for range n {
		p := OutboxKeyToken{Key: OutboxKey{Vendor: d.str()}}
		if err := p.Key.RowID.parseStoredID(d.str()); err != nil {
			return Call{}, fmt.Errorf("call: %w", err)
		}
		p.Key.UserID, p.Key.DeviceID, p.Token = d.str(), d.str(), d.str()
		p.VoIP = d.int() != 0
		c.Pushed = append(c.Pushed, p)
	}
	if err := d.done(); err != nil {
		return Call{}, fmt.Errorf("call: %w", err)
	}
	return c, nil
}

// CallKey is the key of a call record.
func CallKey(id string) []byte { return append([]byte(tagCall), id...) }

// RingingKey is the key of one (invitee, call) ringing index row; its value
// is the call's deadline.
func RingingKey(userID, callID string) []byte { return key2(tagRinging, userID, callID) }

// PutCall writes a call, brings the ringing index in line with it and
// queues rows (cancel notices), in one synced batch.
func (s *Store) PutCall(c Call, rows ...Queued) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := putCall(b, c); err != nil {
		return err
	}
	for _, q := range rows {
		if err := b.Set(q.Key.encode(), EncodeOutboxEntry(q.Entry), nil); err != nil {
			return err
		}
	}
	em := &emitter{s: s, b: b}
	if s.wantsCalls() {
		// The call's events come from what changed since the stored call
		// (its owner, the call actor, writes one change at a time).
		v, ok, err := s.get(CallKey(c.CallID))
		if err != nil {
			return err
		}
		var prev *Call
		if ok {
			p, err := DecodeCall(v)
			if err != nil {
				return fmt.Errorf("store: call %q: %w", c.CallID, err)
			}
			prev = &p
		}
		if err := em.emitCall(prev, c); err != nil {
			return err
		}
	}
	return em.done(s.commit("call", b))
}

// wantsCalls reports whether any endpoint takes a call event.
func (s *Store) wantsCalls() bool {
	for _, t := range []string{EventCallRinging, EventCallAccepted, EventCallRejected, EventCallCancelled, EventCallTimedOut, EventCallEnded} {
		if s.wants(t) {
			return true
		}
	}
	return false
}

func putCall(b *pebble.Batch, c Call) error {
	if err := b.Set(CallKey(c.CallID), EncodeCall(c), nil); err != nil {
		return err
	}
	for _, iv := range c.Invitees {
		k := RingingKey(iv.UserID, c.CallID)
		var err error
		if iv.State == CallRinging && c.State != CallCancelled && c.State != CallEnded {
			err = b.Set(k, EncodeLease(Lease{ExpiresAt: c.DeadlineAt}), nil)
		} else {
			err = b.Delete(k, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// GetCall reads a call.
func (s *Store) GetCall(id string) (Call, bool, error) {
	if err := s.acquire(); err != nil {
		return Call{}, false, err
	}
	defer s.mu.RUnlock()
	v, ok, err := s.get(CallKey(id))
	if err != nil || !ok {
		return Call{}, false, err
	}
	c, err := DecodeCall(v)
	if err != nil {
		return Call{}, false, fmt.Errorf("store: call %q: %w", id, err)
	}
	return c, true, nil
}

// RingingCalls returns the ids of calls ringing for userID at nowMs.
func (s *Store) RingingCalls(userID string, nowMs int64) ([]string, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []string
	err := s.scanOwner(tagRinging, userID, func(id string, v []byte) error {
		l, err := DecodeLease(v)
		if err != nil {
			return err
		}
		if l.ExpiresAt > nowMs {
			out = append(out, id)
		}
		return nil
	})
	return out, err
}

// RingingCallIDs returns every call with a ringing invitee (for restart).
func (s *Store) RingingCallIDs() ([]string, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagRinging), UpperBound: []byte("r0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	seen := map[string]bool{}
	var out []string
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(tagRinging):]
		i := bytes.IndexByte(k, separator)
		if i < 0 {
			continue
		}
		id := string(k[i+1:])
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, it.Error()
}
