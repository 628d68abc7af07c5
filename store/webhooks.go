package store

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Webhook events: what herald tells the chat backend (the webhooks
// package delivers them). Each is written in the same batch as the change
// it reports, so an event exists exactly when its change does.
const (
	EventMessageCompleted = "message.completed" // a message settled: no fan-out left, no row queued
	EventPushFailed       = "push.failed"       // a device's notification ended without delivery (dead letter, invalid token)
	EventTokenInvalidated = "token.invalidated" // a vendor declared a token invalid and its binding was removed
	EventCallRinging      = "call.ringing"      // a call invitation was accepted and rings
	EventCallAccepted     = "call.accepted"
	EventCallRejected     = "call.rejected"
	EventCallCancelled    = "call.cancelled"
	EventCallTimedOut     = "call.timed_out"
	EventCallEnded        = "call.ended"
	EventReceiptDelivered = "receipt.delivered" // vendors' arrival receipts, aggregated per message
)

// EventTypes lists every webhook event type.
func EventTypes() []string {
	return []string{EventMessageCompleted, EventPushFailed, EventTokenInvalidated, EventCallRinging, EventCallAccepted,
		EventCallRejected, EventCallCancelled, EventCallTimedOut, EventCallEnded, EventReceiptDelivered}
}

// Webhook keys:
//
//	W/<endpoint>\x00<event key: 16 bytes> → HookEvent awaiting delivery to endpoint
//	X/<endpoint>\x00<event key: 16 bytes> → HookEvent dead-lettered for endpoint
//	w/c/<message id> → unix ms (the message awaits its message.completed)
//	w/r/<message id> → unix ms of the first arrival not yet reported (receipt.delivered)
//
// An event key is the store's open time (unix ns) and a count since, both
// big-endian: events sort by when they were made, also across restarts,
// and the event id is the key in hex.
const (
	tagHook       = "W/"
	tagHookDead   = "X/"
	tagWatchDone  = "w/c/"
	tagWatchRcpt  = "w/r/"
	eventKeyBytes = 16
	eventIDPrefix = "evt_"
)

// HookEvent is one webhook event for one endpoint.
type HookEvent struct {
	ID        string // "evt_" + 32 hex digits: the same on every delivery
	Type      string
	At        int64  // unix ms when the change happened
	Data      []byte // a JSON object
	Attempts  int64  // deliveries tried and failed
	LastError string // why the last failed ("" = none yet)
}

// ErrBadEventID is an event id the store never gave out.
var ErrBadEventID = errors.New("store: bad event id")

func eventKeyOf(id string) ([]byte, error) {
	h, ok := strings.CutPrefix(id, eventIDPrefix)
	if !ok || len(h) != 2*eventKeyBytes {
		return nil, ErrBadEventID
	}
	k, err := hex.DecodeString(h)
	if err != nil {
		return nil, ErrBadEventID
	}
	return k, nil
}

func hookKey(tag, endpoint string, ek []byte) []byte {
	return append(append(append([]byte(tag), endpoint...), separator), ek...)
}

// hookRange bounds endpoint's rows under tag.
func hookRange(tag, endpoint string) (lower, upper []byte) {
	lower = append(append([]byte(tag), endpoint...), separator)
	upper = append(append([]byte(tag), endpoint...), separator+1)
	return lower, upper
}

func encodeHookEvent(e HookEvent) []byte {
	enc := encoder{b: make([]byte, 0, 16+len(e.Type)+len(e.Data)+len(e.LastError))}
	enc.b = append(enc.b, formatV1)
	enc.str(e.Type)
	enc.int(e.At)
	enc.str(string(e.Data))
	enc.int(e.Attempts)
	enc.str(e.LastError)
	return enc.b
}

func decodeHookEvent(key, v []byte) (HookEvent, error) {
	if len(key) < eventKeyBytes {
		return HookEvent{}, fmt.Errorf("%w: webhook key too short", ErrCorrupt)
	}
	d := newDecoder(v)
	e := HookEvent{ID: eventIDPrefix + hex.EncodeToString(key[len(key)-eventKeyBytes:]), Type: d.str(), At: d.int(),
		Data: []byte(d.str()), Attempts: d.int(), LastError: d.str()}
	return e, d.done()
}

// hookRoutes is which endpoints take each event type.
type hookRoutes map[string][]string

// SetWebhookRoutes sets which event types each webhook endpoint takes
// (endpoint name → types; names are printable, without a NUL): from then
// on every event of a type is written once per endpoint that takes it.
// Nil or empty turns events off; the rows already written stay.
func (s *Store) SetWebhookRoutes(endpoints map[string][]string) {
	r := hookRoutes{}
	for ep, types := range endpoints {
		for _, t := range types {
			if !slices.Contains(r[t], ep) {
				r[t] = append(r[t], ep)
			}
		}
	}
	for t := range r {
		slices.Sort(r[t])
	}
	s.hooks.Store(&r)
}

// hookEndpoints are the endpoints that take events of typ.
func (s *Store) hookEndpoints(typ string) []string {
	r := s.hooks.Load()
	if r == nil {
		return nil
	}
	return (*r)[typ]
}

// wants reports whether any endpoint takes events of typ.
func (s *Store) wants(typ string) bool { return len(s.hookEndpoints(typ)) > 0 }

// WebhookKick is signalled (without blocking) after a write that added
// webhook events, so a deliverer need not poll.
func (s *Store) WebhookKick() <-chan struct{} { return s.hookKick }

func (s *Store) kick() {
	select {
	case s.hookKick <- struct{}{}:
	default:
	}
}

// emitter writes events into one batch and remembers whether it did.
type emitter struct {
	s       *Store
	b       *pebble.Batch
	emitted bool
}

// emit writes one event of typ with data (marshalled to JSON) for every
// endpoint that takes typ.
func (e *emitter) emit(typ string, data any) error {
	eps := e.s.hookEndpoints(typ)
	if len(eps) == 0 {
		return nil
	}
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("store: event %s: %w", typ, err)
	}
	ek := make([]byte, eventKeyBytes)
	binary.BigEndian.PutUint64(ek, uint64(e.s.tallyEpoch))
	binary.BigEndian.PutUint64(ek[8:], e.s.hookSeq.Add(1))
	val := encodeHookEvent(HookEvent{Type: typ, At: e.s.now().UnixMilli(), Data: js})
	for _, ep := range eps {
		if err := e.b.Set(hookKey(tagHook, ep, ek), val, nil); err != nil {
			return err
		}
	}
	e.emitted = true
	return nil
}

