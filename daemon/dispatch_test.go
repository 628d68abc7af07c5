package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/daemon/simhost"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

func (s *testServer) doer(t *testing.T) func(method, path, body string) resp {
	return func(method, path, body string) resp { return s.do(t, method, path, body) }
}

// TestGroupFanOutExactlyOnce: a 20 000-member group, half online, devices
// over all seven vendor kinds: the simulators see each offline device once.
func TestGroupFanOutExactlyOnce(t *testing.T) { groupFanOutExactlyOnce(t, nil) }

// TestGroupFanOutSpilledExactlyOnce: the same with every sender holding
// at most 100-200 notifications in memory, so nearly all of each vendor's
// rows wait in the outbox and are read back: still each offline device
// once, and nothing left spilled.
func TestGroupFanOutSpilledExactlyOnce(t *testing.T) {
	groupFanOutExactlyOnce(t, func(c *configs.Config) {
		for _, v := range c.Vendors.ByName() {
			v.Limits.MaxQueued, v.Limits.MaxInFlight, v.Limits.BatchSize = 100, 2, 50
		}
	})
}

func groupFanOutExactlyOnce(t *testing.T, mod func(*configs.Config)) {
	testutil.SkipShort(t, t.Name()+" fans out to 20 000 members")
	const n = 20000
	s := startDaemon(t, mod, Env{})
	do := s.doer(t)
	start := time.Now()
	registerUsers(t, do, 0, n, func(i int) string { return fmt.Sprint("tok-", i) })
	var online []int
	for i := 0; i < n; i += 2 {
		online = append(online, i)
	}
	setOnline(t, do, online)
	addMembers(t, do, "big", 0, n)
	t.Logf("setup of %d users took %v", n, time.Since(start))

	// u0 (online) sends: the other 9 999 online members get nothing,
	// the 10 000 offline ones one push each.
	msg := `{"message_id":"m-big","from":"u0","to":{"type":"group","id":"big"},"body":{"text":"hello"},
		"push":{"title":"t","content":"c","badge_increment":1}}`
	sent := time.Now()
	r := s.do(t, "POST", "/v1/messages", msg)
	wantStatus(t, r, 202)
	if !strings.Contains(string(r.body), `"recipients":19999`) {
		t.Fatalf("answer: %s", r.body)
	}
	const want = n / 2
	get := s.d.push.sims.Recorder.Snapshot
	waitStats(t, "every offline device", 90*time.Second, get, func(st map[string]simkit.Stats) bool {
		u, _ := totalUnique(st)
		return u >= want
	})
	t.Logf("fan-out of %d notifications reached the simulators in %v", want, time.Since(sent))
	// Once the job is finished and every sender idle, nothing more can
	// arrive: the counts are final.
	s.waitIdle(t, 30*time.Second)
	st := get()
	u, dups := totalUnique(st)
	if u != want || dups != 0 || s.totalSent() != want {
		t.Fatalf("unique %d (want %d), duplicates %d, rows sent %d: %+v", u, want, dups, s.totalSent(), st)
	}
	for _, k := range vendors.Kinds() {
		if st[string(k)].Unique == 0 {
			t.Errorf("vendor %s got nothing", k)
		}
	}
	// The answer now has the final counts, and a repeat sends nothing:
	// whatever it had started (a job, queued rows) waitIdle would wait
	// out, and the counts would show it.
	r = s.do(t, "POST", "/v1/messages", msg)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"duplicate":true`) || !strings.Contains(string(r.body), `"offline":10000`) {
		t.Fatalf("repeat: %s", r.body)
	}
	s.waitIdle(t, 30*time.Second)
	if u2, d2 := totalUnique(get()); u2 != want || d2 != 0 || s.totalSent() != want {
		t.Fatalf("after repeat: unique %d duplicates %d, rows sent %d", u2, d2, s.totalSent())
	}
	if u := s.user(t, "u1"); u.Badge != 1 || u.InboxPending != 1 {
		t.Fatalf("offline member: %+v", u)
	}
}

func (s *testServer) user(t *testing.T, id string) api.UserResponse {
	t.Helper()
	r := s.do(t, "GET", "/v1/users/"+id, "")
	wantStatus(t, r, 200)
	var u api.UserResponse
	r.json(t, &u)
	return u
}

// TestRateLimitAndReload: APNs limited to 200 requests/s with a burst
// of 20 sends the burst, then exactly 2 notifications per 10 ms of the
// daemon's clock (its token bucket reads the injected clock, which moves
// only when the test moves it; 10 ms is one start's worth of tokens for a
// per-target sender at 200/s, and below the burst, so neither the start
// quantum nor the bucket's cap blurs the count); a reload to 1000/s makes
// that 10 per 10 ms without a restart. Counts at each step, no wall-clock
// rates.
func TestRateLimitAndReload(t *testing.T) {
	const (
		burst = 20
		users = 40 // APNs users, each sent two messages
	)
	var mu sync.Mutex
	cfg := configs.Default()
	apply := func(qps float64) {
		mu.Lock()
		defer mu.Unlock()
		cfg.Vendors.APNs.Limits.QPS = qps
		cfg.Vendors.APNs.Limits.Burst = burst
	}
	apply(200)
	clock := testutil.NewClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	var s *testServer
	s = startDaemon(t, func(c *configs.Config) {
		c.Vendors.APNs.Limits = cfg.Vendors.APNs.Limits
	}, Env{Clock: clock, LoadConfig: func() (configs.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		c := cfg
		c.Listen, c.SimListen, c.DataDir = s.d.cfg.Listen, s.d.cfg.SimListen, s.d.cfg.DataDir
		return c, nil
	}})
	do := s.doer(t)
	const n = 7 * users // every 7th user is APNs
	registerUsers(t, do, 0, n, func(i int) string { return fmt.Sprint("tok-", i) })
	var apnsIDs []string
	for i := 0; i < n; i += 7 {
		apnsIDs = append(apnsIDs, fmt.Sprintf("%q", fmt.Sprint("u", i)))
	}
	send := func(id string) {
		r := s.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":%q,"from":"x","to":{"type":"users","ids":[%s]},"push":{"title":"t"}}`, id, strings.Join(apnsIDs, ",")))
		wantStatus(t, r, 202)
	}
	// held waits until the simulator has exactly sent notifications and
	// the APNs sender holds the rest of the users queued with nothing in
	// flight: it has used its tokens and waits for the clock. An Advance
	// fires the sender's wake-up timer (on the injected clock); the poll
	// waits for the sends that starts to be answered.
	held := func(sent int64, queued int64) {
		t.Helper()
		testutil.CheckFor(t, 20*time.Second, func() error {
			got := s.d.push.sims.Recorder.Snapshot()["apns"].Unique
			st := s.d.senders.Stats()[vendors.APNs]
			if got != sent || st.Queued != queued || st.InFlight != 0 {
				return fmt.Errorf("apns simulator has %d (want %d); sender queued %d (want %d), in flight %d (want 0)", got, sent, st.Queued, queued, st.InFlight)
			}
			return nil
		})
	}
	send("rate-1")
	held(burst, users-burst) // the bucket starts full
	for step := int64(1); step <= (users-burst)/2; step++ {
		clock.Advance(10 * time.Millisecond) // 200/s × 10 ms = 2 tokens
		held(burst+2*step, users-burst-2*step)
	}

	// rate-1 is all sent: rate-2 is the sender's one batch, so each start
	// is a whole quantum of its rows.
	apply(1000)
	wantStatus(t, s.do(t, "POST", "/v1/admin/reload", ""), 200)
	send("rate-2")
	held(users, users) // the bucket is empty, the clock has not moved
	for step := int64(1); step <= 3; step++ {
		clock.Advance(10 * time.Millisecond) // 1000/s × 10 ms = 10 tokens (2 at the old 200/s, 20 at twice the rate)
		held(users+10*step, users-10*step)
	}
}

