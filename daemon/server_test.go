package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/internal/testutil"
)

// testServer is a whole daemon on a random loopback port with a temp Pebble dir.
type testServer struct {
	d    *Daemon
	base string
}

// startDaemon runs a daemon on testConfig(mutate) with env until t ends.
func startDaemon(t testing.TB, mutate func(*configs.Config), env Env) *testServer {
	t.Helper()
	return &runDaemon(t, testConfig(t, mutate), env).testServer
}

// testConfig is the default configuration on random loopback ports with
// a temp data directory and a 5 s shutdown, then mutate (when set).
func testConfig(t testing.TB, mutate func(*configs.Config)) configs.Config {
	cfg := configs.Default()
	cfg.Listen, cfg.SimListen, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Shutdown.Timeout = configs.Duration(5 * time.Second)
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body "" sends none; ctype "" sends application/json
// when there is a body.
func (s *testServer) do(t *testing.T, method, path, body string, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("bad JSON %q: %v", r.body, err)
	}
}

type errBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// manualServer is a daemon the test may stop itself (for restarts); it
// stops when the test ends otherwise.
type manualServer struct {
	testServer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startDaemonManual is startDaemon for a daemon the test stops itself.
func startDaemonManual(t *testing.T, mutate func(*configs.Config), env Env) *manualServer {
	t.Helper()
	return runDaemon(t, testConfig(t, mutate), env)
}

// runDaemon builds a daemon from cfg and env and runs it until stop or
// the end of t, returning once it listens (or failing t if it exits or
// does not listen within 10 s). It is the one place the in-process tests
// wait for a daemon to be ready.
func runDaemon(t testing.TB, cfg configs.Config, env Env) *manualServer {
	t.Helper()
	if env.Logger == nil {
		env.Logger = discardLogger()
	}
	d, err := New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &manualServer{cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- d.Run(ctx) }()
	t.Cleanup(func() { m.stop(t) })
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case err := <-m.done:
			m.done <- err // for stop
			t.Fatalf("daemon exited before listening: %v", err)
		default:
		}
		return d.Addr() != ""
	}, "the daemon to listen")
	m.testServer = testServer{d: d, base: "http://" + d.Addr()}
	return m
}

// stop ends the daemon's Run and reports its error; later calls do
// nothing.
func (m *manualServer) stop(t testing.TB) {
	t.Helper()
	m.once.Do(func() {
		m.cancel()
		if err := <-m.done; err != nil {
			t.Errorf("daemon Run: %v", err)
		}
	})
}
