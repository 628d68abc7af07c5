package api

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// New refuses Deps missing a required dependency, naming it.
func TestNewNamesAMissingDependency(t *testing.T) {
	_, err := New(Deps{})
	if err == nil || !strings.Contains(err.Error(), "Deps.Log is required") {
		t.Fatalf("New(Deps{}) = %v, want the missing Log named", err)
	}
}

// fasthttp's line for a request refused as too large (answered 413/431
// by handleParseError) is Debug; anything else it reports stays a WARN.
func TestFasthttpLoggerLevels(t *testing.T) {
	var buf bytes.Buffer
	l := fasthttpLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Printf("error when serving connection %q<->%q: %v", "127.0.0.1:8080", "127.0.0.1:5555", fasthttp.ErrBodyTooLarge)
	l.Printf("error when serving connection %q<->%q: %v", "127.0.0.1:8080", "127.0.0.1:5555", fasthttp.ErrSmallReadBuffer)
	l.Printf("error when serving connection %q<->%q: %v", "127.0.0.1:8080", "127.0.0.1:5555", errors.New("connection reset"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "level=DEBUG") || !strings.Contains(lines[1], "level=DEBUG") || !strings.Contains(lines[2], "level=WARN") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
