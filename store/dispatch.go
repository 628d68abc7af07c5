package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Chunk is one planned slice of a message's fan-out, committed atomically:
// the message record (first chunk), the job checkpoint, and for every
// offline recipient its inbox entry, badge increment and one outbox row per
// device.
type Chunk struct {
	Message   *Message // written when non-nil (the accepting batch)
	Job       *Job     // checkpoint written when non-nil
	DeleteJob bool     // the fan-out is complete: remove its job

	MessageID      string
	SentAt         int64 // unix ms, the inbox timestamp
	Offline        []Recipient
	Inbox          bool  // offline recipients get an inbox entry
	Push           bool  // offline recipients' devices get outbox rows
	BadgeIncrement int64 // added to each offline recipient's badge
	InboxCap       int64 // per-user cap; older entries are dropped (0 = no cap)
	Priority       bool  // outbox rows go on the senders' priority lane (calls)
	// Call, when set, is written in the same batch with Pushed set to the
	// rows this chunk queued (a call invitation).
	Call *Call
	// Kind is what the chunk's outbox rows push (their ID is MessageID:
	// a message's id, or the call's id for RowCallInvite).
	Kind RowKind
	// Route picks where a device's push goes (its vendor queue, token, APNs
	// environment, VoIP); false skips the device. Required when Push: the
	// choice is the caller's (package push), not the store's.
	Route func(Device) (Route, bool)
}

// Route is where one device's push goes.
type Route struct {
	Vendor  string // the outbox queue (a sender)
	Token   string // the token to send to
	APNsEnv string // APNs: the environment to try (production, development, automatic)
	VoIP    bool   // a VoIP (PushKit) or call push
}

// Queued is one outbox row written by CommitChunk.
type Queued struct {
	Key   OutboxKey
	Entry OutboxEntry
}

// ChunkResult is what CommitChunk wrote.
type ChunkResult struct {
	Queued       []Queued
	InboxDropped int64 // entries dropped by the per-user cap
	Call         *Call // the call as written (Chunk.Call with Pushed set)
	events       bool  // the batch holds webhook events
}

// CommitChunk writes c in one synced batch and returns once it is durable.
func (s *Store) CommitChunk(c Chunk) (ChunkResult, error) {
	res, wait, err := s.ApplyChunk(c)
	if err != nil {
		return res, err
	}
	return res, wait()
}

// ApplyChunk writes c in one synced batch but returns as soon as the batch
// is applied: visible to every read and ordered before every later write,
// though not yet on disk. wait blocks until the batch is durable (or
// failed) and must be called exactly once, on any goroutine; the store
// cannot close before it is.
//
// Badge and inbox sequence updates hold the users' meta locks while the
// batch is built and applied, so concurrent chunks and badge reports never
// lose an update; the locks are released before the fsync, which a later
// writer's own synced commit waits for anyway (the WAL is written in
// order). A fan-out can so apply chunk n+1 while chunk n syncs, and Pebble
// syncs both with one fsync.
func (s *Store) ApplyChunk(c Chunk) (res ChunkResult, wait func() error, err error) {
	if err := s.acquire(); err != nil {
		return ChunkResult{}, nil, err
	}
	if err := s.space.check(); err != nil {
		s.mu.RUnlock()
		return ChunkResult{}, nil, err
	}
	b, res, err := s.applyChunk(c)
	if err != nil || b == nil {
		if b != nil {
			_ = b.Close()
		}
		s.mu.RUnlock()
		if err != nil {
			return res, nil, err
		}
		return res, noWait, nil
	}
	start := time.Now()
	return res, func() error {
		defer s.mu.RUnlock()
		defer b.Close()
		err := b.SyncWait()
		s.observe("dispatch_chunk", time.Since(start))
		if err == nil && res.events {
			s.kick()
		}
		if err != nil {
			return fmt.Errorf("store: commit dispatch_chunk: %w", err)
		}
		return nil
	}, nil
}

// noWait is the wait of an ApplyChunk that wrote nothing.
func noWait() error { return nil }

