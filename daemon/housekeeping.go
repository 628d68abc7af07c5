package daemon

import (
	"time"
)

// housekeepingEvery is how often old inbox entries and message records
// are dropped.
const housekeepingEvery = time.Minute

// startHousekeeping runs inbox retention and message-record expiry in the
// background; the returned function stops it.
func (d *Daemon) startHousekeeping() func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(housekeepingEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d.housekeep()
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