// done kicks the deliverer when events were written and err is nil.
func (e *emitter) done(err error) error {
	if err == nil && e.emitted {
		e.s.kick()
	}
	return err
}

// PushFailedData is a push.failed event's data.
type PushFailedData struct {
	MessageID string `json:"message_id,omitempty"` // a message's row
	CallID    string `json:"call_id,omitempty"`    // a call invitation's or cancel notice's row
	Kind      string `json:"kind"`                 // message, call_invite, call_cancel
	Vendor    string `json:"vendor"`
	UserID    string `json:"user_id"`
	DeviceID  string `json:"device_id"`
	Reason    string `json:"reason"` // dead_letter (given up: see code) or invalid_token (the device was unbound)
	Code      string `json:"code,omitempty"`
	Attempts  int64  `json:"attempts"`
}

func pushFailed(k OutboxKey, reason, code string, attempts int64) PushFailedData {
	d := PushFailedData{Kind: k.Kind.String(), Vendor: k.Vendor, UserID: k.UserID, DeviceID: k.DeviceID,
		Reason: reason, Code: code, Attempts: attempts}
	if k.Kind == RowMessage {
		d.MessageID = k.ID
	} else {
		d.CallID = k.ID
	}
	return d
}

// TokenInvalidatedData is a token.invalidated event's data.
type TokenInvalidatedData struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	Vendor   string `json:"vendor"`
	// VoIP: only the device's PushKit token died; the binding stays.
	VoIP bool `json:"voip,omitempty"`
}

// CallEventData is a call event's data: the call and the invitees whose
// state this change set (every invitee for call.ringing).
type CallEventData struct {
	CallID   string          `json:"call_id"`
	Inviter  string          `json:"inviter"`
	State    CallState       `json:"state"`
	Invitees []CallEventUser `json:"invitees"`
}

// CallEventUser is one invitee in a call event.
type CallEventUser struct {
	UserID string    `json:"user_id"`
	State  CallState `json:"state"`
}