// applyChunk builds c's batch under the users' meta locks and applies it
// without waiting for the fsync. It returns a nil batch when c writes
// nothing.
func (s *Store) applyChunk(c Chunk) (*pebble.Batch, ChunkResult, error) {
	names := make([]string, 0, len(c.Offline))
	for _, r := range c.Offline {
		names = append(names, r.UserID)
	}
	unlock := s.userLocks.lock(names...)
	defer unlock()
	b := s.db.NewBatch()
	res, err := s.fillChunk(b, c)
	switch {
	case err != nil:
		return b, res, err
	case b.Empty():
		_ = b.Close()
		return nil, res, nil
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		return b, res, fmt.Errorf("store: commit dispatch_chunk: %w", err)
	}
	return b, res, nil
}

// fillChunk puts c's writes into b.
func (s *Store) fillChunk(b *pebble.Batch, c Chunk) (ChunkResult, error) {
	var res ChunkResult
	var keyBuf []byte // outbox keys, one at a time
	if c.Push {
		if c.Route == nil {
			return res, errors.New("store: a chunk with Push needs a Route")
		}
		n := 0
		for _, r := range c.Offline {
			n += len(r.Devices)
		}
		res.Queued = make([]Queued, 0, n) // at most one row per device
	}
	var metas *metaReader
	if (c.Inbox || c.BadgeIncrement != 0) && len(c.Offline) >= metaIterMin {
		var err error
		if metas, err = s.newMetaReader(); err != nil {
			return res, err
		}
		defer metas.close()
	}
	if c.Message != nil {
		if err := b.Set(MessageKey(c.Message.MessageID), EncodeMessage(*c.Message), nil); err != nil {
			return res, err
		}
		if s.wants(EventMessageCompleted) {
			if err := b.Set(watchKey(tagWatchDone, c.Message.MessageID), msValue(c.Message.CreatedAt), nil); err != nil {
				return res, err
			}
		}
		if s.receipts && c.Message.HasPush {
			ref := refOf(s.receiptKey, c.Message.MessageID)
			if err := b.Set(receiptRefKey(ref), []byte(c.Message.MessageID), nil); err != nil {
				return res, err
			}
		}
	}
	// The recipients' writes go in by key space (inbox i/, outbox o/, user
	// meta u/), each in the recipients' order, rather than interleaved per
	// recipient: Pebble inserts a batch into its memtable in order with a
	// splice cache, so keys that follow each other cost a short step
	// instead of a search from the skiplist's top. A few recipients (a
	// peer message has one) write straight into b.
	inbox, outbox, metaB := b, b, b
	split := len(c.Offline) >= metaIterMin
	if split {
		inbox, outbox, metaB = s.db.NewBatch(), s.db.NewBatch(), s.db.NewBatch()
		defer func() { _, _, _ = inbox.Close(), outbox.Close(), metaB.Close() }()
	}
	for _, r := range c.Offline {
		var meta UserMeta
		if c.Inbox || c.BadgeIncrement != 0 {
			// Only inbox and badge changes need the user's meta (calls don't).
			var err error
			if metas != nil {
				meta, err = metas.get(r.UserID)
			} else {
				meta, err = s.userMeta(r.UserID)
			}
			if err != nil {
				return res, err
			}
		}
		meta.Badge += c.BadgeIncrement
		if c.Inbox {
			dropped, err := appendInbox(inbox, r.UserID, &meta, InboxEntry{MessageID: c.MessageID, SentAt: c.SentAt}, c.InboxCap)
			if err != nil {
				return res, err
			}
			res.InboxDropped += dropped
		}
		if c.Inbox || c.BadgeIncrement != 0 {
			if err := metaB.Set(UserKey(r.UserID), EncodeUserMeta(meta), nil); err != nil {
				return res, err
			}
		}
		if !c.Push {
			continue
		}
		badge := int64(-1)
		if c.BadgeIncrement != 0 {
			badge = meta.Badge
		}
		for _, d := range r.Devices {
			rt, ok := c.Route(d.Device)
			if !ok {
				continue // no sender for this device's vendor
			}
			q := Queued{Key: OutboxKey{Vendor: rt.Vendor, RowID: RowID{Kind: c.Kind, ID: c.MessageID}, UserID: r.UserID, DeviceID: d.DeviceID},
				Entry: OutboxEntry{Token: rt.Token, APNsEnv: rt.APNsEnv, Badge: badge, VoIP: rt.VoIP, Priority: c.Priority}}
			keyBuf = q.Key.appendKey(keyBuf[:0], tagOutbox) // the batch copies it
			if err := outbox.Set(keyBuf, EncodeOutboxEntry(q.Entry), nil); err != nil {
				return res, err
			}
			res.Queued = append(res.Queued, q)
		}
	}
	if split {
		for _, part := range []*pebble.Batch{inbox, outbox, metaB} {
			if err := b.Apply(part, nil); err != nil {
				return res, err
			}
		}
	}
	if c.Call != nil {
		call := *c.Call
		for _, q := range res.Queued {
			call.Pushed = append(call.Pushed, OutboxKeyToken{Key: q.Key, Token: q.Entry.Token, VoIP: q.Entry.VoIP})
		}
		if err := putCall(b, call); err != nil {
			return res, err
		}
		em := &emitter{s: s, b: b}
		if err := em.emitCall(nil, call); err != nil {
			return res, err
		}
		res.events = em.emitted
		res.Call = &call
	}
	switch {
	case c.DeleteJob:
		if err := b.Delete(JobKey(c.MessageID), nil); err != nil {
			return res, err
		}
	case c.Job != nil:
		if err := b.Set(JobKey(c.Job.MessageID), EncodeJob(*c.Job), nil); err != nil {
			return res, err
		}
	}
	return res, nil
}

