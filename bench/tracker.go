package bench

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// seqTimes maps request sequence numbers to intended send times (unix ns)
// without locks on the read path: fixed-size chunks allocated on demand.
type seqTimes struct {
	mu     sync.Mutex
	chunks atomic.Pointer[[]*seqChunk]
}

const seqChunkSize = 1 << 16

type seqChunk [seqChunkSize]atomic.Int64

func (s *seqTimes) set(seq int64, unixNano int64) {
	c := int(seq / seqChunkSize)
	cs := s.chunks.Load()
	if cs == nil || c >= len(*cs) {
		s.mu.Lock()
		cs = s.chunks.Load()
		if cs == nil || c >= len(*cs) {
			var grown []*seqChunk
			if cs != nil {
				grown = append(grown, *cs...)
			}
			for len(grown) <= c {
				grown = append(grown, new(seqChunk))
			}
			s.chunks.Store(&grown)
			cs = &grown
		}
		s.mu.Unlock()
	}
	(*cs)[c][seq%seqChunkSize].Store(unixNano)
}

func (s *seqTimes) get(seq int64) (int64, bool) {
	cs := s.chunks.Load()
	c := int(seq / seqChunkSize)
	if seq < 0 || cs == nil || c >= len(*cs) {
		return 0, false
	}
	v := (*cs)[c][seq%seqChunkSize].Load()
	return v, v != 0
}

// msgKind tracks the notifications of one kind of message (message ids
// "<letter>-<run>-<seq>"): when each was meant to be sent, and how long
// after that each of its notifications reached a simulator.
type msgKind struct {
	times seqTimes
	// from and to bound the intended times that are measured (unix ns).
	from, to atomic.Int64
	series   int // timeline series of its notifications; -1 = none

	mu     sync.Mutex
	hist   *Histogram
	count  int64                // notifications seen (measured or not)
	last   time.Time            // latest arrival
	lastBy map[string]time.Time // latest arrival per vendor
}

// tracker sees every receipt of a run and routes it to its message kind.
type tracker struct {
	run   string
	tl    *Timeline
	kinds [128]*msgKind
	// byToken, when set, also hears every receipt by token (calls), and
	// bySeq every receipt of this run's messages by kind and sequence
	// number (overload, crash).
	byToken func(token string, at time.Time)
	bySeq   func(letter byte, seq int64, r simkit.Receipt)
	all     atomic.Int64 // receipts of this run
}

func newTracker(run string, tl *Timeline) *tracker { return &tracker{run: run, tl: tl} }

// kind registers message kind letter, measured between from and to
// (intended times), counted in timeline series (name "" = not shown).
func (t *tracker) kind(letter byte, series string) *msgKind {
	k := &msgKind{hist: NewHistogram(), series: -1}
	k.to.Store(1<<63 - 1)
	if series != "" {
		k.series = t.tl.Series(series, "notifications/s")
	}
	t.kinds[letter] = k
	return k
}

// window sets the measured range of intended times.
func (k *msgKind) window(from, to time.Time) {
	k.from.Store(from.UnixNano())
	k.to.Store(to.UnixNano())
}

// messageID is the id of message seq of kind letter in run.
func messageID(letter byte, run string, seq int64) string {
	return string(letter) + "-" + run + "-" + strconv.FormatInt(seq, 10)
}

// parse splits a message id of this run.
func (t *tracker) parse(id string) (byte, int64, bool) {
	if len(id) < len(t.run)+4 || id[1] != '-' || id[0] >= 128 {
		return 0, 0, false
	}
	rest := id[2:]
	if !strings.HasPrefix(rest, t.run) || rest[len(t.run)] != '-' {
		return 0, 0, false
	}
	seq, err := strconv.ParseInt(rest[len(t.run)+1:], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return id[0], seq, true
}

// onReceipt is the simulators' receipt hook.
func (t *tracker) onReceipt(vendor string, r simkit.Receipt) {
	if t.byToken != nil {
		t.byToken(r.Token, r.At)
	}
	letter, seq, ok := t.parse(r.MessageID)
	if !ok {
		return
	}
	if t.bySeq != nil {
		t.bySeq(letter, seq, r)
	}
	k := t.kinds[letter]
	if k == nil {
		return
	}
	t.all.Add(1)
	if k.series >= 0 {
		t.tl.Add(k.series, r.At, 1)
	}
	intended, known := k.times.get(seq)
	at := r.At.UnixNano()
	k.mu.Lock()
	k.count++
	if r.At.After(k.last) {
		k.last = r.At
	}
	if l, ok := k.lastBy[vendor]; !ok || r.At.After(l) {
		if k.lastBy == nil {
			k.lastBy = map[string]time.Time{}
		}
		k.lastBy[vendor] = r.At
	}
	if known && intended >= k.from.Load() && intended < k.to.Load() {
		k.hist.RecordValue(at - intended)
	}
	k.mu.Unlock()
}

// snapshot returns the kind's histogram (a copy), count and last arrival.
func (k *msgKind) snapshot() (*Histogram, int64, time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	h := NewHistogram()
	h.Merge(k.hist)
	return h, k.count, k.last
}

// lastByVendor returns a copy of the latest arrival per vendor.
func (k *msgKind) lastByVendor() map[string]time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]time.Time, len(k.lastBy))
	for v, t := range k.lastBy {
		out[v] = t
	}
	return out
}

// tokenIndex reads the device index from a token "<prefix><index>".
func tokenIndex(token, prefix string) (int64, bool) {
	if !strings.HasPrefix(token, prefix) {
		return 0, false
	}
	v, err := strconv.ParseInt(token[len(prefix):], 10, 64)
	return v, err == nil
}
