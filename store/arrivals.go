package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Arrival receipts. A message that may be pushed gets a receipt reference
// (ReceiptRef): a keyed hash of its id under this install's receipt key,
// 16 characters, short enough for every vendor's echo field and
// unguessable without the key, so a forged receipt cannot name a real
// message. R/<ref> maps it back to the message id, written with the
// message. A device's arrival is a mark among the message's verdicts,
// v/<message id>\0<vendor>\0\x02<token hash>: one per device however
// often the vendor repeats its receipt, counted by MessageStatus and
// deleted with the message.
const (
	tagReceiptRef = "R/"
	receiptKeyKey = "k/receipt"
	// arrivalMark starts an arrival mark's part after the vendor, as
	// tallyMark starts a tally's: both sort before every verdict row.
	arrivalMark = tallyMark + 1
)

// loadReceiptKey reads this install's receipt key, creating it (synced)
// when create is set and there is none yet; nil when there is none.
func loadReceiptKey(db *pebble.DB, create bool) ([]byte, error) {
	v, ok, err := getFrom(db, []byte(receiptKeyKey))
	if err != nil {
		return nil, fmt.Errorf("store: read receipt key: %w", err)
	}
	if ok {
		return v, nil
	}
	if !create {
		return nil, nil
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	if err := db.Set([]byte(receiptKeyKey), key, pebble.Sync); err != nil {
		return nil, fmt.Errorf("store: write receipt key: %w", err)
	}
	return key, nil
}

// refOf is message id's receipt reference under key.
func refOf(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// ReceiptRef is the reference a push of message id carries to ask the
// vendors for arrival receipts; "" when the store was opened without
// Options.Receipts.
func (s *Store) ReceiptRef(id string) string {
	if !s.receipts {
		return ""
	}
	return refOf(s.receiptKey, id)
}

func receiptRefKey(ref string) []byte { return append([]byte(tagReceiptRef), ref...) }

// appendArrivalKey appends message id's arrival mark for token at vendor.
func appendArrivalKey(b []byte, id, vendor, token string) []byte {
	b = append(append(append(b, tagVerdict...), id...), separator)
	b = append(append(b, vendor...), separator, arrivalMark)
	h := sha256.Sum256([]byte(token))
	return hex.AppendEncode(b, h[:12])
}

// verdictMark is the mark byte of a key among message id's verdicts:
// tallyMark, arrivalMark, or 0 for a verdict row.
func verdictMark(id string, key []byte) byte {
	_, rest, _ := bytes.Cut(key[len(tagVerdict)+len(id)+1:], []byte{separator})
	if len(rest) > 0 && (rest[0] == tallyMark || rest[0] == arrivalMark) {
		return rest[0]
	}
	return 0
}

// Arrival is one device's arrival receipt: the reference its push carried
// and the token it was sent to.
type Arrival struct {
	Ref   string
	Token string
}

// ArrivalCounts is what RecordArrivals made of a receipt's entries.
type ArrivalCounts struct {
	New       int // arrivals counted now
	Duplicate int // arrivals counted before (a vendor repeats a receipt it thinks was lost)
	Unmatched int // references that name no kept message: expired, forged, or of another install
}

// RecordArrivals counts the arrivals of one receipt at vendor, synced:
// the vendor was answered only after, so a receipt it was told was taken
// is never lost. An arrival is counted once per (message, vendor, token).
func (s *Store) RecordArrivals(vendor string, arrivals []Arrival) (ArrivalCounts, error) {
	var c ArrivalCounts
	if err := s.acquire(); err != nil {
		return c, err
	}
	defer s.mu.RUnlock()
	s.expiryMu.RLock() // the message stays kept until the marks are in
	defer s.expiryMu.RUnlock()
	s.arrivalMu.Lock() // a mark's absence, then its write, as one step
	defer s.arrivalMu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	ids := map[string]string{} // ref → kept message id, "" = none
	marks := map[string]bool{}
	watched := map[string]bool{} // messages whose receipt watch is set in b
	for _, a := range arrivals {
		id, seen := ids[a.Ref]
		if !seen {
			var err error
			if id, err = s.arrivalMessage(a.Ref); err != nil {
				return ArrivalCounts{}, err
			}
			ids[a.Ref] = id
		}
		if id == "" {
			c.Unmatched++
			continue
		}
		key := appendArrivalKey(nil, id, vendor, a.Token)
		if marks[string(key)] {
			c.Duplicate++
			continue
		}
		marks[string(key)] = true
		if _, ok, err := s.get(key); err != nil {
			return ArrivalCounts{}, err
		} else if ok {
			c.Duplicate++
			continue
		}
		if err := b.Set(key, nil, nil); err != nil {
			return ArrivalCounts{}, err
		}
		c.New++
		if !watched[id] && s.wants(EventReceiptDelivered) {
			// The first arrival not yet told starts the message's
			// receipt.delivered wait (SweepWatches).
			watched[id] = true
			wk := watchKey(tagWatchRcpt, id)
			if _, ok, err := s.get(wk); err != nil {
				return ArrivalCounts{}, err
			} else if !ok {
				if err := b.Set(wk, msValue(s.now().UnixMilli()), nil); err != nil {
					return ArrivalCounts{}, err
				}
			}
		}
	}
	if b.Empty() {
		return c, nil
	}
	if err := s.commit("arrivals", b); err != nil {
		return ArrivalCounts{}, err
	}
	return c, nil
}

// arrivalMessage is the kept message ref names; "" for none.
func (s *Store) arrivalMessage(ref string) (string, error) {
	if len(ref) != 16 { // refOf's length: anything else was never given out
		return "", nil
	}
	v, ok, err := s.get(receiptRefKey(ref))
	if err != nil || !ok {
		return "", err
	}
	id := string(v)
	if _, kept, err := s.get(MessageKey(id)); err != nil || !kept {
		return "", err
	}
	return id, nil
}