// metaReader reads many users' meta through one iterator: a chunk's
// recipients come sorted, and a seek on an open iterator costs far less
// than a point Get, which builds its iterator stack anew every time.
type metaReader struct{ it *pebble.Iterator }

// metaIterMin is the fewest recipients read through a metaReader: opening
// an iterator costs more than a few point reads (a peer message has one).
const metaIterMin = 8

func (s *Store) newMetaReader() (*metaReader, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagUser), UpperBound: []byte("u0")})
	if err != nil {
		return nil, fmt.Errorf("store: user meta: %w", err)
	}
	return &metaReader{it: it}, nil
}

// get is the user's meta; the zero value for a user without one.
func (r *metaReader) get(userID string) (UserMeta, error) {
	key := UserKey(userID)
	if !r.it.SeekGE(key) || !bytes.Equal(r.it.Key(), key) {
		return UserMeta{}, r.it.Error()
	}
	v, err := r.it.ValueAndErr()
	if err != nil {
		return UserMeta{}, fmt.Errorf("store: user %q: %w", userID, err)
	}
	return decodeMeta(userID, v)
}

func (r *metaReader) close() { _ = r.it.Close() }

// pointDeletes is how many dropped inbox entries are deleted one by one; a
// larger drop is one range deletion. The steady state of a full inbox
// drops one entry per new one, and range tombstones slow every later read
// of the keyspace they cover.
const pointDeletes = 16

// appendInbox adds e to the user's inbox in b and applies the cap.
func appendInbox(b *pebble.Batch, userID string, m *UserMeta, e InboxEntry, limit int64) (dropped int64, err error) {
	next := max(m.InboxNext, 1)
	if err := b.Set(InboxKey(userID, next), EncodeInboxEntry(e), nil); err != nil {
		return 0, err
	}
	m.InboxNext = next + 1
	first := max(m.InboxFirst, 1)
	if limit > 0 && m.InboxNext-first > limit {
		newFirst := m.InboxNext - limit
		if newFirst-first <= pointDeletes {
			for seq := first; seq < newFirst; seq++ {
				if err := b.Delete(InboxKey(userID, seq), nil); err != nil {
					return 0, err
				}
			}
		} else if err := b.DeleteRange(InboxKey(userID, first), InboxKey(userID, newFirst), nil); err != nil {
			return 0, err
		}
		dropped = newFirst - first
		m.InboxFirst = newFirst
	}
	return dropped, nil
}

// GetMessage reads an accepted message.
func (s *Store) GetMessage(id string) (Message, bool, error) {
	if err := s.acquire(); err != nil {
		return Message{}, false, err
	}
	defer s.mu.RUnlock()
	v, ok, err := s.get(MessageKey(id))
	if err != nil || !ok {
		return Message{}, false, err
	}
	m, err := DecodeMessage(v)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: message %q: %w", id, err)
	}
	return m, true, nil
}

// LockMessage serialises acceptance of one message id: the caller checks
// GetMessage and commits the first chunk while holding it.
func (s *Store) LockMessage(id string) func() { return s.msgLocks.lock(id) }

// Jobs returns every unfinished fan-out job.
func (s *Store) Jobs() ([]Job, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagJob), UpperBound: []byte("j0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Job
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		j, err := DecodeJob(v)
		if err != nil {
			return nil, fmt.Errorf("store: job %q: %w", it.Key(), err)
		}
		out = append(out, j)
	}
	return out, it.Error()
}