// emitCall writes the events of a call going from prev (nil: new) to next:
// call.ringing for a new call, else one event per new invitee state.
func (e *emitter) emitCall(prev *Call, next Call) error {
	if prev == nil {
		d := CallEventData{CallID: next.CallID, Inviter: next.Inviter, State: next.State}
		for _, iv := range next.Invitees {
			d.Invitees = append(d.Invitees, CallEventUser(iv))
		}
		return e.emit(EventCallRinging, d)
	}
	was := map[string]CallState{}
	for _, iv := range prev.Invitees {
		was[iv.UserID] = iv.State
	}
	var order []CallState
	by := map[CallState][]CallEventUser{}
	for _, iv := range next.Invitees {
		if was[iv.UserID] == iv.State {
			continue
		}
		if _, ok := by[iv.State]; !ok {
			order = append(order, iv.State)
		}
		by[iv.State] = append(by[iv.State], CallEventUser(iv))
	}
	if len(order) == 0 && prev.State != next.State && next.State == CallEnded {
		order = append(order, CallEnded) // ended with no invitee on the call (cannot happen today; kept honest)
	}
	for _, st := range order {
		typ := "call." + string(st)
		if !slices.Contains(EventTypes(), typ) {
			continue
		}
		if err := e.emit(typ, CallEventData{CallID: next.CallID, Inviter: next.Inviter, State: next.State, Invitees: by[st]}); err != nil {
			return err
		}
	}
	return nil
}

// MessageCompletedData is a message.completed event's data: the message's
// final counts as GET /v1/messages/{id} gives them.
type MessageCompletedData struct {
	MessageID string                      `json:"message_id"`
	From      string                      `json:"from"`
	To        map[string]string           `json:"to"`
	Vendors   map[string]EventVendorCount `json:"vendors"`
	Totals    EventVendorCount            `json:"totals"`
}

// EventVendorCount is one vendor's (or all vendors') counts in
// message.completed.
type EventVendorCount struct {
	Sent          int64            `json:"sent"`
	InvalidTokens int64            `json:"invalid_tokens"`
	Dead          int64            `json:"dead"`
	Expired       int64            `json:"expired"`
	Delivered     int64            `json:"delivered"`
	FailedByCode  map[string]int64 `json:"failed_by_code,omitempty"`
}

// ReceiptDeliveredData is a receipt.delivered event's data: the devices
// the vendors' receipts have reported so far, per vendor.
type ReceiptDeliveredData struct {
	MessageID string           `json:"message_id"`
	Delivered map[string]int64 `json:"delivered"`
	Total     int64            `json:"total"`
}

// watchKey is a message's watch under tag (tagWatchDone, tagWatchRcpt).
func watchKey(tag, id string) []byte { return append([]byte(tag), id...) }

func msValue(ms int64) []byte {
	e := encoder{b: []byte{formatV1}}
	e.int(ms)
	return e.b
}

func decodeMs(v []byte) (int64, error) {
	d := newDecoder(v)
	ms := d.int()
	return ms, d.done()
}

// SweepWatches emits the events that wait on a message settling: for up
// to limit watched messages of each kind, message.completed once a message has no
// fan-out job and no row queued at any of vendors, and receipt.delivered
// once its first unreported arrival is receiptDelay old. A message
// expired meanwhile loses its watch without an event. It returns how
// many events it wrote and whether it stopped at limit; each pass goes
// on where the last stopped, so every watch is looked at in turn.
func (s *Store) SweepWatches(vendors []string, receiptDelay time.Duration, limit int) (int, bool, error) {
	// A replay adds a completion watch and an arrival finds (or adds) a
	// receipt watch: holding replayMu and arrivalMu keeps either from
	// happening between this pass's snapshot and its delete of the watch.
	// replayMu goes first, as in ReplayDead.
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	if err := s.acquire(); err != nil {
		return 0, false, err
	}
	defer s.mu.RUnlock()
	s.arrivalMu.Lock()
	defer s.arrivalMu.Unlock()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	r := newRanges(snap)
	defer r.close()
	b := s.db.NewBatch()
	defer b.Close()
	em := &emitter{s: s, b: b}
	now := s.now().UnixMilli()
	n := 0
	more := false
	// Each kind of watch gets limit looks per pass and goes on after the
	// last one it looked at.
	for _, tag := range []string{tagWatchDone, tagWatchRcpt} {
		lower, upper := []byte(tag), append([]byte(tag[:len(tag)-1]), tag[len(tag)-1]+1)
		from := lower
		if c := s.watchCursor[tag]; c != nil {
			from = c
		}
		looked := 0
		var last []byte
		err := eachKV(snap, from, upper, func(key, val []byte) error {
			if looked == limit {
				more = true
				return errStop
			}
			looked++
			last = slices.Clone(key)
			id := string(key[len(tag):])
			since, err := decodeMs(val)
			if err != nil {
				s.log.Error("dropping a corrupt webhook watch", "message_id", id, "err", err)
				return b.Delete(key, nil)
			}
			emitted, err := s.settle(snap, r, em, tag, id, since, now, vendors, receiptDelay)
			if emitted {
				n++
			}
			return err
		})
		if err != nil {
			return 0, false, err
		}
		if looked == limit && last != nil {
			s.watchCursor[tag] = append(last, 0)
		} else {
			s.watchCursor[tag] = nil
		}
	}
	if b.Empty() {
		return 0, more, nil
	}
	return n, more, em.done(s.commit("webhook_watch", b))
}

