package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/simhost"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// caReloadDaemon is a daemon whose every vendor is configured, as from
// herald-sim.yaml, against simulators certified by their own CA, with
// ca_file naming caFile, which holds trusted(the simulators) at start.
// Retries are quick. edit, when set, changes what each reload loads.
type caReloadDaemon struct {
	*testServer
	run    *simhost.Run
	caFile string
	mu     sync.Mutex
	edit   func(*configs.Config)
}

func startCAReloadDaemon(t *testing.T, trusted func(*simhost.Run) []byte) *caReloadDaemon {
	t.Helper()
	run := startSimHost(t, "127.0.0.1:0", t.TempDir(), false)
	simCfg, err := configs.Load(run.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	h := &caReloadDaemon{run: run, caFile: filepath.Join(t.TempDir(), "vendor-ca.pem")}
	testutil.WriteFile(t, h.caFile, string(trusted(run)))
	for _, sec := range simCfg.Vendors.ByName() {
		sec.CAFile = h.caFile
		sec.Retry = configs.Retry{InitialBackoff: configs.Duration(50 * time.Millisecond), MaxBackoff: configs.Duration(200 * time.Millisecond)}
	}
	var started configs.Config
	h.testServer = startDaemon(t, func(c *configs.Config) {
		c.Vendors, c.Resources = simCfg.Vendors, simCfg.Resources
		started = *c
	}, Env{LoadConfig: func() (configs.Config, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		c := started
		if h.edit != nil {
			h.edit(&c)
		}
		return c, nil
	}})
	if h.d.push.sims != nil {
		t.Fatal("the daemon runs its own simulators; want the configured vendors")
	}
	return h
}

func (h *caReloadDaemon) setEdit(edit func(*configs.Config)) {
	h.mu.Lock()
	h.edit = edit
	h.mu.Unlock()
}

// pushToAll registers one device per vendor and sends them message id.
func (h *caReloadDaemon) pushToAll(t *testing.T, id string) {
	t.Helper()
	var users []string
	for _, k := range vendors.Kinds() {
		u := fmt.Sprintf("%s-%s", id, k)
		wantStatus(t, h.do(t, "PUT", "/v1/users/"+u+"/devices/phone", fmt.Sprintf(`{"vendor":%q,"token":"tok-%s"}`, k, u)), 200)
		users = append(users, fmt.Sprintf("%q", u))
	}
	wantStatus(t, h.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":%q,"from":"x","to":{"type":"users","ids":[%s]},"push":{"title":"t","content":"c"}}`,
		id, strings.Join(users, ","))), 202)
}

// delivered reports whether every vendor's simulator accepted at least n
// distinct notifications.
func (h *caReloadDaemon) delivered(n int64) bool {
	st := h.run.Sims().Recorder.Snapshot()
	for _, k := range vendors.Kinds() {
		if st[string(k)].Unique < n {
			return false
		}
	}
	return true
}

// sendDirect sends one notification through vendor k's running client
// and returns its result.
func (h *caReloadDaemon) sendDirect(t *testing.T, k vendors.Kind, id string) vendors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.d.push.senders[k].Send(ctx, &vendors.Notification{MessageID: id, Title: "t", Body: "b", Channel: "im"},
		[]vendors.Target{{Token: "tok-" + id, APNsEnv: "production"}})
	if err != nil || len(res) != 1 {
		t.Fatalf("%s: Send: %v, %d results", k, err, len(res))
	}
	return res[0]
}

const unknownAuthority = "certificate signed by unknown authority"