// Outbox calls fn for every outbox row of vendor, in key order.
func (s *Store) Outbox(vendor string, fn func(Queued) error) error {
	return s.scanOutbox(tagOutbox, vendor, nil, -1, fn)
}

// OutboxRange calls fn for up to limit outbox rows (limit < 0: all) from
// position from up to and including key to, in key order, and returns how
// many it read. from and to lie in one vendor's queue: a sender reads back
// the rows of a message it left on disk (see actors.sender's spill) with it.
func (s *Store) OutboxRange(from OutboxPos, to OutboxKey, limit int, fn func(Queued) error) (int, error) {
	return s.scanRange(tagOutbox, from.key, append(to.encode(), 0), limit, fn)
}

// OutboxPos is a position in the outbox between rows, for OutboxRange: the
// rows at or after it. Its zero value is before every row.
type OutboxPos struct{ key []byte }

// At is the position of row k: k and the rows after it.
func At(k OutboxKey) OutboxPos { return OutboxPos{k.encode()} }

// After is the position just past row k: the rows after it.
func After(k OutboxKey) OutboxPos { return OutboxPos{append(k.encode(), 0)} }

// Holds reports whether row k is at or after p.
func (p OutboxPos) Holds(k OutboxKey) bool { return bytes.Compare(k.encode(), p.key) >= 0 }

func (s *Store) scanOutbox(tag, vendor string, after []byte, limit int, fn func(Queued) error) error {
	lower := append(append([]byte(tag), vendor...), separator)
	upper := append(append([]byte(tag), vendor...), separator+1)
	if vendor == "" { // every vendor's rows
		lower, upper = []byte(tag), append([]byte(tag[:len(tag)-1]), tag[len(tag)-1]+1)
	}
	if after != nil {
		lower = append(slices.Clone(after), separator)
	}
	_, err := s.scanRange(tag, lower, upper, limit, fn)
	return err
}

// scanRange calls fn for up to limit rows of tag's table in [lower, upper).
func (s *Store) scanRange(tag string, lower, upper []byte, limit int, fn func(Queued) error) (int, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid() && (limit < 0 || n < limit); it.Next() {
		k, err := parseOutboxKey(tag, it.Key())
		if err != nil {
			return n, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return n, err
		}
		e, err := DecodeOutboxEntry(v)
		if err != nil {
			return n, fmt.Errorf("store: outbox row: %w", err)
		}
		if err := fn(Queued{Key: k, Entry: e}); err != nil {
			return n, err
		}
		n++
	}
	return n, it.Error()
}

// OutboxDone removes rows that reached a final verdict and, for a
// message's rows, records the verdict beside the message in the same
// batch (MessageStatus): one tally of sent and expired rows per message
// and vendor, and a verdict row per invalid token (for the failures).
// Only a row still in the outbox is counted, and only while its message
// is kept: a row finished twice (a resumed fan-out queued it again
// while the sender held it) counts once, and a message that expired
// meanwhile leaves no verdicts behind for a later message of its id to
// inherit. The batch is not synced: a removal lost in a crash only
// means that notification is sent again (at-least-once), never that one
// is lost, and its verdict is lost with it, so the message's counts stay
// exact.
func (s *Store) OutboxDone(rows []Done) error {
	// ExpireMessages deletes a message and its verdicts at once; holding
	// expiryMu shared keeps it from doing so between the check that the
	// message is kept and this batch's commit.
	s.expiryMu.RLock()
	defer s.expiryMu.RUnlock()
	var em *emitter
	return s.outboxWrite(func(b *pebble.Batch) error {
		em = &emitter{s: s, b: b}
		keys := newRowKeys(rows)
		var live *liveRows
		defer func() {
			if live != nil {
				live.close()
			}
		}()
		var buf []byte // the batch copies keys and values: one scratch buffer serves every row
		var tallies []tally
		var prev []byte
		for _, i := range keys.order {
			d, key := rows[i], keys.key(i)
			if bytes.Equal(key, prev) {
				continue // the same row twice in one batch: removed and counted once
			}
			prev = key
			if err := b.Delete(key, nil); err != nil {
				return err
			}
			if live == nil && (d.Key.Kind == RowMessage || (d.Outcome == OutcomeInvalid && em.s.wants(EventPushFailed))) {
				var err error
				if live, err = s.newLiveRows(); err != nil {
					return err
				}
			}
			if d.Key.Kind != RowMessage {
				// Only a message's rows are counted; a call row's invalid
				// token is told once, while the row is still there.
				if d.Outcome == OutcomeInvalid && em.s.wants(EventPushFailed) {
					if !live.seekOutbox(key) || !bytes.Equal(live.outbox.Key(), key) {
						if err := live.outbox.Error(); err != nil {
							return err
						}
						continue
					}
					if err := em.emit(EventPushFailed, pushFailed(d.Key, "invalid_token", d.Code, d.Attempts)); err != nil {
						return err
					}
				}
				continue
			}
			if counted, err := live.counts(key, d.Key.ID); err != nil {
				return err
			} else if !counted {
				continue
			}
			if d.Outcome != OutcomeInvalid {
				tallies = addTally(tallies, d)
				continue
			}
			buf = appendVerdictKey(buf[:0], d.Key)
			n := len(buf)
			buf = appendVerdict(buf, d)
			if err := b.Set(buf[:n], buf[n:], nil); err != nil {
				return err
			}
			if err := em.emit(EventPushFailed, pushFailed(d.Key, "invalid_token", d.Code, d.Attempts)); err != nil {
				return err
			}
		}
		for _, t := range tallies {
			buf = appendTallyKey(buf[:0], t.id, t.vendor, s.tallyEpoch, s.tallySeq.Add(1))
			n := len(buf)
			buf = appendTally(buf, t)
			if err := b.Set(buf[:n], buf[n:], nil); err != nil {
				return err
			}
		}
		return nil
	}, pebble.NoSync, func(err error) error { return em.done(err) })
}

