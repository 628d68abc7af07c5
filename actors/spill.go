package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
)

// A sender holds at most queueLimit rows in memory, queued and in flight.
// Past it, a streaming message's rows (a group fan-out's chunks, the
// outbox rows a restart resumes) are not kept: they are durable in the
// outbox already, so the sender remembers only the key range they span
// (a spill) and reads them back from the store, in key order, once the
// queue has room for a quarter of the limit. One read runs at a time, on a
// batch worker, never in Receive.
//
// Why a key range is exact: a message's streaming rows reach its sender
// in ascending key order. A fan-out plans members in key order (the
// group table is sorted by user id, and an outbox key is vendor, message,
// user, device), its chunks are handed over in order once durable, and a
// resumed job continues after its checkpoint, beyond every row of the
// message that the restart's outbox scan handed over first. So every row
// of a spilled message from the spill's first key up to the last key
// handed over is on disk, durable, and in no one's memory: reading
// [lower, last] returns exactly the rows spilled and not read back yet.
// Rows read back and retried keep their keys, which lie below lower by
// then, so no row is read twice. Complete messages (peer, users, calls)
// and priority rows are never spilled.
type spill struct {
	row   store.RowID     // the rows' message (or call row)
	lower store.OutboxPos // the next read starts here
	last  store.OutboxKey // the largest key handed over (inclusive end)
	has   bool            // last is set (a row was spilled)
	rows  int64           // rows spilled and not read back yet
}

// spillLoaded is a read's result: rows of sp in [lower, upper], at most asked.
type spillLoaded struct {
	sp    *spill
	upper store.OutboxKey
	asked int
	rows  []store.Queued
	err   error
}

// queueLimit is MaxQueued, raised to twice the rows max_in_flight
// requests carry so the vendor never waits on a read; 0 = no limit.
func (s *sender) queueLimit() int {
	if s.cfg.MaxQueued <= 0 {
		return 0
	}
	inFlight := s.cfg.MaxInFlight
	if !s.d.perTarget {
		inFlight *= s.batchSize()
	}
	return max(s.cfg.MaxQueued, 2*inFlight)
}

// inMemory is the rows the sender holds: queued (batches, priority lane,
// retries waiting) and in flight.
func (s *sender) inMemory() int64 { return s.stats.Queued.Load() + s.stats.InFlight.Load() }

// addStreaming takes rows that more rows of the same messages may follow,
// keeping them in memory while under the limit and spilling the rest.
// It returns how many it kept.
func (s *sender) addStreaming(items []store.Queued, now time.Time) int {
	limit := int64(s.queueLimit())
	held := s.inMemory()
	kept := 0
	for i := 0; i < len(items); {
		// One message's run of rows at a time (a resume's batches mix messages).
		j := i + 1
		for j < len(items) && items[j].Key.RowID == items[i].Key.RowID {
			j++
		}
		run := items[i:j]
		i = j
		sp := s.spilled[run[0].Key.RowID]
		if sp == nil && (limit == 0 || held+int64(len(run)) <= limit) {
			for _, q := range run {
				s.add(q, now)
			}
			held += int64(len(run))
			kept += len(run)
			continue
		}
		var mem []store.Queued
		if sp == nil {
			if sp = s.startSpill(run); sp == nil { // only priority rows
				for _, q := range run {
					s.add(q, now)
				}
				held += int64(len(run))
				kept += len(run)
				continue
			}
		}
		prev, had := sp.last, sp.has // the range's end before this run
		for _, q := range run {
			switch {
			case q.Entry.Priority:
				mem = append(mem, q) // never spilled
			case !had || keyLess(prev, q.Key):
				// Beyond the range: the message's next rows.
				if !sp.has || keyLess(sp.last, q.Key) {
					sp.last, sp.has = q.Key, true
				}
				sp.rows++
				s.stats.Spilled.Add(1)
			case sp.lower.Holds(q.Key):
				// Within the range still to read: a row planned again after
				// an interrupted fan-out, on disk under its key already.
			default:
				// Below the range, so never read again: a re-planned row
				// whose first copy was read back already. Sent again, as it
				// would be without a spill.
				mem = append(mem, q)
			}
		}
		for _, q := range mem {
			s.add(q, now)
		}
		held += int64(len(mem))
		kept += len(mem)
	}
	return kept
}