// TestVendorCAFileReload: every vendor's ca_file holds CA-1 while the
// simulators' certificates come from CA-2, so sends fail verification and
// nothing reaches a simulator. Rewriting the same file to hold CA-2 and
// reloading makes the queued push delivered by the running senders, and
// new pushes too. A reload to no ca_file (the system roots) applies as
// well: the vendor's next connection is refused again.
func TestVendorCAFileReload(t *testing.T) {
	ca1, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	h := startCAReloadDaemon(t, func(*simhost.Run) []byte { return ca1.CertPEM() })
	h.pushToAll(t, "before")
	testutil.WaitFor(t, 20*time.Second, func() bool {
		st := h.d.senders.Stats()
		for _, k := range vendors.Kinds() {
			if st[k].Retried < 1 {
				return false
			}
		}
		return true
	}, "every sender retrying")
	for _, k := range vendors.Kinds() {
		if r := h.sendDirect(t, k, "probe-"+string(k)); r.Verdict != vendors.Retry || !strings.Contains(r.Reason, unknownAuthority) {
			t.Errorf("%s trusting CA-1: %+v, want Retry for an unknown authority", k, r)
		}
	}
	for v, st := range h.run.Sims().Recorder.Snapshot() {
		if st.Requests != 0 || st.Notifications != 0 {
			t.Fatalf("the %s simulator was reached while untrusted: %+v", v, st)
		}
	}

	testutil.WriteFile(t, h.caFile, string(testutil.ReadFile(t, h.run.CAFile)))
	res, err := h.d.Reload()
	if err != nil {
		t.Fatal(err)
	}
	applied := res.Applied
	for _, k := range vendors.Kinds() {
		if want := "vendors." + string(k) + ".ca_file"; !slices.Contains(applied, want) {
			t.Errorf("applied %v lacks %s", applied, want)
		}
	}
	testutil.WaitFor(t, 30*time.Second, func() bool { return h.delivered(1) }, "the queued push delivered to every vendor")
	h.pushToAll(t, "after")
	testutil.WaitFor(t, 30*time.Second, func() bool { return h.delivered(2) }, "a new push delivered to every vendor")
	if res, err := h.d.Reload(); err != nil || len(res.Applied) != 0 || len(res.NeedsRestart) != 0 {
		t.Fatalf("reload with nothing changed: %+v, err %v", res, err)
	}

	h.setEdit(func(c *configs.Config) { c.Vendors.Huawei.CAFile = "" })
	if res, err := h.d.Reload(); err != nil || !reflect.DeepEqual(res.Applied, []string{"vendors.huawei.ca_file"}) {
		t.Fatalf("reload to no ca_file: %+v, err %v", res, err)
	}
	if r := h.sendDirect(t, vendors.Huawei, "system-roots"); r.Verdict != vendors.Retry || !strings.Contains(r.Reason, unknownAuthority) {
		t.Errorf("huawei with the system roots only: %+v, want Retry for an unknown authority", r)
	}
	if r := h.sendDirect(t, vendors.Xiaomi, "still-trusted"); !r.OK() {
		t.Errorf("xiaomi, still trusting CA-2: %+v", r)
	}
}

// TestVendorCAFileReloadRefused: a reload whose ca_file cannot be read, or
// holds no certificate, is refused with the vendor and file named, and
// nothing of it applies: not the limits it also changes, not another
// vendor's new ca_file; pushes are still delivered as before.
func TestVendorCAFileReloadRefused(t *testing.T) {
	dir := t.TempDir()
	missing, empty := filepath.Join(dir, "missing.pem"), filepath.Join(dir, "empty.pem")
	testutil.WriteFile(t, empty, "no certificate here\n")
	other, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(dir, "other.pem")
	testutil.WriteFile(t, otherFile, string(other.CertPEM()))

	h := startCAReloadDaemon(t, func(r *simhost.Run) []byte { return testutil.ReadFile(t, r.CAFile) })
	h.pushToAll(t, "before")
	testutil.WaitFor(t, 30*time.Second, func() bool { return h.delivered(1) }, "a push delivered to every vendor")

	for _, tc := range []struct{ file, says string }{
		{missing, "vendors.vivo: ca_file: open " + missing},
		{empty, "vendors.vivo: ca_file: " + empty + " holds no PEM certificate"},
	} {
		h.setEdit(func(c *configs.Config) {
			c.Vendors.Vivo.CAFile = tc.file
			c.Vendors.OPPO.CAFile = otherFile
			c.Vendors.APNs.Limits.QPS = 7
		})
		h.d.reloadMu.Lock()
		live := h.d.live
		h.d.reloadMu.Unlock()
		r := h.do(t, "POST", "/v1/admin/reload", "")
		if r.status != 400 || !strings.Contains(string(r.body), tc.says) {
			t.Fatalf("reload with ca_file %s: %d %s, want 400 saying %q", tc.file, r.status, r.body, tc.says)
		}
		h.d.reloadMu.Lock()
		same := reflect.DeepEqual(h.d.live, live)
		var trusts []string
		for _, k := range vendors.Kinds() {
			if got := h.d.push.trust[k].ca.name; got != h.caFile {
				trusts = append(trusts, fmt.Sprintf("%s trusts %s", k, got))
			}
		}
		h.d.reloadMu.Unlock()
		if !same || len(trusts) != 0 {
			t.Fatalf("the refused reload changed something: configuration changed %v; %v (want every vendor on %s)", !same, trusts, h.caFile)
		}
	}
	if r := h.sendDirect(t, vendors.OPPO, "after-refusal"); !r.OK() {
		t.Errorf("oppo after the refused reload: %+v", r)
	}
	h.pushToAll(t, "after")
	testutil.WaitFor(t, 30*time.Second, func() bool { return h.delivered(2) }, "a push delivered to every vendor after the refused reloads")
}

// startSimHost is simhost.Start on listen, closed when t ends.
func startSimHost(t *testing.T, listen, dir string, newCA bool) *simhost.Run {
	t.Helper()
	r, err := simhost.Start(listen, dir, newCA, time.Now(), discardLogger())
	if err != nil {
		t.Fatalf("simhost.Start: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