// settle handles one watch; emitted is whether it wrote an event.
func (s *Store) settle(snap *pebble.Snapshot, r *ranges, em *emitter, tag, id string, since, now int64, vendors []string, receiptDelay time.Duration) (bool, error) {
	v, kept, err := getFrom(snap, MessageKey(id))
	if err != nil {
		return false, err
	}
	if !kept {
		return false, em.b.Delete(watchKey(tag, id), nil)
	}
	if tag == tagWatchRcpt {
		if now-since < receiptDelay.Milliseconds() {
			return false, nil
		}
		st, err := messageStatus(r, id, vendors)
		if err != nil {
			return false, err
		}
		d := ReceiptDeliveredData{MessageID: id, Delivered: map[string]int64{}}
		for vn, vs := range st {
			// A receipt names a token, not a device herald sent to: as in
			// the message's status, delivered never reads above sent.
			if n := min(vs.Delivered, vs.Sent); n > 0 {
				d.Delivered[vn] = n
				d.Total += n
			}
		}
		if err := em.b.Delete(watchKey(tag, id), nil); err != nil {
			return false, err
		}
		return true, em.emit(EventReceiptDelivered, d)
	}
	if _, running, err := getFrom(snap, JobKey(id)); err != nil || running {
		return false, err
	}
	for _, vn := range vendors {
		// A message's rows of vendor sort together under this prefix; the
		// read is bounded to it (unbounded, a seek would step over every
		// deleted row after it: the outbox is mostly tombstones of rows
		// sent, and that cost more than all else here).
		row := OutboxKey{Vendor: vn, RowID: RowID{ID: id}}
		prefix := row.appendKey(nil, tagOutbox)
		prefix = prefix[:len(prefix)-1] // up to the separator before the user
		end := append(slices.Clone(prefix[:len(prefix)-1]), separator+1)
		queued := false
		if err := r.each(prefix, end, func(_, _ []byte) error { queued = true; return errStop }); err != nil || queued {
			return false, err
		}
	}
	m, err := DecodeMessage(v)
	if err != nil {
		return false, fmt.Errorf("store: message %q: %w", id, err)
	}
	st, err := messageStatus(r, id, vendors)
	if err != nil {
		return false, err
	}
	d := MessageCompletedData{MessageID: id, From: m.From, To: map[string]string{"type": m.ToType}, Vendors: map[string]EventVendorCount{}}
	if m.ToID != "" {
		d.To["id"] = m.ToID
	}
	for vn, vs := range st {
		if vs.Sent+vs.InvalidTokens+vs.Dead+vs.Expired+vs.Delivered == 0 {
			continue
		}
		c := EventVendorCount{Sent: vs.Sent, InvalidTokens: vs.InvalidTokens, Dead: vs.Dead, Expired: vs.Expired, Delivered: min(vs.Delivered, vs.Sent)}
		if len(vs.FailedByCode) > 0 {
			c.FailedByCode = vs.FailedByCode
		}
		d.Vendors[vn] = c
		d.Totals.Sent += c.Sent
		d.Totals.InvalidTokens += c.InvalidTokens
		d.Totals.Dead += c.Dead
		d.Totals.Expired += c.Expired
		d.Totals.Delivered += c.Delivered
	}
	if err := em.b.Delete(watchKey(tag, id), nil); err != nil {
		return false, err
	}
	return true, em.emit(EventMessageCompleted, d)
}

// WebhookPending lists up to limit of endpoint's events awaiting
// delivery, oldest first, after the event id after ("" = from the
// oldest). Event keys are given out before their batches commit, so one
// may appear behind another that was listed already: a reader going on
// after the last id it saw must also read from the oldest now and then.
func (s *Store) WebhookPending(endpoint, after string, limit int) ([]HookEvent, error) {
	var from []byte
	if after != "" {
		ek, err := eventKeyOf(after)
		if err != nil {
			return nil, err
		}
		from = append(hookKey(tagHook, endpoint, ek), 0)
	}
	return s.hookScan(tagHook, endpoint, from, limit)
}

