package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrClosed is returned by every accessor after Close.
var ErrClosed = errors.New("store: closed")

// ErrLocked is Open's error when another process (or another Open in
// this one) has the data directory open.
var ErrLocked = errors.New("store: data directory locked")

// pidFile holds the pid of the process that has the data directory open.
const pidFile = "herald.pid"

// isLocked reports whether a Pebble open failed on its LOCK file: held by
// another process (flock's EAGAIN) or by this one.
func isLocked(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock held by current process")
}

// lockStripes is the number of lock stripes in each table. A group chunk
// locks the user stripes of its 1000 offline recipients while it builds and
// applies its batch: with 256 stripes that was nearly all of them, so every
// peer message waited behind every chunk; with 65536 a chunk holds about
// 1.5 % of them. The four tables take 2 MiB.
const lockStripes = 1 << 16

// Options configures Open.
type Options struct {
	// Logger receives Pebble's own log lines and the store's. Required.
	Logger *slog.Logger
	// ObserveWrite, when set, is called after every synced commit with the
	// operation name and how long the commit took (for metrics).
	ObserveWrite func(op string, d time.Duration)
	// FS replaces the file system (tests inject errors); nil means the OS.
	FS vfs.FS
	// CacheSize is Pebble's block cache in bytes, for blocks alone (the
	// memtables come on top); 0 = Pebble's default (8 MiB).
	CacheSize int64
	// MemTableSize is the size of one Pebble memtable in bytes; 0 =
	// Pebble's default (4 MiB).
	MemTableSize uint64
	// MinFree is the free space (bytes) the data directory keeps in
	// reserve: below it, writes that add data (messages, fan-out chunks,
	// registrations, new group members) fail with ErrStorageLow instead of
	// running the disk full, while deletes, verdicts and reads go on.
	// 0 = not watched.
	MinFree uint64
	// WALMinSyncInterval is the least time between two fsyncs of the WAL
	// (Pebble's WALMinSyncInterval): synced commits within it of the last
	// fsync wait for the next and share it. 0 = fsync as soon as asked.
	WALMinSyncInterval time.Duration
	// FreeSpace, when set, replaces the statfs of the data directory
	// (tests); Now replaces the wall clock that paces its measurements.
	FreeSpace func() (uint64, error)
	Now       func() time.Time
	// Receipts gives messages a receipt reference (ReceiptRef) and its
	// R/ entry, so the vendors' arrival receipts can be mapped back
	// (RecordArrivals); off, messages carry none and no entry is written.
	Receipts bool

	sharedMemtab bool // benchmarks: memtables reserved out of CacheSize (Pebble's default)
}

// Store is herald's Pebble database. It is safe for concurrent use.
type Store struct {
	db      *pebble.DB
	log     *slog.Logger
	observe func(op string, d time.Duration)

	// mu guards closed; every accessor holds it shared so Close waits for
	// in-flight operations instead of pulling Pebble from under them.
	mu     sync.RWMutex
	closed bool

	// Stripe locks, one table per kind of thing locked, so holding one
	// kind (a message id) while taking another (its recipients) can never
	// deadlock on a shared stripe. Within a table, lock orders are sorted.
	pushLocks, userLocks, groupLocks, msgLocks stripes
	replayMu                                   sync.Mutex // ReplayDead: one at a time
	// expiryMu: ExpireMessages holds it, OutboxDone shares it, so no
	// verdict is recorded for a message being deleted.
	expiryMu sync.RWMutex
	space    *spaceGuard

	// tallyEpoch and tallySeq make each OutboxDone's tally key unique:
	// the time the store opened and a count of tallies since.
	tallyEpoch int64
	tallySeq   atomic.Uint64

	// receipts is Options.Receipts; receiptKey keys the receipt
	// references (nil when receipts were never on here); arrivalMu makes
	// RecordArrivals' check-then-mark one step.
	receipts   bool
	receiptKey []byte
	arrivalMu  sync.Mutex

	// Webhook events (webhooks.go): which endpoints take which types,
	// the count that makes event keys unique, the deliverer's wake-up,
	// where SweepWatches goes on (under replayMu), and the clock events
	// are stamped with.
	hooks       atomic.Pointer[hookRoutes]
	hookSeq     atomic.Uint64
	hookKick    chan struct{}
	watchCursor map[string][]byte
	now         func() time.Time
}