// TestRetryAndInvalidToken: a vendor throttling hard for a while delays
// but loses nothing; an unregistered token is tried once and unbound.
func TestRetryAndInvalidToken(t *testing.T) {
	s := startDaemon(t, func(c *configs.Config) {
		c.Vendors.Huawei.Limits.BatchSize = 10
		c.Vendors.Huawei.Retry = configs.Retry{MaxAttempts: 100, InitialBackoff: configs.Duration(20 * time.Millisecond), MaxBackoff: configs.Duration(200 * time.Millisecond)}
	}, Env{})
	do := s.doer(t)
	registerUsers(t, do, 0, 7*50, func(i int) string {
		if i == 2 {
			return "unregistered-dead" // a Huawei user (2 % 7 is huawei)
		}
		return fmt.Sprint("tok-", i)
	})
	if kindOf(2) != vendors.Huawei {
		t.Fatal("test assumes user 2 is a Huawei user")
	}
	var ids []string
	for i := 2; i < 7*50; i += 7 {
		ids = append(ids, fmt.Sprintf("%q", fmt.Sprint("u", i)))
	}
	// The Huawei simulator answers most requests with flow control.
	if err := s.d.push.sims.SetLimits(vendors.Huawei, simkit.Limits{QPS: 2}); err != nil {
		t.Fatal(err)
	}
	r := s.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":"retry-1","from":"x","to":{"type":"users","ids":[%s]},"push":{"title":"t"}}`, strings.Join(ids, ",")))
	wantStatus(t, r, 202)
	get := s.d.push.sims.Recorder.Snapshot
	waitStats(t, "throttled retries", 30*time.Second, get, func(st map[string]simkit.Stats) bool { return st["huawei"].Rejected > 5 })
	// The vendor recovers.
	if err := s.d.push.sims.SetLimits(vendors.Huawei, simkit.Limits{}); err != nil {
		t.Fatal(err)
	}
	st := waitStats(t, "every notification", 30*time.Second, get, func(st map[string]simkit.Stats) bool { return st["huawei"].Unique >= 49 })
	if st["huawei"].Unique != 49 || st["huawei"].Duplicates != 0 {
		t.Fatalf("huawei: %+v", st["huawei"])
	}
	// The simulator records a notification before its answer reaches the
	// sender: wait until the sender has taken every answer (nothing
	// queued or in flight), then the dead token was answered invalid and
	// never tried again: one rejection recorded for it, the device
	// unbound.
	testutil.CheckFor(t, 30*time.Second, func() error {
		if st := s.d.senders.Stats()[vendors.Huawei]; st.Queued != 0 || st.InFlight != 0 {
			return fmt.Errorf("huawei sender still busy: %+v", st)
		}
		if u := s.user(t, "u2"); len(u.Devices) != 0 {
			return fmt.Errorf("invalid token still bound: %+v", u)
		}
		return nil
	})
	stats := s.d.senders.Stats()[vendors.Huawei]
	if stats.Invalid != 1 || stats.Dead != 0 {
		t.Fatalf("sender stats: %+v", stats)
	}
	if st := get()["huawei"]; st.Unique != 49 || st.Duplicates != 0 {
		t.Fatalf("huawei: %+v", st)
	}
}

