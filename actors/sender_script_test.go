package actors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// TestSenderScripts drives one sender through the scripts in
// testdata/sender (script_test.go has the file format) on a manual clock,
// with a real store and a vendor whose answers the script sets.
//
// Commands:
//
//	start vendor=huawei|fcm [at=HH:MM:SS] [qps= burst= max_in_flight= batch_size= batch_wait=
//	      daily_quota= max_attempts= initial_backoff= max_backoff=]
//	    starts the sender (huawei: a batch vendor; fcm: a request per
//	    target) with the clock at 2026-01-01 at (UTC, default 00:00:00).
//	    Unset limits are far above the traffic: qps and burst 1e6,
//	    max_in_flight 100, batch_size 100, batch_wait 0; retries back off
//	    from 1s to 1m without jitter, 3 attempts.
//	vendor [answer=ok|retry|throttled|credentials|misconfigured|invalid|rejected]
//	       [retry_after=DUR] [hold=true|false]
//	    sets how the vendor answers from now on (prints nothing): every
//	    target of a request alike; with hold=true requests wait at the
//	    vendor until release.
//	enqueue id=ID rows=N [from=I] [mode=streaming|complete|backfill] [priority]
//	    commits N outbox rows of message ID (users u<I>… with tokens
//	    tok-<I>…; default mode complete) and hands them to the sender.
//	advance DUR
//	    moves the clock. Requests the sender starts meanwhile wait, and
//	    are answered once it has stopped, at its new time.
//	release
//	    answers the requests waiting at the vendor now (while it holds,
//	    not those the answers make the sender start).
//
// The vendor answers requests one at a time, by message and first token,
// each once the sender has taken the previous answer in (settle), so the
// order answers arrive in is the script's. After each command but vendor
// the step prints the state once the sender is quiet: the clock since
// start, the vendor's new requests (message:targets, by message and first
// token), how many targets it holds, the rows in the outbox and the dead
// letters, and the sender's counters (all but rate_limited, which counts
// pumps).
func TestSenderScripts(t *testing.T) {
	runScripts(t, "testdata/sender/*.txt", func(t *testing.T) func(*scriptStep) string {
		h := &senderScript{}
		return func(st *scriptStep) string { return h.do(t, st) }
	})
}

// senderScript is one script's sender, store, clock and vendor.
type senderScript struct {
	*senderHarness
	vendor *scriptVendor
	kind   vendors.Kind
	start  time.Time
}

func (h *senderScript) do(t *testing.T, st *scriptStep) string {
	t.Helper()
	if st.name != "start" && h.senderHarness == nil {
		st.fatalf(t, "start first")
	}
	switch st.name {
	case "start":
		h.startSender(t, st)
	case "vendor":
		h.vendor.set(t, st)
		return ""
	case "enqueue":
		n, err := strconv.Atoi(st.arg("rows", ""))
		if err != nil {
			st.fatalf(t, "rows: %v", err)
		}
		from, _ := strconv.Atoi(st.arg("from", "0"))
		qs := make([]store.Queued, n)
		for i := range qs {
			u := from + i
			qs[i] = store.Queued{
				Key:   store.OutboxKey{Vendor: string(h.kind), RowID: store.RowID{ID: st.arg("id", "m")}, UserID: fmt.Sprintf("u%03d", u), DeviceID: "d"},
				Entry: store.OutboxEntry{Token: fmt.Sprintf("tok-%03d", u), Badge: -1, Priority: st.has("priority")},
			}
		}
		if err := h.store.OutboxRetry(qs); err != nil {
			t.Fatal(err)
		}
		mode := map[string]EnqueueMode{"streaming": Streaming, "complete": Complete, "backfill": Backfill}
		m, ok := mode[st.arg("mode", "complete")]
		if !ok {
			st.fatalf(t, "mode %q", st.arg("mode", ""))
		}
		h.senders.Enqueue(qs, m)
	case "advance":
		var d time.Duration
		for k := range st.args {
			var err error
			if d, err = time.ParseDuration(k); err != nil {
				st.fatalf(t, "%v", err)
			}
		}
		h.clock.Advance(d)
	case "release":
		h.settle(t, h.vendor.waitingNow())
		return h.state(t)
	default:
		st.fatalf(t, "unknown command %q", st.name)
	}
	h.settle(t, nil)
	return h.state(t)
}

