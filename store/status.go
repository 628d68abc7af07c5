package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
)

// Outcome is how a message's outbox row ended without a dead letter,
// recorded beside the message for its status (MessageStatus).
type Outcome int64

// Outcomes.
const (
	OutcomeSent    Outcome = 1 // the vendor accepted it
	OutcomeInvalid Outcome = 2 // the vendor declared the token invalid (the device was unbound)
	OutcomeExpired Outcome = 3 // dropped: the message expired or vanished before it went
)

// Done is a row that reached a final verdict: its key, the outcome and,
// for an invalid token, the vendor's code and the attempts made.
type Done struct {
	Key      OutboxKey
	Outcome  Outcome
	Code     string
	Attempts int64
}

// appendVerdictKey appends where a message row's outcome is kept:
// v/<message id>\0<vendor>\0<user>\0<device>. A message's verdicts are
// one range, so its status is read, and its verdicts deleted with it, at
// once.
func appendVerdictKey(b []byte, k OutboxKey) []byte {
	b = append(append(append(b, tagVerdict...), k.ID...), separator)
	b = append(append(b, k.Vendor...), separator)
	b = append(append(b, k.UserID...), separator)
	return append(b, k.DeviceID...)
}

// verdictRange bounds the verdicts of message id (of vendor, when not "").
func verdictRange(id, vendor string) (lower, upper []byte) {
	lower = append(append([]byte(tagVerdict), id...), separator)
	if vendor != "" {
		lower = append(append(lower, vendor...), separator)
	}
	upper = append(slices.Clone(lower[:len(lower)-1]), separator+1)
	return lower, upper
}

// tally counts one OutboxDone's sent and expired rows of one message
// and vendor: a single key for the whole batch, so a 1000-token request
// adds one write, not 1000.
type tally struct {
	id, vendor    string
	sent, expired int64
}

// addTally counts d (sent or expired) in ts.
func addTally(ts []tally, d Done) []tally {
	i := 0
	for i < len(ts) && (ts[i].id != d.Key.ID || ts[i].vendor != d.Key.Vendor) {
		i++
	}
	if i == len(ts) {
		ts = append(ts, tally{id: d.Key.ID, vendor: d.Key.Vendor})
	}
	if d.Outcome == OutcomeSent {
		ts[i].sent++
	} else {
		ts[i].expired++
	}
	return ts
}

// tallyMark starts a tally's part after the vendor in its key, where a
// verdict key has the user id: no id contains it (they are printable),
// so tallies sort first in a message's range and never read as a row.
const tallyMark = separator + 1

// appendTallyKey appends a tally's key:
// v/<message id>\0<vendor>\0\x01<epoch hex>.<seq hex>, unique per
// OutboxDone (the store's open time and a count since).
func appendTallyKey(b []byte, id, vendor string, epoch int64, seq uint64) []byte {
	b = append(append(append(b, tagVerdict...), id...), separator)
	b = append(append(b, vendor...), separator, tallyMark)
	b = strconv.AppendUint(b, uint64(epoch), 16)
	return strconv.AppendUint(append(b, '.'), seq, 16)
}

// appendTally appends t's value: outcome 0 (a tally), sent, expired.
func appendTally(b []byte, t tally) []byte {
	e := encoder{b: append(b, formatV1)}
	e.int(0)
	e.int(t.sent)
	e.int(t.expired)
	return e.b
}

// decodeTally reads a tally's counts.
func decodeTally(v []byte) (sent, expired int64, err error) {
	dec := newDecoder(v)
	if dec.int() != 0 {
		return 0, 0, fmt.Errorf("%w: not a tally", ErrCorrupt)
	}
	sent, expired = dec.int(), dec.int()
	return sent, expired, dec.done()
}

// appendVerdict appends d's verdict value to b.
func appendVerdict(b []byte, d Done) []byte {
	e := encoder{b: append(b, formatV1)}
	e.int(int64(d.Outcome))
	e.str(d.Code)
	e.int(d.Attempts)
	return e.b
}

func decodeVerdict(v []byte) (Done, error) {
	dec := newDecoder(v)
	d := Done{Outcome: Outcome(dec.int()), Code: dec.str(), Attempts: dec.int()}
	return d, dec.done()
}

// parseVerdictKey reads vendor, user and device from a verdict key of
// message id.
func parseVerdictKey(id string, key []byte) (OutboxKey, error) {
	rest := key[len(tagVerdict)+len(id)+1:]
	parts := bytes.Split(rest, []byte{separator})
	if len(parts) != 3 {
		return OutboxKey{}, fmt.Errorf("%w: verdict key has %d parts", ErrCorrupt, len(parts))
	}
	return OutboxKey{Vendor: string(parts[0]), RowID: RowID{ID: id}, UserID: string(parts[1]), DeviceID: string(parts[2])}, nil
}

