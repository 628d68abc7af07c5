package daemon

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
)

// The end-to-end tests run the real herald binary, built once per test run
// with -race (it reuses the race-built packages the test itself needed).

var buildOnce struct {
	sync.Once
	path string
	err  error
}

func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-e2e-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-race", "-o", buildOnce.path, "github.com/herald-push/herald").CombinedOutput()
		if err != nil {
			buildOnce.err = errors.New(string(out))
		}
	})
	if buildOnce.err != nil {
		t.Fatalf("building herald: %v", buildOnce.err)
	}
	return buildOnce.path
}

// childLog holds a herald child process's JSON log lines (its stderr).
type childLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *childLog) logLines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// startChild starts cmd, collects its stderr lines into l, and returns a
// channel with the string field key of the first log record whose msg
// starts with msgPrefix, and one with the process's exit.
func startChild(t *testing.T, cmd *exec.Cmd, l *childLog, msgPrefix, key string) (<-chan string, chan error) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found, exited := make(chan string, 1), make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			l.mu.Lock()
			l.lines = append(l.lines, line)
			l.mu.Unlock()
			var rec map[string]any
			if !sent && json.Unmarshal([]byte(line), &rec) == nil {
				if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, msgPrefix) {
					v, _ := rec[key].(string)
					found <- v
					sent = true
				}
			}
		}
		exited <- cmd.Wait()
	}()
	return found, exited
}

// proc is one running `herald serve`.
type proc struct {
	childLog
	cmd     *exec.Cmd
	base    string
	started time.Time
	ready   time.Duration
	exited  chan error
}

func startHerald(t *testing.T, bin, dataDir string, extra ...string) *proc {
	t.Helper()
	return startHeraldEnv(t, bin, dataDir, nil, extra...)
}

// startHeraldEnv is startHerald with env added to the process's
// environment.
func startHeraldEnv(t *testing.T, bin, dataDir string, env []string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--sim-listen", "127.0.0.1:0", "--data", dataDir}, extra...)
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	p := &proc{cmd: cmd, started: time.Now()}
	addr, exited := startChild(t, cmd, &p.childLog, "listening", "addr")
	p.exited = exited
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("herald log:\n%s", strings.Join(p.logLines(), "\n"))
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
		p.ready = time.Since(p.started)
	case err := <-p.exited:
		t.Fatalf("herald exited at start: %v\n%s", err, strings.Join(p.logLines(), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatal("herald did not start listening")
	}
	return p
}

// stop sends sig and returns the exit error (nil = exit 0).
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("herald did not exit")
		return nil
	}
}

func (p *proc) do(t *testing.T, method, path, body string) resp {
	t.Helper()
	s := &testServer{base: p.base}
	return s.do(t, method, path, body)
}