// Open opens (creating if needed) the database in dir.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		return nil, errors.New("store: Options.Logger is required")
	}
	log := opts.Logger.With("component", "pebble")
	po := &pebble.Options{Logger: pebbleLogger{log: log}, CacheSize: opts.CacheSize, MemTableSize: opts.MemTableSize}
	if !opts.sharedMemtab {
		// Pebble reserves its memtables out of the block cache (up to
		// MemTableStopWritesThreshold of them). With herald's defaults (a
		// 64 MiB cache, 32 MiB memtables) that left no room for a single
		// block: every read went to the file with a pread, ten times the
		// cost of a cached one (BenchmarkGetMessageMissing). The cache is
		// sized so that CacheSize is what blocks get.
		const memtables = 2 // Pebble's default, set here so the sum below holds
		mt := opts.MemTableSize
		if mt == 0 {
			mt = 4 << 20 // Pebble's default
		}
		blocks := opts.CacheSize
		if blocks == 0 {
			blocks = 8 << 20 // Pebble's default
		}
		po.MemTableStopWritesThreshold = memtables
		po.CacheSize = blocks + memtables*int64(mt)
	}
	// Pebble reports write stalls (memtables or L0 full: every commit waits)
	// under its DB mutex, so begin and end never run at once.
	var stallStart time.Time
	po.EventListener = &pebble.EventListener{
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			stallStart = time.Now()
			log.Warn("write stall: commits wait for the disk", "reason", info.Reason)
		},
		WriteStallEnd: func() {
			log.Warn("write stall over", "lasted", time.Since(stallStart).String())
		},
	}
	if d := opts.WALMinSyncInterval; d > 0 {
		po.WALMinSyncInterval = func() time.Duration { return d }
	}
	if opts.FS != nil {
		po.FS = opts.FS
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		if isLocked(err) {
			who := "another process"
			if b, rerr := os.ReadFile(filepath.Join(dir, pidFile)); rerr == nil && opts.FS == nil {
				if pid := strings.TrimSpace(string(b)); pid != "" {
					who = "another herald (pid " + pid + ")"
				}
			}
			return nil, fmt.Errorf("%w: %s is in use by %s; stop it or use another data_dir", ErrLocked, dir, who)
		}
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	if opts.FS == nil {
		// Who holds the lock, for the message above (best effort).
		_ = os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o640)
	}
	key, err := loadReceiptKey(db, opts.Receipts)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Store{db: db, log: opts.Logger.With("component", "store"), observe: opts.ObserveWrite, tallyEpoch: time.Now().UnixNano(),
		receipts: opts.Receipts, receiptKey: key, hookKick: make(chan struct{}, 1), watchCursor: map[string][]byte{}, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.space = newSpaceGuard(dir, opts, s.log)
	if s.observe == nil {
		s.observe = func(string, time.Duration) {}
	}
	return s, nil
}

// Close flushes and closes the database. It waits for operations in flight.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// acquire marks an operation in flight; release with s.mu.RUnlock.
func (s *Store) acquire() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// commit writes b with fsync and records its latency under op.
func (s *Store) commit(op string, b *pebble.Batch) error {
	start := time.Now()
	err := b.Commit(pebble.Sync)
	s.observe(op, time.Since(start))
	if err != nil {
		return fmt.Errorf("store: commit %s: %w", op, err)
	}
	return nil
}

// Space reports the data directory's free space and whether writes that add
// data are refused (see Options.MinFree).
func (s *Store) Space() Space { return s.space.space() }

// PebbleStats is what the daemon's metrics read of Pebble, from one
// db.Metrics() call (it takes Pebble's mutex and sums every level).
// BlockCache and MemTables are Pebble's memory outside the Go heap,
// allocated with malloc, so part of the process's RSS and not of the Go
// runtime's: Options.CacheSize caps the first; the second is at most the
// memtables allowed (two of Options.MemTableSize) plus memtables still
// being flushed or read. WALFsync is Pebble's live histogram of WAL fsync
// latencies, in nanoseconds (nil before the first WAL exists).
type PebbleStats struct {
	BlockCache int64 // bytes of cached blocks
	MemTables  int64 // bytes allocated by memtables (zombies included)
	WALFsync   prometheus.Histogram
}

// PebbleStats reads Pebble's metrics once.
func (s *Store) PebbleStats() PebbleStats {
	m := s.db.Metrics()
	return PebbleStats{BlockCache: m.BlockCache.Size, MemTables: int64(m.MemTable.Size + m.MemTable.ZombieSize),
		WALFsync: m.LogWriter.FsyncLatency}
}

// get returns a copy of the value at key, or found=false.
func (s *Store) get(key []byte) (val []byte, found bool, err error) { return getFrom(s.db, key) }

// getFrom is get on r (the database or a snapshot of it).
func getFrom(r pebble.Reader, key []byte) (val []byte, found bool, err error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: get: %w", err)
	}
	val = slices.Clone(v)
	if err := closer.Close(); err != nil {
		return nil, false, fmt.Errorf("store: get: %w", err)
	}
	return val, true, nil
}

// stripe returns the lock stripe of a lock name.
func stripe(name string) int {
	h := uint32(2166136261) // FNV-1a, without hash.Hash's allocations
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return int(h % lockStripes)
}

// stripes is a table of lock stripes.
type stripes [lockStripes]sync.Mutex

// lock locks the stripes of names in a fixed order (so two callers can
// never deadlock) and returns the unlock function.
func (t *stripes) lock(names ...string) func() {
	idx := make([]int, 0, len(names))
	for _, n := range names {
		idx = append(idx, stripe(n))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		t[i].Lock()
	}
	return func() {
		for j := len(idx) - 1; j >= 0; j-- {
			t[idx[j]].Unlock()
		}
	}
}

// lockStripesOf locks the PushID stripes of the given devices.
func (s *Store) lockStripesOf(devs ...Device) func() {
	names := make([]string, 0, len(devs))
	for _, d := range devs {
		if d.Token != "" {
			names = append(names, d.Vendor+"\x00"+d.Token)
		}
	}
	return s.pushLocks.lock(names...)
}

// pebbleLogger routes Pebble's logger into slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelInfo) {
		l.log.Info(fmt.Sprintf(format, args...))
	}
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

// Fatalf is Pebble's report of an unrecoverable state (for example a
// corrupted on-disk structure). Continuing would risk acknowledging writes
// that are not durable, so the process exits after logging, as Pebble's own
// default logger does.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error("fatal: "+fmt.Sprintf(format, args...), "exit", 70)
	os.Exit(70)
}