// VendorStatus is what became of one vendor's rows of a message.
type VendorStatus struct {
	Queued        int64 // rows in the outbox: waiting, in flight or due for a retry
	Sent          int64
	InvalidTokens int64
	Dead          int64 // rows among the dead letters
	Expired       int64
	Delivered     int64            // devices whose arrival the vendor's receipt reported (RecordArrivals)
	FailedByCode  map[string]int64 // dead letters and invalid tokens by the vendor's code
}

// MessageStatus is a message as accepted and what became of its rows:
// FanningOut while its fan-out job is unfinished, and per vendor of
// vendors the counts. Every count comes from the rows the senders commit
// (the outbox, the dead letters and the verdicts, written in the same
// batches), so they are exact after a crash: a verdict lost with its
// batch is lost with the outbox delete, and the row is sent and counted
// again.
type MessageStatus struct {
	Message    Message
	FanningOut bool
	Vendors    map[string]VendorStatus
}

// MessageStatus reads message id's status over vendors (the vendors whose
// rows are counted); false when no such message is kept. Every count is
// read from one snapshot, so a row that moves meanwhile (sent, dead
// lettered) is counted once, where it was.
func (s *Store) MessageStatus(id string, vendors []string) (MessageStatus, bool, error) {
	if err := s.acquire(); err != nil {
		return MessageStatus{}, false, err
	}
	defer s.mu.RUnlock()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	v, ok, err := getFrom(snap, MessageKey(id))
	if err != nil || !ok {
		return MessageStatus{}, ok, err
	}
	m, err := DecodeMessage(v)
	if err != nil {
		return MessageStatus{}, false, fmt.Errorf("store: message %q: %w", id, err)
	}
	_, running, err := getFrom(snap, JobKey(id))
	if err != nil {
		return MessageStatus{}, false, err
	}
	r := newRanges(snap)
	defer r.close()
	vs, err := messageStatus(r, id, vendors)
	if err != nil {
		return MessageStatus{}, false, err
	}
	return MessageStatus{Message: m, FanningOut: running, Vendors: vs}, true, nil
}