func (h *senderScript) startSender(t *testing.T, st *scriptStep) {
	t.Helper()
	if h.senderHarness != nil {
		st.fatalf(t, "started twice")
	}
	cfg := SenderConfig{QPS: 1e6, Burst: 1e6, MaxInFlight: 100, BatchSize: 100,
		MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute}
	for k, v := range st.args {
		var err error
		dur := func(p *time.Duration) { *p, err = time.ParseDuration(v) }
		num := func(p *int) { *p, err = strconv.Atoi(v) }
		switch k {
		case "vendor", "at":
		case "qps":
			cfg.QPS, err = strconv.ParseFloat(v, 64)
		case "burst":
			num(&cfg.Burst)
		case "max_in_flight":
			num(&cfg.MaxInFlight)
		case "batch_size":
			num(&cfg.BatchSize)
		case "batch_wait":
			dur(&cfg.BatchWait)
		case "daily_quota":
			cfg.DailyQuota, err = strconv.ParseInt(v, 10, 64)
		case "max_attempts":
			num(&cfg.MaxAttempts)
		case "initial_backoff":
			dur(&cfg.InitialBackoff)
		case "max_backoff":
			dur(&cfg.MaxBackoff)
		default:
			st.fatalf(t, "unknown setting %q", k)
		}
		if err != nil {
			st.fatalf(t, "%s: %v", k, err)
		}
	}
	switch st.arg("vendor", "huawei") {
	case "huawei":
		h.kind, h.vendor = vendors.Huawei, newScriptVendor(vendors.Huawei, false)
	case "fcm":
		h.kind, h.vendor = vendors.FCM, newScriptVendor(vendors.FCM, true)
	default:
		st.fatalf(t, "vendor %q", st.arg("vendor", ""))
	}
	hr := newHarness(t, t.TempDir(), 1)
	at, err := time.Parse(time.TimeOnly, st.arg("at", "00:00:00"))
	if err != nil {
		st.fatalf(t, "at: %v", err)
	}
	h.start = time.Date(2026, 1, 1, at.Hour(), at.Minute(), at.Second(), 0, time.UTC)
	hr.clock.Set(h.start)
	snd, err := NewSenders(hr.users.system, SenderDeps{Store: hr.store, Users: hr.users, Composer: &countingComposer{},
		Clock: hr.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		jitter: func(d time.Duration) time.Duration { return d }}, // no jitter: backoffs are exact
		map[vendors.Kind]vendors.Sender{h.kind: h.vendor}, map[vendors.Kind]SenderConfig{h.kind: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snd.Stop)
	t.Cleanup(h.vendor.open) // runs before Stop (cleanups run last first): nothing left waiting
	h.senderHarness = &senderHarness{harness: hr, senders: snd}
}

// settle answers the vendor's waiting requests one at a time, in the
// order of their message and first token, each once the sender has taken
// the previous answer in: all of them, or while the vendor holds
// (hold=true) only those in release (the requests waiting when release
// was given). It returns when the sender is quiet: every row it holds in
// flight is in a request the vendor holds, every answer given has been
// taken in, and a step of the sender (senderSync) changed nothing. So each
// step's state is a function of the script: nothing is on its way to the
// sender, and answers reach it in one order.
//
// Quiet is read from counts: the sender's rows in flight are the rows it
// started less those whose answer it took in; the vendor knows the rows
// it got and the rows it answered. Equal differences mean started = got
// and taken in = answered, since neither can run ahead.
func (h *senderScript) settle(t *testing.T, release map[*vendorWait]bool) {
	t.Helper()
	type counts struct {
		inFlight     int64
		got, replied int
	}
	read := func() counts {
		got, replied := h.vendor.counts()
		return counts{h.senders.Stats()[h.kind].InFlight, got, replied}
	}
	quiet := func(c counts) bool { return c.inFlight == int64(c.got-c.replied) }
	for {
		before := read()
		if !quiet(before) {
			waitFor(t, "the sender's requests to reach the vendor and its answers the sender", func() bool { return quiet(read()) })
			continue
		}
		h.step(t, h.kind) // what was in its mailbox (an answer, new starts) is done
		if read() != before {
			continue
		}
		w := h.vendor.next(release)
		if w == nil {
			return
		}
		h.vendor.answer(w)
	}
}

// state is what a step prints.
func (h *senderScript) state(t *testing.T) string {
	t.Helper()
	sizes, total, held := h.vendor.news()
	outbox := 0
	if err := h.store.Outbox(string(h.kind), func(store.Queued) error { outbox++; return nil }); err != nil {
		t.Fatal(err)
	}
	dead, err := h.store.DeadLetters(string(h.kind), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	s := h.senders.Stats()[h.kind]
	return fmt.Sprintf("+%v sends +%v total %d, held %d\noutbox %d, dead letters %d\n"+
		"sent=%d failed=%d invalid=%d retried=%d dead=%d queued=%d in_flight=%d quota_left=%d paused=%d breaker=%s opened=%d\n",
		h.clock.Now().Sub(h.start), sizes, total, held, outbox, len(dead),
		s.Sent, s.Failed, s.Invalid, s.Retried, s.Dead, s.Queued, s.InFlight, s.QuotaLeft, s.Paused, s.Breaker, s.BreakerOpened)
}

// scriptVendor is the scripts' vendors.Sender. Every request waits in
// Send until settle answers it; it answers every target of a request
// alike, as the script last said (set).
type scriptVendor struct {
	kind      vendors.Kind
	perTarget bool

	mu      sync.Mutex
	cond    *sync.Cond
	result  vendors.Result // the answer to give
	hold    bool           // answer only what release names
	closed  bool           // the test is over: nothing waits
	pending map[*vendorWait]bool
	sends   []*vendorWait // every request so far
	printed int           // sends already printed
	got     int           // targets of every request so far
	replied int           // targets of the requests let go
}

// vendorWait is one request: its message and first target's token (the
// order settle answers requests in), how many targets it carries; go_ is
// set when it may be answered.
type vendorWait struct {
	msg, first string
	targets    int
	go_        bool
}

func newScriptVendor(kind vendors.Kind, perTarget bool) *scriptVendor {
	v := &scriptVendor{kind: kind, perTarget: perTarget, pending: map[*vendorWait]bool{}}
	v.cond = sync.NewCond(&v.mu)
	return v
}

func (v *scriptVendor) Kind() vendors.Kind     { return v.kind }
func (v *scriptVendor) MaxBatch() int          { return 1000 }
func (v *scriptVendor) RequestPerTarget() bool { return v.perTarget }

func (v *scriptVendor) Send(_ context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := &vendorWait{msg: n.MessageID, first: n.MessageID + " " + targets[0].Token, targets: len(targets)}
	v.sends = append(v.sends, w)
	v.got += w.targets
	v.pending[w] = true
	for !v.closed && !w.go_ {
		v.cond.Wait()
	}
	delete(v.pending, w)
	out := make([]vendors.Result, len(targets))
	for i := range out {
		out[i] = v.result
	}
	return out, nil
}

func (v *scriptVendor) set(t *testing.T, st *scriptStep) {
	t.Helper()
	answers := map[string]vendors.Result{
		"ok":            {},
		"retry":         {Verdict: vendors.Retry, Code: "503", Reason: "unavailable"},
		"throttled":     {Verdict: vendors.Retry, Code: "429", Reason: "too many requests", Throttled: true},
		"credentials":   {Verdict: vendors.CredentialsBroken, Code: "401", Reason: "bad credentials"},
		"misconfigured": {Verdict: vendors.Misconfigured, Code: "307", Reason: "redirect"},
		"invalid":       {Verdict: vendors.TokenInvalid, Code: "410", Reason: "unregistered"},
		"rejected":      {Verdict: vendors.Rejected, Code: "400", Reason: "bad request"},
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, val := range st.args {
		switch k {
		case "answer":
			a, ok := answers[val]
			if !ok {
				st.fatalf(t, "answer %q", val)
			}
			ra := v.result.RetryAfter
			v.result, v.result.RetryAfter = a, ra
		case "retry_after":
			d, err := time.ParseDuration(val)
			if err != nil {
				st.fatalf(t, "retry_after: %v", err)
			}
			v.result.RetryAfter = d
		case "hold":
			v.hold = val == "true"
		default:
			st.fatalf(t, "unknown vendor setting %q", k)
		}
	}
}

// waitingNow is the set of requests waiting to be answered.
func (v *scriptVendor) waitingNow() map[*vendorWait]bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := map[*vendorWait]bool{}
	for w := range v.pending {
		if !w.go_ {
			out[w] = true
		}
	}
	return out
}

// next is the waiting request to answer next: the first by message and
// first token, among those in release while the vendor holds; nil = none.
func (v *scriptVendor) next(release map[*vendorWait]bool) *vendorWait {
	v.mu.Lock()
	defer v.mu.Unlock()
	var best *vendorWait
	for w := range v.pending {
		if w.go_ || (v.hold && !release[w]) {
			continue
		}
		if best == nil || w.first < best.first {
			best = w
		}
	}
	return best
}

// answer lets w be answered.
func (v *scriptVendor) answer(w *vendorWait) {
	v.mu.Lock()
	w.go_ = true
	v.replied += w.targets
	v.cond.Broadcast()
	v.mu.Unlock()
}

// open lets every request through for good (the test ends).
func (v *scriptVendor) open() {
	v.mu.Lock()
	v.closed = true
	v.cond.Broadcast()
	v.mu.Unlock()
}

// counts returns the targets of every request so far, and of those let
// go.
func (v *scriptVendor) counts() (got, replied int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.got, v.replied
}

// news returns the requests since the last call as message:targets (by message
// and first token: requests started together reach the vendor in any
// order), how many there have been in all, and how many targets wait.
func (v *scriptVendor) news() (sizes string, total, held int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	news := slices.Clone(v.sends[v.printed:])
	slices.SortStableFunc(news, func(a, b *vendorWait) int { return strings.Compare(a.first, b.first) })
	n := make([]string, len(news))
	for i, r := range news {
		n[i] = fmt.Sprintf("%s:%d", r.msg, r.targets)
	}
	v.printed = len(v.sends)
	for w := range v.pending {
		held += w.targets
	}
	return fmt.Sprint(n), len(v.sends), held
}
