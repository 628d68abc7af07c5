package actors

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}

// errors are the ERROR records so far.
func (l *logRecorder) errors() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if r.Level >= slog.LevelError {
			out = append(out, r)
		}
	}
	return out
}

// attrs are r's attributes as strings.
func attrs(r slog.Record) map[string]string {
	out := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		out[a.Key] = a.Value.String()
		return true
	})
	return out
}

// An answer that says our side is wrong (a redirect: Misconfigured; or
// refused credentials) pauses the sender and holds its rows without
// counting an attempt, even at max_attempts 1, logs one ERROR naming the
// answer's code and reason however many batches report it, and the rows
// are sent again once the pause is over.
func TestSenderPausesOnMisconfiguredAndCredentialsBrokenWithoutSpendingAttempts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer vendors.Result
		msg    string // the ERROR line says
	}{
		{"misconfigured", vendors.RedirectResult("huawei: push API", 307, "https://user:pw@elsewhere.example/v1/x?k=v"),
			"vendor refused our setup"},
		{"credentials_broken", vendors.Result{Verdict: vendors.CredentialsBroken, Code: "80600003", Reason: "Request OAuth service failed"},
			"vendor refused our credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refusing atomic.Bool
			refusing.Store(true)
			client := &fakeClient{kind: vendors.Huawei, maxBatch: 1000, result: func(vendors.Target) vendors.Result {
				if refusing.Load() {
					return tc.answer
				}
				return vendors.Result{}
			}}
			cfg := baseSenderConfig()
			cfg.MaxAttempts = 1 // one counted attempt would dead-letter the row
			cfg.InitialBackoff = time.Second
			cfg.BatchWait = 10 * time.Millisecond // held rows come back as a forming batch
			h := newHarness(t, t.TempDir(), 4)
			logs := &logRecorder{}
			snd, err := NewSenders(h.users.system, SenderDeps{Store: h.store, Users: h.users, Composer: &countingComposer{},
				Clock: h.clock, Logger: slog.New(logs)},
				map[vendors.Kind]vendors.Sender{vendors.Huawei: client}, map[vendors.Kind]SenderConfig{vendors.Huawei: cfg})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(snd.Stop)
			sh := &senderHarness{harness: h, senders: snd, client: client}

			// Three messages of one row each: three batches in flight at
			// once, each answered with the pausing verdict.
			var queued []store.Queued
			for i := range 3 {
				queued = append(queued, rows(vendors.Huawei, fmt.Sprint("m", i), 1)...)
			}
			if err := h.store.OutboxRetry(queued); err != nil {
				t.Fatal(err)
			}
			snd.Enqueue(queued, Complete)
			stats := func() SenderSnapshot { return snd.Stats()[vendors.Huawei] }
			waitFor(t, "the sender paused with the 3 rows held", func() bool {
				st := stats()
				return st.Paused == 1 && st.Queued == 3 && st.InFlight == 0
			})
			if st := stats(); st.Sent != 0 || st.Dead != 0 || st.Failed != 0 || st.Retried != 0 {
				t.Fatalf("stats %+v: want nothing sent, retried, failed or dead-lettered", st)
			}
			checkOutbox := func(want int) {
				t.Helper()
				n := 0
				if err := h.store.Outbox(string(vendors.Huawei), func(q store.Queued) error {
					n++
					if q.Entry.Attempts != 0 || q.Entry.LastCode != "" {
						t.Errorf("row %v: attempts %d, last code %q; a pause must not count an attempt", q.Key, q.Entry.Attempts, q.Entry.LastCode)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Fatalf("%d rows in the outbox, want %d", n, want)
				}
				dead, err := h.store.DeadLetters(string(vendors.Huawei), nil, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(dead) != 0 {
					t.Fatalf("%d dead letters, want none", len(dead))
				}
			}
			checkOutbox(3)

			errs := logs.errors()
			if len(errs) != 1 {
				t.Fatalf("%d ERROR lines, want one for the pause (three batches reported it)", len(errs))
			}
			a := attrs(errs[0])
			if !strings.Contains(errs[0].Message, tc.msg) || a["code"] != tc.answer.Code || a["reason"] != tc.answer.Reason ||
				a["verdict"] != tc.answer.Verdict.String() || a["paused_for"] != "1s" {
				t.Errorf("ERROR %q %v: want %q with code %q, reason %q, verdict %s, paused_for 1s",
					errs[0].Message, a, tc.msg, tc.answer.Code, tc.answer.Reason, tc.answer.Verdict)
			}
			for _, secret := range []string{"pw", "k=v"} {
				if strings.Contains(a["reason"], secret) {
					t.Errorf("ERROR reason %q holds %q", a["reason"], secret)
				}
			}

			// Held for the whole pause: nothing starts a moment before its end.
			held := func(when string) {
				t.Helper()
				sh.step(t, vendors.Huawei)
				if st := stats(); st.Queued != 3 || st.InFlight != 0 || st.Paused != 1 {
					t.Fatalf("%s: stats %+v, want the 3 rows held while paused", when, st)
				}
				if sends, _, _, _ := client.snapshot(); len(sends) != 3 {
					t.Fatalf("%s: %d sends, want only the 3 that paused", when, len(sends))
				}
			}
			held("at once")
			h.clock.Advance(999 * time.Millisecond)
			held("1ms before the pause ends")

			refusing.Store(false)
			h.clock.Advance(time.Millisecond)
			sh.step(t, vendors.Huawei)
			waitFor(t, "the 3 rows sent after the pause", func() bool { return stats().Sent == 3 })
			waitFor(t, "the sender idle", func() bool { st := stats(); return st.Queued == 0 && st.InFlight == 0 })
			if st := stats(); st.Paused != 0 || st.Dead != 0 || st.Failed != 0 {
				t.Fatalf("stats %+v after the pause: want unpaused, nothing failed", st)
			}
			if sends, _, _, _ := client.snapshot(); len(sends) != 6 {
				t.Fatalf("%d sends, want 3 paused + 3 after the pause", len(sends))
			}
			checkOutbox(0)
			if n := len(logs.errors()); n != 1 {
				t.Fatalf("%d ERROR lines, want still the one", n)
			}
		})
	}
}
