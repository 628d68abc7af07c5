package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrStorageLow is what a write that would grow the database returns while
// the data directory's free space is below Options.MinFree. Nothing of the
// write was applied; it may be retried once space is freed.
var ErrStorageLow = errors.New("store: free disk space is below the watermark")

// StorageLowError carries the numbers behind ErrStorageLow.
type StorageLowError struct {
	Free, MinFree uint64 // bytes available to the daemon, and the watermark
}

func (e *StorageLowError) Error() string {
	return fmt.Sprintf("store: %s free in the data directory, below the %s it keeps in reserve", BytesText(e.Free), BytesText(e.MinFree))
}

// Is makes errors.Is(err, ErrStorageLow) hold.
func (e *StorageLowError) Is(target error) bool { return target == ErrStorageLow }

// Space is the data directory's free space as the store last measured it.
type Space struct {
	Free    uint64 // bytes available to an unprivileged writer
	MinFree uint64 // the watermark; 0 = not watched
	Low     bool   // Free < MinFree: growing writes are refused
}

// spaceCheckEvery is how often the free space is measured at most: one
// statfs per interval, on the first growing write (or Space call) after it.
const spaceCheckEvery = 250 * time.Millisecond

// spaceGuard refuses writes that grow the database while the disk is
// nearly full, before Pebble meets ENOSPC (a failed WAL write is fatal to
// Pebble: the process would exit without answering). Writes that shrink or
// keep the database's size — verdicts removing outbox rows, dead letters,
// deletes, small state updates — go on, so deliveries drain the outbox and
// reads keep working.
type spaceGuard struct {
	minFree uint64
	free    func() (uint64, error)
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex   // one measurement at a time
	due     atomic.Int64 // unix nanoseconds of the next measurement
	low     atomic.Bool
	last    atomic.Uint64 // free bytes at the last measurement
	failing bool          // the last measurement failed (logged once); under mu
}

func newSpaceGuard(dir string, opts Options, log *slog.Logger) *spaceGuard {
	g := &spaceGuard{minFree: opts.MinFree, free: opts.FreeSpace, now: opts.Now, log: log}
	if g.free == nil {
		g.free = func() (uint64, error) { return statfsFree(dir) }
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// check measures if a measurement is due and returns a *StorageLowError
// while free space is below the watermark.
func (g *spaceGuard) check() error {
	if g.minFree == 0 {
		return nil
	}
	g.refresh(false)
	if g.low.Load() {
		return &StorageLowError{Free: g.last.Load(), MinFree: g.minFree}
	}
	return nil
}

// refresh measures the free space when a measurement is due (or always,
// with force) and logs the transitions. A caller that finds another one
// measuring uses the state as it is.
func (g *spaceGuard) refresh(force bool) {
	now := g.now()
	if !force && now.UnixNano() < g.due.Load() {
		return
	}
	if !g.mu.TryLock() {
		return
	}
	defer g.mu.Unlock()
	if !force && now.UnixNano() < g.due.Load() {
		return
	}
	g.due.Store(now.Add(spaceCheckEvery).UnixNano())
	free, err := g.free()
	if err != nil {
		// Without a measurement the store cannot tell; it keeps writing
		// (refusing every write on a statfs error would be an outage of
		// its own) and says so once.
		if !g.failing {
			g.log.Error("cannot measure the data directory's free space; the free-space watermark is not enforced until it can", "err", err)
		}
		g.failing = true
		g.low.Store(false)
		return
	}
	g.failing = false
	g.last.Store(free)
	low := free < g.minFree
	switch was := g.low.Swap(low); {
	case low && !was:
		g.log.Warn("free disk space below the watermark: refusing writes that add data (507 storage_full) until space is freed",
			"free_bytes", free, "min_free_bytes", g.minFree)
	case !low && was:
		g.log.Info("free disk space back above the watermark: accepting writes again", "free_bytes", free, "min_free_bytes", g.minFree)
	}
}

// space returns the guard's state, measuring first if a measurement is due.
func (g *spaceGuard) space() Space {
	if g.minFree == 0 {
		free, _ := g.free()
		return Space{Free: free}
	}
	g.refresh(false)
	return Space{Free: g.last.Load(), MinFree: g.minFree, Low: g.low.Load()}
}

// statfsFree is the space available to an unprivileged writer in dir's
// file system.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// bytesText writes n in the largest binary unit that keeps one decimal.
func BytesText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 4 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGT"[u-1])
}