// startSpill opens the spill of a run of one message's rows, reading
// from the run's smallest key; the caller adds the rows. A run of
// priority rows only opens none (nil).
func (s *sender) startSpill(run []store.Queued) *spill {
	sp := &spill{row: run[0].Key.RowID}
	var first *store.OutboxKey
	for i := range run {
		if !run[i].Entry.Priority && (first == nil || keyLess(run[i].Key, *first)) {
			first = &run[i].Key
		}
	}
	if first == nil {
		return nil
	}
	sp.lower = store.At(*first)
	s.spilled[sp.row] = sp
	s.spills = append(s.spills, sp)
	return sp
}

// keyLess orders two outbox keys of one vendor and message as the store
// does (user id, then device id; ids never hold the separator byte).
func keyLess(a, b store.OutboxKey) bool {
	if a.UserID != b.UserID {
		return a.UserID < b.UserID
	}
	return a.DeviceID < b.DeviceID
}

// readBack starts reading the next rows of the spill at the head of the
// line when the queue has room for a quarter of the limit (the limit is at
// least twice what is in flight, so rows are still queued for the vendor
// while the read runs), no read runs
// yet and no failed read waits for its retry. Spills take turns, one read
// each, so a fan-out still being planned does not hold the others back.
func (s *sender) readBack(ctx actor.Context, now time.Time) {
	limit := int64(s.queueLimit())
	if s.loading || len(s.spills) == 0 || now.Before(s.readAfter) {
		return
	}
	held := s.inMemory()
	if limit > 0 && held > limit-limit/4 {
		return
	}
	asked := int(max(limit-held, 1))
	if limit == 0 {
		asked = 10000 // the limit was lifted by a reload: drain in large reads
	}
	sp := s.spills[0]
	lower, upper := sp.lower, sp.last
	s.loading = true
	self, root, st := ctx.Self(), s.d.root, s.d.Store
	s.d.wg.Add(1)
	s.d.pool.Go(func() {
		defer s.d.wg.Done()
		res := &spillLoaded{sp: sp, upper: upper, asked: asked}
		_, res.err = st.OutboxRange(lower, upper, asked, func(q store.Queued) error {
			res.rows = append(res.rows, q)
			return nil
		})
		root.Send(self, res)
	})
}

// loaded takes a read's rows into the queue and retires the spill once
// every row it spans has been read back.
func (s *sender) loaded(m *spillLoaded, now time.Time) {
	s.loading = false
	if m.err != nil {
		s.readWait = min(max(2*s.readWait, time.Second), 30*time.Second)
		s.readAfter = now.Add(s.readWait)
		s.d.log.Warn("reading spilled outbox rows back failed; retrying", "message_id", m.sp.row.ID, "kind", m.sp.row.Kind.String(), "err", m.err, "in", s.readWait.String())
		return
	}
	s.readWait, s.readAfter = 0, time.Time{}
	sp := m.sp
	for _, q := range m.rows {
		s.add(q, now)
	}
	n := int64(len(m.rows))
	s.stats.Queued.Add(n)
	s.stats.Spilled.Add(-n)
	sp.rows -= n
	if n > 0 {
		sp.lower = store.After(m.rows[len(m.rows)-1].Key)
	}
	for i, o := range s.spills {
		if o == sp {
			s.spills = append(s.spills[:i], s.spills[i+1:]...)
			break
		}
	}
	if len(m.rows) == m.asked || sp.last != m.upper {
		s.spills = append(s.spills, sp) // more to read: to the back of the line
	} else {
		// Everything up to the last key handed over is back: later rows
		// of the message may stay in memory again.
		delete(s.spilled, sp.row)
		if sp.rows != 0 {
			// Rows gone from the outbox before they were read (an expired
			// message): nothing to send, nothing left to count.
			s.stats.Spilled.Add(-sp.rows)
		}
	}
	for _, voip := range []bool{false, true} {
		if b := s.forming[batchKey{row: sp.row, voip: voip}]; b != nil {
			s.seal(b) // the rows read are all there is for now: send them
		}
	}
}