func (p *proc) user(t *testing.T, id string) api.UserResponse {
	t.Helper()
	r := p.do(t, "GET", "/v1/users/"+id, "")
	if r.status != 200 {
		t.Fatalf("GET user %s: %d %s", id, r.status, r.body)
	}
	var u api.UserResponse
	r.json(t, &u)
	return u
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func TestEndToEnd(t *testing.T) {
	testutil.SkipShort(t, "TestEndToEnd runs the herald binary")
	bin := heraldBinary(t)
	data := t.TempDir()
	p := startHerald(t, bin, data)

	// First request after a cold start: actor activation + Pebble read + sync write.
	t0 := time.Now()
	r := p.do(t, "PUT", "/v1/users/alice/devices/phone", `{"vendor":"fcm","token":"tok-1"}`)
	first := time.Since(t0)
	wantStatus(t, r, 200)
	var bind api.PutDeviceResponse
	r.json(t, &bind)
	if bind.PushID != "fcm:tok-1" || bind.MovedFrom != nil {
		t.Fatalf("bind: %s", r.body)
	}
	t.Logf("cold start: listening after %v; first request (bind) took %v", p.ready, first)
	if u := p.user(t, "alice"); len(u.Devices) != 1 || u.Devices[0].PushID != "fcm:tok-1" {
		t.Fatalf("alice after bind: %+v", u)
	}

	// The same token under another user moves it.
	r = p.do(t, "PUT", "/v1/users/bob/devices/tab", `{"vendor":"fcm","token":"tok-1"}`)
	wantStatus(t, r, 200)
	r.json(t, &bind)
	if bind.MovedFrom == nil || *bind.MovedFrom != "alice" {
		t.Fatalf("move: %s", r.body)
	}
	if u := p.user(t, "alice"); len(u.Devices) != 0 {
		t.Fatalf("alice still has the moved token: %+v", u)
	}
	if u := p.user(t, "bob"); len(u.Devices) != 1 || u.Devices[0].DeviceID != "tab" {
		t.Fatalf("bob after move: %+v", u)
	}

	// Logout of one device clears its binding and presence.
	wantStatus(t, p.do(t, "PUT", "/v1/users/carol/devices/d1", `{"vendor":"apns","token":"c0ffee","voip_token":"beef"}`), 200)
	wantStatus(t, p.do(t, "PUT", "/v1/users/carol/devices/d2", `{"vendor":"huawei","token":"hw-2"}`), 200)
	wantStatus(t, p.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"carol","device_id":"d1","online":true}]}`), 200)
	wantStatus(t, p.do(t, "POST", "/v1/users/carol/logout", `{"device_id":"d1"}`), 204)
	if u := p.user(t, "carol"); u.Online || len(u.Devices) != 1 || u.Devices[0].DeviceID != "d2" {
		t.Fatalf("carol after logout d1: %+v", u)
	}
	// Logout without a body clears every device.
	wantStatus(t, p.do(t, "POST", "/v1/users/carol/logout", ""), 204)
	if u := p.user(t, "carol"); len(u.Devices) != 0 {
		t.Fatalf("carol after logout all: %+v", u)
	}

	// DELETE unbinds.
	wantStatus(t, p.do(t, "PUT", "/v1/users/dave/devices/d1", `{"vendor":"xiaomi","token":"mi-1"}`), 200)
	wantStatus(t, p.do(t, "DELETE", "/v1/users/dave/devices/d1", ""), 204)
	if u := p.user(t, "dave"); len(u.Devices) != 0 {
		t.Fatalf("dave after delete: %+v", u)
	}

	// Presence: online, then the 1 s lease lapses.
	r = p.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"erin","device_id":"d1","online":true,"ttl_s":1}]}`)
	wantStatus(t, r, 200)
	var pres api.PresenceResponse
	r.json(t, &pres)
	if pres.Applied != 1 || len(pres.CameOnline) != 1 || pres.CameOnline[0].UserID != "erin" {
		t.Fatalf("presence: %s", r.body)
	}
	if u := p.user(t, "erin"); !u.Online {
		t.Fatalf("erin not online: %+v", u)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return !p.user(t, "erin").Online }, "erin's 1 s lease to lapse")

	// Badge.
	wantStatus(t, p.do(t, "PUT", "/v1/users/bob/badge", `{"count":4}`), 204)

	// A write acknowledged right before SIGKILL survives the restart, and
	// so does an unexpired lease.
	wantStatus(t, p.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"frank","device_id":"d1","online":true,"ttl_s":3600}]}`), 200)
	wantStatus(t, p.do(t, "PUT", "/v1/users/frank/devices/d1", `{"vendor":"vivo","token":"vv-1"}`), 200)
	if err := p.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL exit reported success")
	}
	p = startHerald(t, bin, data)
	u := p.user(t, "frank")
	if len(u.Devices) != 1 || u.Devices[0].PushID != "vivo:vv-1" || !u.Online {
		t.Fatalf("frank after kill -9 and restart: %+v", u)
	}
	if u := p.user(t, "bob"); u.Badge != 4 || len(u.Devices) != 1 {
		t.Fatalf("bob after restart: %+v", u)
	}
	if u := p.user(t, "alice"); len(u.Devices) != 0 {
		t.Fatalf("alice after restart: %+v", u)
	}

	// SIGTERM: graceful stop, exit 0.
	if err := p.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
}

func TestEndToEndCLI(t *testing.T) {
	testutil.SkipShort(t, "TestEndToEndCLI runs the herald binary")
	bin := heraldBinary(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "herald ") {
		t.Fatalf("version: %q %v", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: nowhere\nusers:\n  shards: 0\n  idel: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "check-config", bad)
	msg, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(msg), "users.idel") {
		t.Fatalf("check-config bad: %v %s", err, msg)
	}
	out, err = exec.Command(bin, "check-config", "../configs/herald.yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("check-config example: %v %s", err, out)
	}
}