// messageStatus counts message id's rows over vendors in snap.
func messageStatus(r *ranges, id string, vendors []string) (map[string]VendorStatus, error) {
	out := map[string]VendorStatus{}
	for _, v := range vendors {
		vs := VendorStatus{FailedByCode: map[string]int64{}}
		row := OutboxKey{Vendor: v, RowID: RowID{ID: id}}
		for _, tag := range []string{tagOutbox, tagDead} {
			lower := row.appendKey(nil, tag) // ends in the separator before the user
			lower = lower[:len(lower)-1]
			upper := append(slices.Clone(lower[:len(lower)-1]), separator+1)
			err := r.each(lower, upper, func(_, val []byte) error {
				if tag == tagOutbox {
					vs.Queued++
					return nil
				}
				e, err := DecodeOutboxEntry(val)
				if err != nil {
					return err
				}
				vs.Dead++
				vs.FailedByCode[codeOrUnknown(e.LastCode)]++
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		lower, upper := verdictRange(id, v)
		err := r.each(lower, upper, func(key, val []byte) error {
			switch verdictMark(id, key) {
			case tallyMark:
				sent, expired, err := decodeTally(val)
				vs.Sent += sent
				vs.Expired += expired
				return err
			case arrivalMark:
				vs.Delivered++
				return nil
			}
			d, err := decodeVerdict(val)
			if err != nil {
				return err
			}
			switch d.Outcome {
			case OutcomeSent:
				vs.Sent++
			case OutcomeInvalid:
				vs.InvalidTokens++
				vs.FailedByCode[codeOrUnknown(d.Code)]++
			case OutcomeExpired:
				vs.Expired++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out[v] = vs
	}
	return out, nil
}

func codeOrUnknown(code string) string {
	if code == "" {
		return "unknown"
	}
	return code
}

// Failure is one device a message did not reach for good: a dead letter
// (Dead) or a token the vendor declared invalid.
type Failure struct {
	Key      OutboxKey
	Dead     bool
	Token    string // the dead letter's token; "" for an invalid token (unbound, not kept)
	Code     string
	Attempts int64
}

// cursor is the position after f among a message's failures, for the
// next page: vendor, user and device, each ended by a 0 byte but the last.
func (f Failure) cursor() []byte {
	return []byte(f.Key.Vendor + "\x00" + f.Key.UserID + "\x00" + f.Key.DeviceID)
}

// ErrBadCursor is a failures cursor that is not one MessageFailures gave
// out (for this message's vendors).
var ErrBadCursor = errors.New("store: bad failures cursor")

// failureCursorVendor checks a failures cursor and returns its vendor.
func failureCursorVendor(c []byte) (vendor string, err error) {
	parts := bytes.Split(c, []byte{separator})
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return "", ErrBadCursor
	}
	return string(parts[0]), nil
}

// MessageFailures lists up to limit of message id's failures over
// vendors, in vendor order and then by user and device, after the failure
// at cursor (nil = from the first); next is the cursor of the last one
// listed when more may follow. A cursor that is not one it gave out, or
// names a vendor not among vendors, is ErrBadCursor. A page is read from
// one snapshot.
func (s *Store) MessageFailures(id string, vendors []string, after []byte, limit int) (out []Failure, next []byte, err error) {
	var afterVendor, afterRest []byte
	if after != nil {
		v, err := failureCursorVendor(after)
		if err != nil || !slices.Contains(vendors, v) {
			return nil, nil, ErrBadCursor
		}
		afterVendor, afterRest = []byte(v), after[len(v)+1:]
	}
	if err := s.acquire(); err != nil {
		return nil, nil, err
	}
	defer s.mu.RUnlock()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	skipping := afterVendor != nil // vendors before the cursor's
	for _, v := range vendors {
		if skipping && v != string(afterVendor) {
			continue
		}
		skipping = false
		var rows []Failure
		row := OutboxKey{Vendor: v, RowID: RowID{ID: id}}
		deadLower := row.appendKey(nil, tagDead)
		deadLower = deadLower[:len(deadLower)-1]
		deadUpper := append(slices.Clone(deadLower[:len(deadLower)-1]), separator+1)
		vLower, vUpper := verdictRange(id, v)
		if afterVendor != nil && v == string(afterVendor) {
			deadLower = append(append(slices.Clone(deadLower), afterRest...), separator)
			vLower = append(append(slices.Clone(vLower), afterRest...), separator)
		} else {
			// The tallies and arrival marks sort first in the vendor's
			// verdicts: start past them.
			vLower = append(vLower, arrivalMark+1)
		}
		n := 0
		err := eachKV(snap, deadLower, deadUpper, func(key, val []byte) error {
			if n > limit {
				return errStop
			}
			k, err := parseOutboxKey(tagDead, key)
			if err != nil {
				return err
			}
			e, err := DecodeOutboxEntry(val)
			if err != nil {
				return err
			}
			rows = append(rows, Failure{Key: k, Dead: true, Token: e.Token, Code: e.LastCode, Attempts: e.Attempts})
			n++
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		n = 0
		err = eachKV(snap, vLower, vUpper, func(key, val []byte) error {
			if n > limit {
				return errStop
			}
			if verdictMark(id, key) != 0 {
				return nil
			}
			d, err := decodeVerdict(val)
			if err != nil || d.Outcome != OutcomeInvalid {
				return err
			}
			k, err := parseVerdictKey(id, key)
			if err != nil {
				return err
			}
			rows = append(rows, Failure{Key: k, Code: d.Code, Attempts: d.Attempts})
			n++
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		// Each scan reads one row past limit, so a row beyond the page
		// tells that another page follows.
		slices.SortFunc(rows, func(a, b Failure) int { return bytes.Compare(a.cursor(), b.cursor()) })
		for _, r := range rows {
			if len(out) == limit {
				return out, out[len(out)-1].cursor(), nil
			}
			out = append(out, r)
		}
	}
	return out, nil, nil
}

// ranges reads key ranges of one snapshot through one iterator per
// table, rebounded for each range: far cheaper than an iterator per range
// when one message's status reads 21 of them.
type ranges struct {
	snap *pebble.Snapshot
	its  map[string]*pebble.Iterator // by the range's table tag
}

func newRanges(snap *pebble.Snapshot) *ranges {
	return &ranges{snap: snap, its: map[string]*pebble.Iterator{}}
}

// each calls fn for every key in [lower, upper) (both in one table, whose
// tag is the part of lower up to its first '/'); errStop ends it early.
func (r *ranges) each(lower, upper []byte, fn func(key, val []byte) error) error {
	tag := string(lower[:bytes.IndexByte(lower, '/')+1])
	it := r.its[tag]
	if it == nil {
		var err error
		if it, err = r.snap.NewIter(nil); err != nil {
			return err
		}
		r.its[tag] = it
	}
	it.SetBounds(lower, upper)
	return walk(it, fn)
}

func (r *ranges) close() {
	for _, it := range r.its {
		_ = it.Close()
	}
}

// errStop ends an eachKV scan early.
var errStop = errors.New("stop")

// eachKV calls fn for every key of r (the database or a snapshot) in
// [lower, upper); fn returning errStop ends the scan without error. The
// caller holds s.mu.
func eachKV(r pebble.Reader, lower, upper []byte, fn func(key, val []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	return walk(it, fn)
}

// walk calls fn for every key of it from its first; fn returning errStop
// ends the walk without error.
func walk(it *pebble.Iterator, fn func(key, val []byte) error) error {
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return it.Error()
}