// TestInbox: an offline user finds messages in order, ack trims them,
// retention drops old ones.
func TestInbox(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	s := startDaemon(t, func(c *configs.Config) { c.Inbox.Retention = configs.Duration(time.Hour) }, Env{Clock: clock})
	for i := 1; i <= 3; i++ {
		r := s.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":"in-%d","from":"amy","to":{"type":"peer","id":"bob"},"body":{"n":%d}}`, i, i))
		wantStatus(t, r, 202)
		clock.Advance(time.Minute)
	}
	r := s.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"bob","device_id":"d","online":true}]}`)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.body), `"inbox_pending":3`) {
		t.Fatalf("came online: %s", r.body)
	}
	r = s.do(t, "GET", "/v1/users/bob/inbox", "")
	wantStatus(t, r, 200)
	var inbox struct {
		Messages []api.InboxMessage `json:"messages"`
		Next     int64              `json:"next"`
	}
	r.json(t, &inbox)
	if len(inbox.Messages) != 3 || inbox.Messages[0].MessageID != "in-1" || inbox.Messages[2].Seq != 3 ||
		string(inbox.Messages[1].Body) != `{"n":2}` || inbox.Messages[0].To.Type != "peer" || inbox.Next != 3 {
		t.Fatalf("inbox: %s", r.body)
	}
	wantStatus(t, s.do(t, "POST", "/v1/users/bob/inbox/ack", `{"up_to":2}`), 204)
	r = s.do(t, "GET", "/v1/users/bob/inbox", "")
	r.json(t, &inbox)
	if len(inbox.Messages) != 1 || inbox.Messages[0].MessageID != "in-3" {
		t.Fatalf("after ack: %s", r.body)
	}
	// Online users get no inbox entry.
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"in-4","from":"amy","to":{"type":"peer","id":"bob"},"body":{}}`), 202)
	if u := s.user(t, "bob"); u.InboxPending != 1 {
		t.Fatalf("online user got an inbox entry: %+v", u)
	}
	// Retention: an hour later in-3 is gone.
	clock.Advance(2 * time.Hour)
	s.d.housekeep()
	r = s.do(t, "GET", "/v1/users/bob/inbox", "")
	r.json(t, &inbox)
	if len(inbox.Messages) != 0 {
		t.Fatalf("after retention: %s", r.body)
	}
}

