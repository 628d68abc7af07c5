package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// ErrNoGroup means a message was sent to a group without members.
var ErrNoGroup = errors.New("actors: group has no members")

// DispatchConfig tunes message fan-out.
type DispatchConfig struct {
	ChunkSize int   // group members per durable chunk
	MaxJobs   int   // group fan-outs running at once
	InboxCap  int64 // per-user inbox cap
	// OnInboxDropped, when set, hears how many inbox entries the cap dropped.
	OnInboxDropped func(n int64)
	// Yield, when set, paces fan-out planning to its share while chat
	// traffic waits for the CPU (yield.go).
	Yield *Yield
}

// Answer is what accepting a message returns.
type Answer struct {
	MessageID  string
	Recipients int64
	Online     int64 // -1 while a group fan-out is still planning
	Offline    int64 // -1 likewise
	Duplicate  bool
}

// Dispatcher accepts messages and fans them out: peer and users messages
// are planned and committed in the request; a group message is committed
// with a job, and a job runner plans its members chunk by chunk, each chunk
// (outbox rows, inbox entries, badges, checkpoint) in one synced batch.
// Runners are goroutines, not actors: every step is Pebble I/O or a wait
// on the shards, which must not sit in an actor's Receive.
type Dispatcher struct {
	store   *store.Store
	users   *Users
	senders *Senders
	clock   Clock
	log     *slog.Logger
	cfg     DispatchConfig

	sem    chan struct{}
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// NewDispatcher builds a dispatcher; call Resume once to restart work left
// by a previous run.
func NewDispatcher(st *store.Store, users *Users, senders *Senders, clock Clock, log *slog.Logger, cfg DispatchConfig) *Dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{store: st, users: users, senders: senders, clock: clock, log: log, cfg: cfg,
		sem: make(chan struct{}, max(cfg.MaxJobs, 1)), ctx: ctx, cancel: cancel}
}

// route routes a device to its sender's queue (push.Route); devices of
// vendors without a sender get no outbox row.
func (d *Dispatcher) route(dev store.Device) (store.Route, bool) {
	if !d.senders.Has(vendors.Kind(dev.Vendor)) {
		return store.Route{}, false
	}
	return push.Route(dev, false), true
}

// Submit accepts a message durably and returns the answer for the API. A
// message id seen before returns the first answer with Duplicate set.
func (d *Dispatcher) Submit(ctx context.Context, m store.Message) (Answer, error) {
	unlock := d.store.LockMessage(m.MessageID)
	defer unlock()
	if old, ok, err := d.store.GetMessage(m.MessageID); err != nil {
		return Answer{}, err
	} else if ok {
		return Answer{MessageID: old.MessageID, Recipients: old.Recipients, Online: old.Online, Offline: old.Offline, Duplicate: true}, nil
	}
	now := d.clock.Now()
	m.CreatedAt = now.UnixMilli()
	if m.ToType == "group" {
		return d.submitGroup(m)
	}
	ids := m.ToIDs
	if m.ToType == "peer" {
		ids = []string{m.ToID}
	}
	// Planning reads the store directly: user actors write through before
	// they answer, so the store is the truth, and a read here neither waits
	// behind a shard's mailbox nor holds it up.
	rs, err := d.store.Recipients(ids, m.CreatedAt)
	if err != nil {
		return Answer{}, err
	}
	offline := rs[:0:0]
	for _, r := range rs {
		if !r.Online {
			offline = append(offline, r)
		}
	}
	m.Recipients, m.Offline = int64(len(rs)), int64(len(offline))
	m.Online = m.Recipients - m.Offline
	if m.HasPush {
		if err := d.admit(offline); err != nil {
			return Answer{}, err
		}
	}
	c := d.chunk(&m, offline)
	c.Message = &m // the record is the idempotency key and the inbox content
	res, err := d.store.CommitChunk(c)
	if err != nil {
		return Answer{}, err
	}
	d.dropped(res.InboxDropped)
	d.senders.Enqueue(res.Queued, Complete)
	return Answer{MessageID: m.MessageID, Recipients: m.Recipients, Online: m.Online, Offline: m.Offline}, nil
}