// WebhookDead lists up to limit of endpoint's dead-lettered events after
// the event id after ("" = from the oldest).
func (s *Store) WebhookDead(endpoint, after string, limit int) ([]HookEvent, error) {
	var from []byte
	if after != "" {
		ek, err := eventKeyOf(after)
		if err != nil {
			return nil, err
		}
		from = append(hookKey(tagHookDead, endpoint, ek), 0)
	}
	return s.hookScan(tagHookDead, endpoint, from, limit)
}

func (s *Store) hookScan(tag, endpoint string, from []byte, limit int) ([]HookEvent, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	lower, upper := hookRange(tag, endpoint)
	if from != nil {
		lower = from
	}
	var out []HookEvent
	err := eachKV(s.db, lower, upper, func(key, val []byte) error {
		if len(out) == limit {
			return errStop
		}
		e, err := decodeHookEvent(key, val)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// maxHookCount is where WebhookCounts stops counting.
const maxHookCount = 1_000_000

// WebhookCounts counts endpoint's events awaiting delivery and dead, each
// up to maxHookCount (a backlog beyond reads as that many).
func (s *Store) WebhookCounts(endpoint string) (pending, dead int64, err error) {
	if err := s.acquire(); err != nil {
		return 0, 0, err
	}
	defer s.mu.RUnlock()
	for _, tag := range []string{tagHook, tagHookDead} {
		lower, upper := hookRange(tag, endpoint)
		var n int64
		count := func(_, _ []byte) error {
			if n == maxHookCount {
				return errStop
			}
			n++
			return nil
		}
		if err := eachKV(s.db, lower, upper, count); err != nil {
			return 0, 0, err
		}
		if tag == tagHook {
			pending = n
		} else {
			dead = n
		}
	}
	return pending, dead, nil
}

// WebhookDelivered removes delivered events (not synced: a removal lost
// in a crash only delivers them again, which at-least-once allows).
func (s *Store) WebhookDelivered(endpoint string, evs []HookEvent) error {
	return s.hookWrite(evs, pebble.NoSync, func(b *pebble.Batch, ek []byte, _ HookEvent) error {
		return b.Delete(hookKey(tagHook, endpoint, ek), nil)
	})
}

// WebhookFailed records the events' attempts and last error (not synced:
// a lost update only allows an attempt more before the dead letter).
func (s *Store) WebhookFailed(endpoint string, evs []HookEvent) error {
	return s.hookWrite(evs, pebble.NoSync, func(b *pebble.Batch, ek []byte, e HookEvent) error {
		return b.Set(hookKey(tagHook, endpoint, ek), encodeHookEvent(e), nil)
	})
}

// WebhookDeadLetter moves events from endpoint's queue to its dead
// letters, synced.
func (s *Store) WebhookDeadLetter(endpoint string, evs []HookEvent) error {
	return s.hookWrite(evs, pebble.Sync, func(b *pebble.Batch, ek []byte, e HookEvent) error {
		if err := b.Delete(hookKey(tagHook, endpoint, ek), nil); err != nil {
			return err
		}
		return b.Set(hookKey(tagHookDead, endpoint, ek), encodeHookEvent(e), nil)
	})
}

func (s *Store) hookWrite(evs []HookEvent, opt *pebble.WriteOptions, fn func(b *pebble.Batch, ek []byte, e HookEvent) error) error {
	return s.outboxWrite(func(b *pebble.Batch) error {
		for _, e := range evs {
			ek, err := eventKeyOf(e.ID)
			if err != nil {
				return err
			}
			if err := fn(b, ek, e); err != nil {
				return err
			}
		}
		return nil
	}, opt)
}

// WebhookReplay moves up to limit of endpoint's dead letters (oldest
// first) back to its queue with their attempts cleared, keeping their
// ids, synced; it returns how many moved and whether more are dead.
func (s *Store) WebhookReplay(endpoint string, limit int) (int, bool, error) {
	evs, err := s.hookScan(tagHookDead, endpoint, nil, limit+1)
	if err != nil {
		return 0, false, err
	}
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	err = s.hookWrite(evs, pebble.Sync, func(b *pebble.Batch, ek []byte, e HookEvent) error {
		e.Attempts, e.LastError = 0, ""
		if err := b.Delete(hookKey(tagHookDead, endpoint, ek), nil); err != nil {
			return err
		}
		return b.Set(hookKey(tagHook, endpoint, ek), encodeHookEvent(e), nil)
	})
	if err != nil {
		return 0, false, err
	}
	if len(evs) > 0 {
		s.kick()
	}
	return len(evs), more, nil
}
