package daemon

import (
	"time"

	"github.com/herald-push/herald/internal/clock"
	"github.com/herald-push/herald/store"
)

// housekeepingEvery is how often old inbox entries and message records
// are dropped.
const housekeepingEvery = time.Minute

// trimEvery is how often the C allocator's free memory (Pebble's freed
// cache blocks and memtables) goes back to the OS: see store.TrimCHeap.
const trimEvery = 10 * time.Second

// startHousekeeping runs inbox retention and message-record expiry, and
// the C heap trim, in the background on the daemon's clock; the returned
// function stops both and waits for a run in progress.
func (d *Daemon) startHousekeeping() func() {
	stopHousekeep := clock.Every(d.clock, housekeepingEvery, d.housekeep)
	stopTrim := clock.Every(d.clock, trimEvery, func() {
		start := time.Now() // wall clock: how long the trim took, for the log
		if store.TrimCHeap() {
			d.log.Debug("returned the C heap's free memory to the OS", "took", time.Since(start).String())
		}
	})
	return func() { stopHousekeep(); stopTrim() }
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
