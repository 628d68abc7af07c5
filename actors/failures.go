package actors

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// maxFailureCodes bounds the distinct vendor codes a sender counts
// failures by (the metric's label values); further codes count as
// "other".
const maxFailureCodes = 64

// failureCodes counts final failures (dead letters and invalid tokens) by
// the vendor's code. Safe for concurrent use.
type failureCodes struct {
	mu sync.Mutex
	m  map[string]int64
}

func (f *failureCodes) add(code string) {
	if code == "" {
		code = "unknown"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]int64{}
	}
	if _, ok := f.m[code]; !ok && len(f.m) >= maxFailureCodes {
		code = "other"
	}
	f.m[code]++
}

func (f *failureCodes) snapshot() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.m))
	for k, v := range f.m {
		out[k] = v
	}
	return out
}

// Failure log lines per sender: at most failureLogBurst in each
// failureLogWindow, then one line saying how many were left out.
const (
	failureLogBurst  = 20
	failureLogWindow = 10 * time.Second
)

// failureLog writes a line per dead letter and per unbound token, at most
// failureLogBurst per failureLogWindow (on the injected clock); the lines
// left out are counted and reported when the next window opens. Tokens
// are never logged: the row's user, device and message name it. Safe for
// concurrent use.
type failureLog struct {
	log   *slog.Logger
	clock Clock

	mu      sync.Mutex
	start   time.Time // the current window's start
	written int       // lines written in it
	dropped int       // lines left out in it
}

func newFailureLog(log *slog.Logger, clock Clock) *failureLog {
	return &failureLog{log: log, clock: clock}
}

// allow reports whether a line may be written now, first reporting the
// lines left out in the window that just ended.
func (l *failureLog) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Read under the lock: a time read before it could be older than the
	// window another caller just started, and read as the clock stepping
	// back, which starts a window anew.
	now := l.clock.Now()
	if now.Sub(l.start) >= failureLogWindow || now.Before(l.start) {
		if l.dropped > 0 {
			l.log.Warn("failure lines left out (rate-limited); the dead-letter listing and metrics have every one",
				"left_out", l.dropped, "window", failureLogWindow.String())
		}
		l.start, l.written, l.dropped = now, 0, 0
	}
	if l.written >= failureLogBurst {
		l.dropped++
		return false
	}
	l.written++
	return true
}

// dead logs a row dead-lettered after r's verdict.
func (l *failureLog) dead(q store.Queued, r vendors.Result) {
	if !l.allow() {
		return
	}
	// A vendor's reason may quote the token (a request URL, a list of
	// refused tokens): it never reaches the log.
	reason := r.Reason
	if q.Entry.Token != "" {
		reason = strings.ReplaceAll(reason, q.Entry.Token, "[token]")
	}
	l.log.Warn("dead letter: the vendor will not take this push", rowAttrs(q,
		"code", q.Entry.LastCode, "reason", reason, "attempts", q.Entry.Attempts, "verdict", r.Verdict.String())...)
}

// unbound logs a device unbound because the vendor declared its token
// invalid.
func (l *failureLog) unbound(q store.Queued, code string) {
	if !l.allow() {
		return
	}
	l.log.Info("unbound a device: the vendor declared its token invalid", rowAttrs(q, "code", code)...)
}

func rowAttrs(q store.Queued, more ...any) []any {
	return append([]any{"kind", q.Key.Kind.String(), "message_id", q.Key.ID, "user_id", q.Key.UserID, "device_id", q.Key.DeviceID}, more...)
}