// BackloggedError refuses a message whose notifications would wait behind
// a vendor's full queue: nothing of it was written; the caller retries.
type BackloggedError struct {
	Vendor  vendors.Kind
	Waiting int64 // notifications of complete messages waiting for that vendor
}

func (e *BackloggedError) Error() string {
	return fmt.Sprintf("actors: %d notifications are waiting for %s, as many as its queue holds (limits.max_queued)", e.Waiting, e.Vendor)
}

// admit refuses a peer or users message when a vendor one of its offline
// devices would be notified through has a full queue of such messages:
// accepting it would only grow memory while the vendor is slower than the
// ingress (backpressure instead of a backlog without bound).
func (d *Dispatcher) admit(offline []store.Recipient) error {
	for _, r := range offline {
		for _, dev := range r.Devices {
			k := vendors.Kind(dev.Device.Vendor)
			if w, full := d.senders.Backlogged(k); full {
				return &BackloggedError{Vendor: k, Waiting: w}
			}
		}
	}
	return nil
}

// chunk is the commit of one planned slice of m's recipients.
func (d *Dispatcher) chunk(m *store.Message, offline []store.Recipient) store.Chunk {
	c := store.Chunk{MessageID: m.MessageID, SentAt: m.CreatedAt, Offline: offline, Inbox: true,
		Push: m.HasPush, InboxCap: d.cfg.InboxCap, Route: d.route}
	if m.HasPush {
		c.BadgeIncrement = m.BadgeIncrement
	}
	return c
}

func (d *Dispatcher) submitGroup(m store.Message) (Answer, error) {
	size, err := d.store.GroupSize(m.ToID)
	if err != nil {
		return Answer{}, err
	}
	member, err := d.store.IsGroupMember(m.ToID, m.From)
	if err != nil {
		return Answer{}, err
	}
	if member {
		size--
	}
	if size <= 0 {
		return Answer{}, ErrNoGroup
	}
	m.Recipients, m.Online, m.Offline = size, -1, -1
	job := store.Job{MessageID: m.MessageID, GroupID: m.ToID}
	if _, err := d.store.CommitChunk(store.Chunk{Message: &m, Job: &job, MessageID: m.MessageID}); err != nil {
		return Answer{}, err
	}
	d.run(job)
	return Answer{MessageID: m.MessageID, Recipients: size, Online: -1, Offline: -1}, nil
}

func (d *Dispatcher) dropped(n int64) {
	if n > 0 && d.cfg.OnInboxDropped != nil {
		d.cfg.OnInboxDropped(n)
	}
}

// run starts a job runner (at most MaxJobs run at once).
func (d *Dispatcher) run(job store.Job) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case d.sem <- struct{}{}:
		case <-d.ctx.Done():
			return
		}
		defer func() { <-d.sem }()
		wait := 100 * time.Millisecond
		for err := d.fanOut(job); err != nil && d.ctx.Err() == nil; {
			if errors.Is(err, errMessageGone) || errors.Is(err, store.ErrClosed) {
				d.log.Error("group fan-out stopped", "message_id", job.MessageID, "err", err)
				return
			}
			if errors.Is(err, store.ErrStorageLow) {
				d.log.Warn("group fan-out paused: the disk is nearly full; it resumes from its checkpoint once space is freed", "message_id", job.MessageID, "err", err, "retry_in", wait.String())
			} else {
				d.log.Warn("group fan-out interrupted; retrying from its checkpoint", "message_id", job.MessageID, "err", err, "in", wait.String())
			}
			if !d.sleep(wait) {
				return
			}
			wait = min(2*wait, 30*time.Second)
			// Continue from the last committed checkpoint, never from an
			// older one: planning members again would re-send to them (and
			// a sender that spilled the message reads its rows in key order).
			j, ok, gerr := d.store.GetJob(job.MessageID)
			switch {
			case gerr != nil:
				err = gerr // try reading the checkpoint again after the next wait
				continue
			case !ok:
				return // finished after all
			}
			job = j
			err = d.fanOut(job)
		}
	}()
}