// rowKeys holds the outbox keys of an OutboxDone's rows in one buffer,
// and the rows' order by key: the store then reads forward through the
// outbox once, and a row given twice is found next to itself.
type rowKeys struct {
	buf   []byte
	end   []int // key i is buf[end[i-1]:end[i]]
	order []int // row indexes by key
}

func newRowKeys(rows []Done) rowKeys {
	k := rowKeys{end: make([]int, len(rows)), order: make([]int, len(rows))}
	if len(rows) > 0 { // a batch's keys are about as long as its first
		k.buf = make([]byte, 0, len(rows)*(len(rows[0].Key.appendKey(nil, tagOutbox))+16))
	}
	sorted := true
	for i, d := range rows {
		k.buf = d.Key.appendKey(k.buf, tagOutbox)
		k.end[i], k.order[i] = len(k.buf), i
		if i > 0 && sorted && bytes.Compare(k.key(i-1), k.key(i)) > 0 {
			sorted = false
		}
	}
	if !sorted { // a sender's batch is one message's rows in key order: rarely taken
		slices.SortStableFunc(k.order, func(a, b int) int { return bytes.Compare(k.key(a), k.key(b)) })
	}
	return k
}

func (k rowKeys) key(i int) []byte {
	start := 0
	if i > 0 {
		start = k.end[i-1]
	}
	return k.buf[start:k.end[i]:k.end[i]]
}

// liveRows tells which of an OutboxDone's message rows to count: those
// still in the outbox whose message is kept. It reads through two
// iterators (outbox and messages) rather than point Gets: the rows come
// in key order, and a seek forward on an open iterator costs far less
// than a Get, which builds its iterator stack anew.
type liveRows struct {
	outbox, messages *pebble.Iterator
	lastID           string // the message last looked up, and whether it is kept
	lastKept         bool
	positioned       bool // the outbox iterator is at a row (before or at the next key asked)
}

func (s *Store) newLiveRows() (*liveRows, error) {
	o, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagOutbox), UpperBound: []byte("o0")})
	if err != nil {
		return nil, err
	}
	m, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagMessage), UpperBound: []byte("m0")})
	if err != nil {
		_ = o.Close()
		return nil, err
	}
	return &liveRows{outbox: o, messages: m}, nil
}

// counts reports whether the row at outbox key (of message id) is to be
// counted: in the outbox, and its message kept. Keys come in ascending
// order.
func (l *liveRows) counts(key []byte, id string) (bool, error) {
	if !l.seekOutbox(key) || !bytes.Equal(l.outbox.Key(), key) {
		return false, l.outbox.Error()
	}
	if id != l.lastID || l.lastID == "" {
		mk := MessageKey(id)
		l.lastID = id
		l.lastKept = l.messages.SeekGE(mk) && bytes.Equal(l.messages.Key(), mk)
		if err := l.messages.Error(); err != nil {
			return false, err
		}
	}
	return l.lastKept, nil
}

