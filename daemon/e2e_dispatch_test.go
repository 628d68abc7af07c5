package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"go.yaml.in/yaml/v3"
)

// simProc is one running `herald sim`: every vendor simulator in its own
// process, so its receipt counters outlive daemon crashes.
type simProc struct {
	childLog
	cmd    *exec.Cmd
	url    string // https://127.0.0.1:PORT
	out    string // the --out directory: ca.pem, secrets, herald-sim.yaml
	client *http.Client
	exited chan error
}

func startSim(t *testing.T, bin string) *simProc {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sim")
	cmd := exec.Command(bin, "sim", "--listen", "127.0.0.1:0", "--out", out)
	s := &simProc{cmd: cmd, out: out}
	urls, exited := startChild(t, cmd, &s.childLog, "simulators listening", "url")
	s.exited = exited
	t.Cleanup(func() {
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.exited:
			if err != nil {
				t.Errorf("herald sim exited after SIGTERM: %v", err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("herald sim did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("herald sim log:\n%s", strings.Join(s.logLines(), "\n"))
		}
	})
	select {
	case s.url = <-urls:
	case err := <-s.exited:
		t.Fatalf("herald sim exited at start: %v\n%s", err, strings.Join(s.logLines(), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatal("herald sim did not start listening")
	}
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("herald sim url %q", s.url)
	}
	// The control endpoints are HTTPS with a certificate from the CA the
	// sim wrote next to its config: trust that and nothing else.
	pem, err := os.ReadFile(filepath.Join(out, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem holds no certificate")
	}
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}}
	return s
}

// config is the daemon config `herald sim` wrote.
func (s *simProc) config() string { return filepath.Join(s.out, "herald-sim.yaml") }

// stats reads GET /sim/stats; an error is returned, not fatal, so that
// tight polling loops can report it with context.
func (s *simProc) statsErr() (map[string]simkit.Stats, error) {
	r, err := s.client.Get(s.url + "/sim/stats")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		return nil, fmt.Errorf("GET /sim/stats: %d %s", r.StatusCode, b)
	}
	var out simkit.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET /sim/stats: %w", err)
	}
	return out.Vendors, nil
}