// sleep waits d on the injected Clock; false if the dispatcher stopped first.
func (d *Dispatcher) sleep(wait time.Duration) bool {
	t := d.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-d.ctx.Done():
		return false
	}
}

// errMessageGone means a job's message record is missing: nothing to resume.
var errMessageGone = errors.New("actors: message of job is missing")

// planned is one chunk of members with their presence and devices.
type planned struct {
	members []string
	more    bool
	rs      []store.Recipient
	err     error
}

// planDepth is how many chunks a fan-out plans ahead of the one it
// commits: planning (store reads) and committing (batch building and
// applying) run at once, so neither waits for the other.
const planDepth = 4

// syncDepth is how many applied chunks may wait for their fsync at once.
// Pebble syncs every chunk waiting with one fsync, so a fan-out's commit
// rate does not depend on the disk's sync latency.
const syncDepth = 8

// planner reads the members after cursor chunk by chunk and plans up to
// planDepth chunks at once from the store. The chunks come out in member
// order, one future each; the channel closes after the last one, a failed
// one, or when ctx ends. wg counts the planner and its planning
// goroutines.
func (d *Dispatcher) planner(ctx context.Context, wg *sync.WaitGroup, job store.Job, from string) <-chan chan planned {
	out := make(chan chan planned, planDepth)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		after := job.Cursor
		for ctx.Err() == nil {
			fut := make(chan planned, 1)
			members, more, err := d.store.GroupMembers(job.GroupID, after, d.cfg.ChunkSize)
			if err != nil {
				fut <- planned{err: err}
			} else {
				ids := members[:0:0]
				for _, u := range members {
					if u != from {
						ids = append(ids, u)
					}
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					// The whole sorted chunk in one pass: the store's
					// iterators step from member to member instead of
					// seeking (see actors/doc.go on why planning skips
					// the shards).
					rs, err := d.store.Recipients(ids, d.clock.Now().UnixMilli())
					fut <- planned{members: members, more: more, rs: rs, err: err}
				}()
			}
			select {
			case out <- fut:
			case <-ctx.Done():
				return
			}
			if err != nil || !more {
				return
			}
			after = members[len(members)-1]
		}
	}()
	return out
}

// applied is a chunk whose batch is applied and waits for its fsync.
type applied struct {
	rows []store.Queued
	wait func() error
}

// syncer waits for applied chunks' fsyncs in order and hands each chunk's
// rows to the senders once it is durable. After a failed sync it still
// waits for the rest (each wait must run) but enqueues nothing more: the
// job retries from its last durable checkpoint. It reports the first
// error, or nil, on the returned channel when in closes.
func (d *Dispatcher) syncer(in <-chan applied) <-chan error {
	done := make(chan error, 1)
	go func() {
		var first error
		for a := range in {
			if err := a.wait(); err != nil && first == nil {
				first = err
			}
			if first == nil {
				d.senders.Enqueue(a.rows, Streaming)
			}
		}
		done <- first
	}()
	return done
}