// seekOutbox moves the outbox iterator to the first row at or after key.
// A batch's rows mostly follow each other in the outbox, so a few steps
// forward usually find it without a seek through every level.
func (l *liveRows) seekOutbox(key []byte) bool {
	if l.positioned { // at a row before key: the rows asked before
		for range 4 {
			if bytes.Compare(l.outbox.Key(), key) >= 0 {
				return true
			}
			if !l.outbox.Next() {
				l.positioned = false
				return false // no row at or after key
			}
		}
		if bytes.Compare(l.outbox.Key(), key) >= 0 {
			return true
		}
	}
	l.positioned = l.outbox.SeekGE(key)
	return l.positioned
}

func (l *liveRows) close() { _, _ = l.outbox.Close(), l.messages.Close() }

// OutboxRetry records a row's attempt count and next attempt time (not
// synced: a lost update only retries sooner).
func (s *Store) OutboxRetry(q []Queued) error {
	return s.outboxWrite(func(b *pebble.Batch) error {
		for _, e := range q {
			if err := b.Set(e.Key.encode(), EncodeOutboxEntry(e.Entry), nil); err != nil {
				return err
			}
		}
		return nil
	}, pebble.NoSync)
}

// DeadLetter moves rows from the outbox to the dead letters, synced.
// Each row gives a push.failed event (reason dead_letter).
func (s *Store) DeadLetter(q []Queued) error {
	var em *emitter
	return s.outboxWrite(func(b *pebble.Batch) error {
		em = &emitter{s: s, b: b}
		for _, e := range q {
			if err := b.Delete(e.Key.encode(), nil); err != nil {
				return err
			}
			if err := b.Set(e.Key.DeadKey(), EncodeOutboxEntry(e.Entry), nil); err != nil {
				return err
			}
			if err := em.emit(EventPushFailed, pushFailed(e.Key, "dead_letter", e.Entry.LastCode, e.Entry.Attempts)); err != nil {
				return err
			}
		}
		return nil
	}, pebble.Sync, func(err error) error { return em.done(err) })
}

// outboxWrite fills one batch and commits it with opt; after, when
// given, sees the commit's error (and may replace it).
func (s *Store) outboxWrite(fill func(*pebble.Batch) error, opt *pebble.WriteOptions, after ...func(error) error) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	b := s.db.NewBatch()
	defer b.Close()
	if err := fill(b); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	var err error
	if opt == pebble.Sync {
		err = s.commit("outbox", b)
	} else {
		err = b.Commit(opt)
	}
	for _, f := range after {
		err = f(err)
	}
	return err
}

// errEnough stops a scan that has what it needs.
var errEnough = errors.New("store: enough rows")

// DeadFilter picks dead letters; its zero value picks all.
type DeadFilter struct {
	ID       string   // a message's or a call's id ("" = any)
	Kind     *RowKind // what the rows push (nil = any; with ID, a message and a call sharing an id are both matched)
	LastCode string   // the last vendor code ("" = any)
}

func (f DeadFilter) match(q Queued) bool {
	return (f.ID == "" || q.Key.ID == f.ID) && (f.Kind == nil || q.Key.Kind == *f.Kind) &&
		(f.LastCode == "" || q.Entry.LastCode == f.LastCode)
}

