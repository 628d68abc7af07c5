package daemon

import (
	"time"

	"github.com/herald-push/herald/store"
)

// housekeepingEvery is how often old inbox entries and message records
// are dropped.
const housekeepingEvery = time.Minute

// trimEvery is how often the C allocator's free memory (Pebble's freed
// cache blocks and memtables) goes back to the OS: see store.TrimCHeap.
const trimEvery = 10 * time.Second

// startHousekeeping runs inbox retention and message-record expiry, and
// the C heap trim, in the background; the returned function stops it.
func (d *Daemon) startHousekeeping() func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(housekeepingEvery)
		defer t.Stop()
		trim := time.NewTicker(trimEvery)
		defer trim.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d.housekeep()
			case <-trim.C:
				start := time.Now()
				if store.TrimCHeap() {
					d.log.Debug("returned the C heap's free memory to the OS", "took", time.Since(start).String())
				}
			}
		}
	}()
	return func() { close(stop); <-done }
}

// housekeep drops inbox entries past inbox.retention and message records
// older than both the idempotency window and the inbox retention.
func (d *Daemon) housekeep() {
	now := d.clock.Now()
	cutoff := now.Add(-d.cfg.Inbox.Retention.Std()).UnixMilli()
	var dropped int64
	err := d.store.InboxUsers(func(u string) error {
		n, err := d.store.ExpireInbox(u, cutoff)
		dropped += n
		return err
	})
	if err != nil {
		d.log.Warn("inbox retention sweep failed", "err", err)
	}
	keep := max(d.cfg.Messages.IdempotencyWindow.Std(), d.cfg.Inbox.Retention.Std())
	n, err := d.store.ExpireMessages(now.Add(-keep).UnixMilli())
	if err != nil {
		d.log.Warn("message expiry sweep failed", "err", err)
	}
	d.m.inboxDropped.Add(float64(dropped))
	if dropped > 0 || n > 0 {
		d.log.Info("housekeeping", "inbox_entries_dropped", dropped, "messages_expired", n)
	}
}