// fanOut plans a group's members from the job's cursor to the end. Each
// chunk (outbox rows, inbox, badges, checkpoint) is one synced batch,
// applied in member order; planning runs ahead of committing, and a chunk
// is applied while the ones before it still sync. Its rows reach the
// senders once it is durable.
func (d *Dispatcher) fanOut(job store.Job) (err error) {
	m, ok, err := d.store.GetMessage(job.MessageID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %q", errMessageGone, job.MessageID)
	}
	ctx, cancel := context.WithCancel(d.ctx)
	var planning sync.WaitGroup
	chunks := d.planner(ctx, &planning, job, m.From)
	toSync := make(chan applied, syncDepth)
	synced := d.syncer(toSync)
	defer func() {
		// Stop planning first, wait for every applied chunk's sync, and
		// return only when no goroutine of this fan-out touches the store.
		cancel()
		close(toSync)
		if serr := <-synced; err == nil {
			err = serr
		}
		planning.Wait()
		if err == nil {
			d.log.Info("group fan-out planned", "message_id", job.MessageID, "group_id", job.GroupID,
				"online", job.Online, "offline", job.Offline)
		}
	}()
	for fut := range chunks {
		if d.ctx.Err() != nil {
			return d.ctx.Err()
		}
		p := <-fut
		began := time.Now() // wall clock: the chunk's own work, for pace
		if p.err != nil {
			return p.err
		}
		offline := p.rs[:0:0]
		for _, r := range p.rs {
			if !r.Online {
				offline = append(offline, r)
			}
		}
		job.Online += int64(len(p.rs) - len(offline))
		job.Offline += int64(len(offline))
		if len(p.members) > 0 {
			job.Cursor = p.members[len(p.members)-1]
		}
		c := d.chunk(&m, offline)
		if p.more {
			c.Job = &job
		} else {
			c.DeleteJob = true
			done := m
			done.Online, done.Offline = job.Online, job.Offline
			c.Message = &done
		}
		res, wait, err := d.store.ApplyChunk(c)
		if err != nil {
			return err
		}
		job.Targets += int64(len(res.Queued))
		d.dropped(res.InboxDropped)
		toSync <- applied{rows: res.Queued, wait: wait}
		if !p.more {
			return nil
		}
		if err := d.pace(time.Since(began)); err != nil {
			return err
		}
	}
	return d.ctx.Err()
}

// maxPace bounds the pause after one chunk, so a fan-out never stalls for
// long whatever the share.
const maxPace = 100 * time.Millisecond

// pace holds a fan-out to Yield's share of the CPU while chat traffic
// waits for it: after a chunk that took busy to apply, it waits busy ×
// (1/share − 1), at most maxPace, so the fan-out's own work is about share
// of its time. With the whole share it returns at once. Both busy and the
// wait are wall-clock time, not the injected Clock's: what pace gives
// back is CPU time to the Go scheduler, which runs on real time (on a
// manual clock that stands still the fan-out would never resume).
func (d *Dispatcher) pace(busy time.Duration) error {
	share := d.cfg.Yield.Share()
	if share >= 1 {
		return nil
	}
	t := time.NewTimer(min(time.Duration(float64(busy)*(1/share-1)), maxPace))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
}

// Resume re-queues the outbox rows a previous run left behind, then
// restarts its unfinished jobs. The order matters: rows a resumed job
// writes must not also be picked up by the scan and sent twice.
func (d *Dispatcher) Resume() error {
	jobs, err := d.store.Jobs()
	if err != nil {
		return err
	}
	total := 0
	for _, k := range d.senders.Kinds() {
		var batch []store.Queued
		err := d.store.Outbox(string(k), func(q store.Queued) error {
			batch = append(batch, q)
			if len(batch) == 1000 {
				d.senders.Enqueue(batch, Streaming)
				total += len(batch)
				batch = nil
			}
			return nil
		})
		if err != nil {
			return err
		}
		d.senders.Enqueue(batch, Streaming)
		total += len(batch)
	}
	for _, j := range jobs {
		d.run(j)
	}
	if len(jobs) > 0 || total > 0 {
		d.log.Info("resumed unfinished work", "jobs", len(jobs), "outbox_rows", total)
	}
	return nil
}

// Stop stops the job runners at their next chunk boundary; their jobs
// resume at the next start.
func (d *Dispatcher) Stop() {
	d.cancel()
	d.wg.Wait()
}