func (s *simProc) stats(t *testing.T) map[string]simkit.Stats {
	t.Helper()
	st, err := s.statsErr()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func statsJSON(st map[string]simkit.Stats) string {
	b, _ := json.Marshal(st)
	return string(b)
}

func (p *proc) doer(t *testing.T) func(method, path, body string) resp {
	return func(method, path, body string) resp { return p.do(t, method, path, body) }
}

// TestEndToEndSimulatorCLI: `herald sim` in one process, `herald serve
// --config <its herald-sim.yaml>` in another, `herald push` in a third:
// a test push to a user with one device per vendor reaches every simulator.
func TestEndToEndSimulatorCLI(t *testing.T) {
	testutil.SkipShort(t, "TestEndToEndSimulatorCLI runs herald sim, serve and push as processes")
	bin := heraldBinary(t)
	sim := startSim(t, bin)
	for _, f := range []string{"ca.pem", "herald-sim.yaml", "apns.p8", "fcm.json", "web.json", "huawei.secret", "xiaomi.secret", "oppo.secret", "vivo.secret"} {
		if _, err := os.Stat(filepath.Join(sim.out, f)); err != nil {
			t.Errorf("herald sim did not write %s: %v", f, err)
		}
	}
	if out, err := exec.Command(bin, "check-config", sim.config()).CombinedOutput(); err != nil {
		t.Fatalf("check-config %s: %v\n%s", sim.config(), err, out)
	}
	// startHerald also passes --sim-listen; with vendor accounts configured
	// the daemon is not in simulator mode and must ignore it.
	p := startHerald(t, bin, t.TempDir(), "--config", sim.config())
	for _, line := range p.logLines() {
		if strings.Contains(line, "simulator mode") {
			t.Fatalf("daemon with herald-sim.yaml runs its own simulators: %s", line)
		}
	}

	for i, k := range vendors.Kinds() {
		body := fmt.Sprintf(`{"vendor":%q,"token":"cli-%s-token"}`, k, k)
		wantStatus(t, p.do(t, "PUT", fmt.Sprintf("/v1/users/U/devices/d%d", i), body), 200)
	}
	if u := p.user(t, "U"); len(u.Devices) != len(vendors.Kinds()) {
		t.Fatalf("U has %d devices, want %d: %+v", len(u.Devices), len(vendors.Kinds()), u)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "push", "--user-id", "U", "--server", p.base, "--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("herald push --json:\n%s", out)
	var answer api.PushTestResponse
	if jerr := json.Unmarshal(out, &answer); jerr != nil {
		t.Fatalf("herald push: %v (exit: %v)\nstdout: %s\nstderr: %s", jerr, err, out, stderr.String())
	}
	seen := map[string]bool{}
	for _, r := range answer.Results {
		seen[r.Vendor] = true
		if !r.OK || r.Code != "ok" {
			t.Errorf("herald push: %s (%s) not ok: code %q reason %q", r.Vendor, r.PushID, r.Code, r.Reason)
		}
	}
	if len(answer.Results) != len(vendors.Kinds()) || len(seen) != len(vendors.Kinds()) {
		t.Errorf("herald push answered %d results over %d vendors, want one per vendor (%d)", len(answer.Results), len(seen), len(vendors.Kinds()))
	}
	if err != nil {
		t.Errorf("herald push exit: %v; stderr: %s", err, stderr.String())
	}

	// The simulator process received exactly one notification per vendor.
	st := sim.stats(t)
	for _, k := range vendors.Kinds() {
		if s := st[string(k)]; s.Unique != 1 || s.Duplicates != 0 || s.Rejected != 0 {
			t.Errorf("simulator %s: %+v, want exactly one unique notification", k, s)
		}
	}
	if t.Failed() {
		t.Logf("simulator stats: %s", statsJSON(st))
	}

	// The human-readable form exits 0 and prints one line per vendor.
	table, err := exec.CommandContext(ctx, bin, "push", "--user-id", "U", "--server", p.base).CombinedOutput()
	if err != nil || strings.Count(strings.TrimSpace(string(table)), "\n") != len(vendors.Kinds()) {
		t.Errorf("herald push (table): %v\n%s", err, table)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM exit: %v", err)
	}
}

// crashConfig writes a copy of the sim's daemon config that slows every
// vendor down (so the fan-out takes seconds, and a kill lands mid-flight)
// and adds the push resource "e2e" carrying the Android channel OPPO and
// Xiaomi require.
// The crash test's vendor limits: about 2 860 notifications per vendor
// at ~400/s, ~7 s of sending. A per-token vendor's batch is the rows one
// worker sends (one request each) before it records their verdicts.
var (
	crashPerToken = map[string]int{"qps": 400, "burst": 10, "max_in_flight": 32, "batch_size": 8}
	crashBatched  = map[string]int{"qps": 8, "burst": 1, "max_in_flight": 2, "batch_size": 50}
)

// crashLimits are the limits crashConfig gives vendor k: APNs, FCM and
// Web send a request per token, the others a request per batch.
func crashLimits(k vendors.Kind) map[string]int {
	switch k {
	case vendors.APNs, vendors.FCM, vendors.Web:
		return crashPerToken
	default:
		return crashBatched
	}
}

// crashDupBound is the most duplicates one kill -9 may cause at vendor
// k under crashConfig: notifications the vendor accepted whose outbox rows
// were still on disk when the process died, so the restarted daemon sends
// them again. A batch's rows leave the outbox in one commit after all of
// its answers, so those are the rows of the batches running at the kill.
// A batch vendor runs at most max_in_flight batches (a batch is one
// request, holding a request slot) of batch_size rows. A per-token
// vendor's batch holds a slot per row still in flight, so at most
// max_in_flight of its batches have a request out; one whose answers are
// all in holds none until its commit. The bound allows as many again for
// those and for batches whose deletes were committed unsynced and were
// still in Pebble's WAL buffer when the process died: 2 × max_in_flight ×
// batch_size, 512 for APNs, FCM and Web and 200 for each batch vendor
// (2 336 of the 20 000 in all). More came from something else: a resumed
// row sent twice, or a job planned again.
func crashDupBound(k vendors.Kind) int64 {
	l := crashLimits(k)
	return int64(2 * l["max_in_flight"] * l["batch_size"])
}

func crashConfig(t *testing.T, src string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	vs, ok := doc["vendors"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no vendors section", src)
	}
	for _, k := range vendors.Kinds() {
		sec, ok := vs[string(k)].(map[string]any)
		if !ok {
			t.Fatalf("%s has no vendors.%s section", src, k)
		}
		limits := map[string]any{}
		for name, v := range crashLimits(k) {
			limits[name] = v
		}
		sec["limits"] = limits
	}
	res, _ := doc["resources"].(map[string]any)
	if res == nil {
		res = map[string]any{}
	}
	res["e2e"] = map[string]any{"vendors": map[string]any{
		"oppo":   map[string]any{"channel_id": "im", "category": "IM", "notify_level": 2},
		"xiaomi": map[string]any{"channel_id": "im"},
		"vivo":   map[string]any{"category": "IM"},
		"huawei": map[string]any{"category": "IM"},
	}}
	doc["resources"] = res
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "herald-crash.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("crash config does not validate: %v\n%s", err, out)
	}
	return path
}

// senderStats reads the daemon's GET /v1/stats.
func senderStats(t *testing.T, p *proc) map[string]api.VendorStats {
	t.Helper()
	r := p.do(t, "GET", "/v1/stats", "")
	wantStatus(t, r, 200)
	var out struct {
		Vendors map[string]api.VendorStats `json:"vendors"`
	}
	r.json(t, &out)
	return out.Vendors
}

// TestCrashMidFanOut: a 20 000-member group message is being fanned out
// when the daemon is killed with SIGKILL; after a restart on the same data
// every device has been notified (at least once), none was lost, and the
// message's status counts exactly what happened: one in a hundred tokens
// is one the vendor declares invalid, and the status and its failures
// listing have exactly those. The simulators run in their own process, so
// their counters span both runs.
func TestCrashMidFanOut(t *testing.T) {
	testutil.SkipShort(t, "TestCrashMidFanOut kills a 20 000-member fan-out and waits out the restart")
	const (
		n         = 20000
		killAfter = 1000 // unique notifications seen before the kill
	)
	bin := heraldBinary(t)
	sim := startSim(t, bin)
	cfg := crashConfig(t, sim.config())
	data := t.TempDir()
	p := startHerald(t, bin, data, "--config", cfg)
	do := p.doer(t)

	setup := time.Now()
	invalidToken := func(i int) bool { return i%100 == 0 }
	registerUsers(t, do, 0, n, func(i int) string {
		if invalidToken(i) {
			return fmt.Sprint(simkit.PrefixUnregistered, "crash-tok-", i)
		}
		return fmt.Sprint("crash-tok-", i)
	})
	addMembers(t, do, "all", 0, n)
	want, invalid := map[string]int64{}, map[string]int64{} // per vendor
	var valid int64
	for i := range n {
		if invalidToken(i) {
			invalid[string(kindOf(i))]++
		} else {
			want[string(kindOf(i))]++
			valid++
		}
	}
	t.Logf("setup: %d users, one device each, in one group: %v", n, time.Since(setup))

	// Nobody is online and the sender is not a member: every member gets one push.
	msg := `{"message_id":"m-crash","from":"backend","to":{"type":"group","id":"all"},"body":{"text":"hi"},
		"push":{"title":"crash test","content":"hello","resources_id":"e2e"}}`
	sent := time.Now()
	r := p.do(t, "POST", "/v1/messages", msg)
	wantStatus(t, r, 202)
	if !strings.Contains(string(r.body), fmt.Sprintf(`"recipients":%d`, n)) {
		t.Fatalf("message answer: %s", r.body)
	}

	// Poll the simulators as fast as they answer and kill the daemon as
	// soon as some of the fan-out has arrived.
	var atKill map[string]simkit.Stats
	testutil.CheckFor(t, 60*time.Second, func() error {
		st, err := sim.statsErr()
		if err != nil {
			return err
		}
		if u, _ := totalUnique(st); u < killAfter {
			return fmt.Errorf("fewer than %d notifications arrived; simulator stats %s", killAfter, statsJSON(st))
		}
		atKill = st
		return nil
	})
	if err := p.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL exit reported success")
	}
	killedAfter := time.Since(sent)
	uniqueAtKill, dupsAtKill := totalUnique(atKill)
	planned := false
	for _, line := range p.logLines() {
		if strings.Contains(line, "group fan-out planned") {
			planned = true
		}
	}
	// What the simulators had once the daemon was gone (requests it had
	// already written may still have been answered).
	afterDeath := sim.stats(t)
	uniqueAfterDeath, _ := totalUnique(afterDeath)
	t.Logf("killed %v after the message: %d unique notifications had arrived when the kill was decided, %d once the daemon was dead; fan-out planning finished before the kill: %v",
		killedAfter, uniqueAtKill, uniqueAfterDeath, planned)
	if uniqueAfterDeath >= valid {
		t.Fatalf("the fan-out finished (%d of %d unique) before the kill landed: the test did not crash herald mid-flight; slow the vendors down further in crashConfig", uniqueAfterDeath, valid)
	}
	if dupsAtKill != 0 {
		t.Errorf("duplicates before any crash: %s", statsJSON(atKill))
	}

	restart := time.Now()
	p = startHerald(t, bin, data, "--config", cfg)
	for _, line := range p.logLines() {
		if strings.Contains(line, "resumed unfinished work") {
			t.Logf("after restart: %s", line)
		}
	}
	waitStats(t, "every member's notification after the restart", 3*time.Minute, func() map[string]simkit.Stats { return sim.stats(t) },
		func(st map[string]simkit.Stats) bool { u, _ := totalUnique(st); return u >= valid })
	t.Logf("all %d unique notifications arrived %v after the restart (%v after the message)", valid, time.Since(restart), time.Since(sent))

	// Let the daemon finish what it has in flight, then check exactness.
	testutil.CheckFor(t, 60*time.Second, func() error {
		busy := int64(0)
		vs := senderStats(t, p)
		for _, v := range vs {
			busy += v.Queued + v.Spilled + v.InFlight
		}
		if busy != 0 {
			return fmt.Errorf("the daemon still has %d notifications queued or in flight after every device was reached: %+v", busy, vs)
		}
		return nil
	})
	st := sim.stats(t)
	unique, dups := totalUnique(st)
	var rejected int64
	for _, s := range st {
		rejected += s.Rejected
	}
	t.Logf("arrived before the kill: %d (%d once the daemon was dead); duplicates after the restart: %d; rejected: %d; per vendor: %s",
		uniqueAtKill, uniqueAfterDeath, dups, rejected, statsJSON(st))
	// At-least-once: what was in flight at the kill may arrive twice, and
	// no more than that (crashDupBound says what that is).
	for _, k := range vendors.Kinds() {
		if d, b := st[string(k)].Duplicates, crashDupBound(k); d > b {
			t.Errorf("vendor %s: %d duplicates after one crash, more than the %d it can have had in flight (2 × max_in_flight × batch_size)", k, d, b)
		}
	}
	if unique != valid {
		t.Errorf("unique notifications %d, want exactly %d", unique, valid)
	}
	for _, k := range vendors.Kinds() {
		if got := st[string(k)].Unique; got != want[string(k)] {
			t.Errorf("vendor %s: %d unique notifications, want %d", k, got, want[string(k)])
		}
	}
	for k, v := range senderStats(t, p) {
		if v.Dead != 0 {
			t.Errorf("vendor %s after the restart: %+v", k, v)
		}
	}

	// The message's status is exact across the kill: every row's verdict
	// went in the batch that removed it, so a row lost in the crash was
	// sent and counted once more, never twice.
	r = p.do(t, "GET", "/v1/messages/m-crash", "")
	wantStatus(t, r, 200)
	var status api.MessageStatusResponse
	r.json(t, &status)
	if status.State != "done" {
		t.Errorf("message status after the restart: %s", r.body)
	}
	for _, k := range vendors.Kinds() {
		v := status.Vendors[string(k)]
		var byCode int64
		for _, c := range v.FailedByCode {
			byCode += c
		}
		if v.Sent != want[string(k)] || v.InvalidTokens != invalid[string(k)] || byCode != v.InvalidTokens || v.Queued+v.Dead+v.Expired != 0 {
			t.Errorf("vendor %s in the message status: %+v, want %d sent, %d invalid tokens and nothing else", k, v, want[string(k)], invalid[string(k)])
		}
	}
	var failed []string
	for _, f := range messageFailures(t, p.doer(t), "m-crash", 64) {
		failed = append(failed, f.Vendor+"/"+f.UserID+"/"+f.Failure)
	}
	var wantFailed []string
	for _, k := range vendors.Kinds() {
		var users []string
		for i := range n {
			if invalidToken(i) && kindOf(i) == k {
				users = append(users, fmt.Sprint("u", i))
			}
		}
		slices.Sort(users) // the listing's order: by vendor, then user id
		for _, u := range users {
			wantFailed = append(wantFailed, string(k)+"/"+u+"/invalid_token")
		}
	}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("failures listing: %d rows %v\nwant %d rows %v", len(failed), failed, len(wantFailed), wantFailed)
	}

	// The job is done and recorded: a repeat is a duplicate with the
	// final counts, and sends nothing.
	r = p.do(t, "POST", "/v1/messages", msg)
	wantStatus(t, r, 200)
	var again api.MessageResponse
	r.json(t, &again)
	if !again.Duplicate || again.Recipients != n || again.Offline == nil || *again.Offline != n || again.Online == nil || *again.Online != 0 {
		t.Errorf("repeat after the fan-out: %s", r.body)
	}
	if u := p.user(t, "u7"); u.InboxPending != 1 {
		t.Errorf("member u7 after the crash: %+v", u)
	}
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM exit: %v", err)
	}
	if u, _ := totalUnique(sim.stats(t)); u != valid {
		t.Errorf("unique changed after the repeat: %d", u)
	}
}