// TestDeadLettersAndRefusedReload: a push the vendor fails is kept as a
// dead letter and listed; an invalid reload is refused and changes nothing.
func TestDeadLettersAndRefusedReload(t *testing.T) {
	var bad bool
	var mu sync.Mutex
	var s *testServer
	// The simulator answers OPPO's "service unavailable" (-1) for olga's
	// token, and one attempt is all OPPO gets: the push is dead-lettered.
	s = startDaemon(t, func(c *configs.Config) { c.Vendors.OPPO.Retry.MaxAttempts = 1 }, Env{LoadConfig: func() (configs.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		c := s.d.cfg
		if bad {
			c.Vendors.OPPO.Limits.QPS = -1
		}
		return c, nil
	}})
	wantStatus(t, s.do(t, "PUT", "/v1/users/olga/devices/reno", `{"vendor":"oppo","token":"unavailable-olga"}`), 200)
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"no-title","from":"x","to":{"type":"peer","id":"olga"},"push":{"content":"c"}}`), 202)
	var out struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	testutil.WaitFor(t, 20*time.Second, func() bool {
		r := s.do(t, "GET", "/v1/admin/dead-letters?vendor=oppo", "")
		wantStatus(t, r, 200)
		r.json(t, &out)
		return len(out.DeadLetters) > 0
	}, "a dead letter listed")
	if dl := out.DeadLetters[0]; dl.MessageID != "no-title" || dl.PushID != "oppo:unavailable-olga" || dl.LastCode != "-1" || dl.Attempts != 1 {
		t.Fatalf("dead letter: %+v", dl)
	}
	if st := s.d.senders.Stats()[vendors.OPPO]; st.Failed != 1 || st.Queued != 0 {
		t.Fatalf("oppo stats: %+v", st)
	}
	mu.Lock()
	bad = true
	mu.Unlock()
	r := s.do(t, "POST", "/v1/admin/reload", "")
	if r.status != 400 || !strings.Contains(string(r.body), "vendors.oppo.limits.qps") {
		t.Fatalf("invalid reload: %d %s", r.status, r.body)
	}
}

// TestDailyQuotaHoldsAndResumes: with daily_quota 5 the sender sends five,
// holds the rest, and sends them when the next UTC day starts.
func TestDailyQuotaHoldsAndResumes(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC))
	s := startDaemon(t, func(c *configs.Config) { c.Vendors.APNs.Limits.DailyQuota = 5 }, Env{Clock: clock})
	var ids []string
	for i := range 8 {
		u := fmt.Sprint("q", i)
		wantStatus(t, s.do(t, "PUT", "/v1/users/"+u+"/devices/d", fmt.Sprintf(`{"vendor":"apns","token":"tok-q%d"}`, i)), 200)
		ids = append(ids, fmt.Sprintf("%q", u))
	}
	wantStatus(t, s.do(t, "POST", "/v1/messages", `{"message_id":"quota","from":"x","to":{"type":"users","ids":[`+strings.Join(ids, ",")+`]},"push":{"title":"t"}}`), 202)
	sims, _ := s.d.Simulators()
	// The day's quota spent, the sender holds the other three: queued,
	// none in flight, and only five at the simulator. The clock stays at
	// 23:00 until the test moves it, so the hold cannot end before that.
	testutil.CheckFor(t, 20*time.Second, func() error {
		st := s.d.senders.Stats()[vendors.APNs]
		if got := sims.Recorder.Snapshot()["apns"].Unique; got != 5 || st.QuotaLeft != 0 || st.Queued != 3 || st.InFlight != 0 {
			return fmt.Errorf("quota not holding: %d at the simulator (want 5), sender %+v (want quota left 0, 3 queued, none in flight)", got, st)
		}
		return nil
	})
	clock.Advance(time.Hour) // midnight UTC: a new quota
	waitStats(t, "the rest", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool { return st["apns"].Unique == 8 })
}

// TestBrokenCredentialsPauseWithoutLoss: a vendor refusing our credentials
// pauses that sender (metric and stats show it) and keeps the push queued;
// after the account is fixed and herald restarted, it is delivered.
func TestBrokenCredentialsPauseWithoutLoss(t *testing.T) {
	sims, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sims.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	simDir := t.TempDir()
	cfgPath, err := simhost.WriteConfig(sims, srv.URL, simDir)
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(simDir, "huawei.secret")
	good, _ := os.ReadFile(secret)
	if err := os.WriteFile(secret, []byte("wrong-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	load := func(c *configs.Config) {
		loaded, err := configs.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		loaded.Listen, loaded.SimListen, loaded.DataDir = c.Listen, c.SimListen, dataDir
		loaded.Vendors.Huawei.Retry.InitialBackoff = configs.Duration(50 * time.Millisecond)
		*c = loaded
	}
	d1 := startDaemonManual(t, load, Env{})
	wantStatus(t, d1.do(t, "PUT", "/v1/users/hana/devices/mate", `{"vendor":"huawei","token":"hw-hana"}`), 200)
	wantStatus(t, d1.do(t, "POST", "/v1/messages", `{"message_id":"creds","from":"x","to":{"type":"peer","id":"hana"},"push":{"title":"t","content":"c"}}`), 202)
	testutil.CheckFor(t, 20*time.Second, func() error {
		if st := d1.d.senders.Stats()[vendors.Huawei]; st.Paused != 1 {
			return fmt.Errorf("sender not paused: %+v", st)
		}
		return nil
	})
	if r := d1.do(t, "GET", "/metrics", ""); !strings.Contains(string(r.body), `herald_vendor_paused{vendor="huawei"} 1`) {
		t.Fatal("metrics do not show the pause")
	}
	if st := d1.d.senders.Stats()[vendors.Huawei]; st.Dead != 0 || st.Failed != 0 || st.Sent != 0 {
		t.Fatalf("push lost or failed: %+v", st)
	}
	d1.stop(t)
	if err := os.WriteFile(secret, good, 0o600); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemonManual(t, load, Env{})
	defer d2.stop(t)
	waitStats(t, "the held push", 20*time.Second, sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["huawei"].Unique == 1
	})
}