// ReplayDead moves up to limit dead letters of vendor that match f back
// into the outbox, due now with no attempt counted, in one synced batch,
// and returns them and whether more matched. The caller hands the rows to
// the senders.
func (s *Store) ReplayDead(vendor string, f DeadFilter, limit int) ([]Queued, bool, error) {
	// One replay at a time: two overlapping calls must not both read and
	// re-queue the same dead letters.
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	var rows []Queued
	more := false
	// The vendor's dead letters, or only those of one id when it is given:
	// its message rows and call invitations are one key range each
	// (vendor, stored id, user, device); its cancel notices sit among all
	// the vendor's cancels, filtered by id.
	base := append(append([]byte(tagDead), vendor...), separator)
	ranges := [][]byte{base}
	if f.ID != "" {
		ranges = ranges[:0]
		for _, k := range []RowKind{RowMessage, RowCallInvite, RowCallCancel} {
			if f.Kind != nil && *f.Kind != k {
				continue
			}
			switch k {
			case RowMessage, RowCallInvite:
				ranges = append(ranges, append(append(slices.Clone(base), RowID{Kind: k, ID: f.ID}.storedID()...), separator))
			case RowCallCancel:
				ranges = append(ranges, append(slices.Clone(base), callCancelPrefix...))
			}
		}
	}
	for _, prefix := range ranges {
		var upper []byte
		if prefix[len(prefix)-1] == separator {
			upper = append(slices.Clone(prefix[:len(prefix)-1]), separator+1)
		} else {
			upper = append(slices.Clone(prefix), 0xff)
		}
		_, err := s.scanRange(tagDead, prefix, upper, -1, func(q Queued) error {
			if !f.match(q) {
				return nil
			}
			if len(rows) == limit {
				more = true
				return errEnough
			}
			rows = append(rows, q)
			return nil
		})
		if errors.Is(err, errEnough) {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	for i := range rows {
		rows[i].Entry.Attempts, rows[i].Entry.NotBefore, rows[i].Entry.LastCode = 0, 0, ""
	}
	kept := rows[:0]
	err := s.outboxWrite(func(b *pebble.Batch) error {
		for _, q := range rows {
			// A key live in the outbox again (a fan-out planned it anew)
			// is owed already: leave its dead letter, queue nothing.
			if _, c, err := s.db.Get(q.Key.encode()); err == nil {
				c.Close()
				continue
			} else if !errors.Is(err, pebble.ErrNotFound) {
				return err
			}
			kept = append(kept, q)
			if err := b.Delete(q.Key.DeadKey(), nil); err != nil {
				return err
			}
			if q.Key.Kind == RowMessage && s.wants(EventMessageCompleted) {
				// The message settles again: its message.completed is told anew.
				if err := b.Set(watchKey(tagWatchDone, q.Key.ID), msValue(s.now().UnixMilli()), nil); err != nil {
					return err
				}
			}
			if err := b.Set(q.Key.encode(), EncodeOutboxEntry(q.Entry), nil); err != nil {
				return err
			}
		}
		return nil
	}, pebble.Sync)
	if err != nil {
		return nil, false, err
	}
	return kept, more, nil
}

// DeadLetters lists up to limit dead letters of vendor ("" = every
// vendor's, by vendor name in byte order) after the given key (nil = from
// the start).
func (s *Store) DeadLetters(vendor string, after *OutboxKey, limit int) ([]Queued, error) {
	var from []byte
	if after != nil {
		from = after.DeadKey()
	}
	var out []Queued
	err := s.scanOutbox(tagDead, vendor, from, limit, func(q Queued) error {
		out = append(out, q)
		return nil
	})
	return out, err
}

// ExpireMessages deletes message records created before cutoffMs whose
// fan-out is finished, and returns how many it deleted. It is housekeeping:
// the deletes are not synced.
func (s *Store) ExpireMessages(cutoffMs int64) (int64, error) {
	if err := s.acquire(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	s.expiryMu.Lock() // no OutboxDone records a verdict for a message deleted here
	defer s.expiryMu.Unlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte(tagMessage), UpperBound: []byte("m0")})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer b.Close()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return n, err
		}
		m, err := DecodeMessage(v)
		if err != nil || m.CreatedAt >= cutoffMs {
			continue
		}
		if _, running, err := s.get(JobKey(m.MessageID)); err != nil || running {
			continue
		}
		if err := b.Delete(it.Key(), nil); err != nil {
			return n, err
		}
		lower, upper := verdictRange(m.MessageID, "") // verdicts, tallies and arrival marks
		if err := b.DeleteRange(lower, upper, nil); err != nil {
			return n, err
		}
		if s.receiptKey != nil && m.HasPush {
			if err := b.Delete(receiptRefKey(refOf(s.receiptKey, m.MessageID)), nil); err != nil {
				return n, err
			}
		}
		n++
	}
	if n == 0 {
		return 0, it.Error()
	}
	return n, b.Commit(pebble.NoSync)
}

// GetJob reads one fan-out job.
func (s *Store) GetJob(messageID string) (Job, bool, error) {
	if err := s.acquire(); err != nil {
		return Job{}, false, err
	}
	defer s.mu.RUnlock()
	v, ok, err := s.get(JobKey(messageID))
	if err != nil || !ok {
		return Job{}, false, err
	}
	j, err := DecodeJob(v)
	return j, err == nil, err
}
