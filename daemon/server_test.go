package daemon

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
)

// testServer is a whole daemon on a random loopback port with a temp Pebble dir.
type testServer struct {
	d    *Daemon
	base string
}

func startDaemon(t testing.TB, mutate func(*configs.Config), env Env) *testServer {
	t.Helper()
	cfg := configs.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.SimListen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Shutdown.Timeout = configs.Duration(5 * time.Second)
	if mutate != nil {
		mutate(&cfg)
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d, err := New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for d.Addr() == "" {
		select {
		case err := <-done:
			t.Fatalf("daemon exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon Run: %v", err)
		}
	})
	return &testServer{d: d, base: "http://" + d.Addr()}
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

type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.Unix(1_800_000_000, 0) }

// manualServer is a daemon the test stops itself (for restarts).
type manualServer struct {
	testServer
	cancel context.CancelFunc
	done   chan error
}

func startDaemonManual(t *testing.T, mutate func(*configs.Config)) *manualServer {
	t.Helper()
	cfg := configs.Default()
	cfg.Listen, cfg.SimListen, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.Shutdown.Timeout = configs.Duration(5 * time.Second)
	if mutate != nil {
		mutate(&cfg)
	}
	d, err := New(cfg, Env{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &manualServer{cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for d.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("daemon did not start")
		}
		time.Sleep(2 * time.Millisecond)
	}
	m.testServer = testServer{d: d, base: "http://" + d.Addr()}
	return m
}

func (m *manualServer) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	if err := <-m.done; err != nil {
		t.Errorf("daemon Run: %v", err)
	}
}
