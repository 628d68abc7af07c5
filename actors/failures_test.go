package actors

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

func row(id, token string) store.Queued {
	return store.Queued{Key: store.OutboxKey{Vendor: "vivo", RowID: store.RowID{ID: id}, UserID: "u1", DeviceID: "d1"},
		Entry: store.OutboxEntry{Token: token, Badge: -1}}
}

// A rejected row is dead-lettered with the send counted as an attempt,
// its code recorded and counted in Dead, Failed and FailedByCode; an
// invalid token counts in Invalid, Failed and FailedByCode; a transient
// failure at max_attempts is dead too. A refusal the client reached
// before sending (NotSent) counts no attempt.
func TestClassifyCountsEveryFinalFailure(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	d := &senderDeps{stats: &SenderStats{}, clock: clock}
	o := &outcome{}
	d.classify(SenderConfig{}, row("m1", "t1"), vendors.Result{Verdict: vendors.Rejected, Code: "10050", Reason: "too big"}, o)
	d.classify(SenderConfig{}, row("m2", "t2"), vendors.Result{Verdict: vendors.TokenInvalid, Code: "10302"}, o)
	d.classify(SenderConfig{MaxAttempts: 1}, row("m3", "t3"), vendors.Result{Verdict: vendors.Retry, Code: "503"}, o)
	if len(o.dead) != 2 || len(o.deadWhy) != 2 || len(o.unbind) != 1 {
		t.Fatalf("outcome: %d dead (%d verdicts), %d unbind", len(o.dead), len(o.deadWhy), len(o.unbind))
	}
	if e := o.dead[0].Entry; e.Attempts != 1 || e.LastCode != "10050" {
		t.Errorf("rejected row: attempts %d, code %q; want 1 and 10050", e.Attempts, e.LastCode)
	}
	if e := o.dead[1].Entry; e.Attempts != 1 || e.LastCode != "503" {
		t.Errorf("exhausted row: attempts %d, code %q; want 1 and 503", e.Attempts, e.LastCode)
	}
	st := d.stats.Snapshot()
	if st.Dead != 2 || st.Failed != 3 || st.Invalid != 1 {
		t.Errorf("dead %d failed %d invalid %d; want 2, 3, 1", st.Dead, st.Failed, st.Invalid)
	}
	if want := map[string]int64{"10050": 1, "10302": 1, "503": 1}; fmt.Sprint(st.FailedByCode) != fmt.Sprint(want) {
		t.Errorf("failed by code %v, want %v", st.FailedByCode, want)
	}

	// Refusals the client reached itself, before sending: no attempt.
	local := &outcome{}
	d.classify(SenderConfig{}, row("m4", "t4"), vendors.Result{Verdict: vendors.Rejected, Code: "MissingDeviceToken", NotSent: true}, local)
	d.classify(SenderConfig{}, row("m5", "t5"), vendors.Result{Verdict: vendors.TokenInvalid, Code: "BadDeviceToken", NotSent: true}, local)
	if len(local.dead) != 1 || len(local.done) != 1 {
		t.Fatalf("local refusals: %d dead, %d done", len(local.dead), len(local.done))
	}
	if e := local.dead[0].Entry; e.Attempts != 0 || e.LastCode != "MissingDeviceToken" {
		t.Errorf("row refused before sending: attempts %d, code %q; want 0 and MissingDeviceToken", e.Attempts, e.LastCode)
	}
	if dn := local.done[0]; dn.Attempts != 0 || dn.Code != "BadDeviceToken" {
		t.Errorf("token refused before sending: attempts %d, code %q; want 0", dn.Attempts, dn.Code)
	}
}

// Past 64 distinct codes, failures count under "other"; an empty code is
// "unknown".
func TestFailureCodesAreBounded(t *testing.T) {
	var f failureCodes
	for i := range maxFailureCodes + 10 {
		f.add(fmt.Sprint(i))
	}
	f.add("")
	got := f.snapshot()
	if len(got) != maxFailureCodes+1 || got["other"] != 11 || got["0"] != 1 {
		t.Fatalf("%d codes, other %d", len(got), got["other"])
	}
}

// The failure log writes at most failureLogBurst lines per window on the
// injected clock, never a token, and when the next window opens says how
// many it left out.
func TestFailureLogIsRateLimited(t *testing.T) {
	clock := testutil.NewClock(time.Unix(1_700_000_000, 0))
	var buf testutil.SyncBuffer
	l := newFailureLog(slog.New(slog.NewTextHandler(&buf, nil)), clock)
	for i := range failureLogBurst + 5 {
		l.dead(row(fmt.Sprint("m", i), "secret-token"), vendors.Result{Verdict: vendors.Rejected, Reason: "POST /3/device/secret-token: too big"})
	}
	lines := func() int { return strings.Count(buf.String(), "\n") }
	if got := lines(); got != failureLogBurst {
		t.Fatalf("%d lines in one window, want %d", got, failureLogBurst)
	}
	clock.Advance(failureLogWindow - time.Millisecond)
	l.unbound(row("m-late", "secret-token"), "10302")
	if got := lines(); got != failureLogBurst {
		t.Fatalf("a line past the burst before the window ended: %d lines", got)
	}
	clock.Advance(time.Millisecond)
	l.unbound(row("m-next", "secret-token"), "10302")
	out := buf.String()
	if got := lines(); got != failureLogBurst+2 || !strings.Contains(out, "left_out=6") || !strings.Contains(out, "message_id=m-next") {
		t.Fatalf("next window: %d lines\n%s", got, out)
	}
	if strings.Contains(out, "secret-token") {
		t.Fatal("a token reached the log")
	}
	if !strings.Contains(out, "dead letter") || !strings.Contains(out, "user_id=u1") || !strings.Contains(out, "attempts=0") {
		t.Fatalf("the dead-letter line lacks the row:\n%s", out)
	}
}
