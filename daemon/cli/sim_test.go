package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-push/herald/daemon/simhost"
)

// TestSimCmdRefusesCorruptCA: `herald sim` itself exits 1 on a corrupt
// ca.pem, naming it.
func TestSimCmdRefusesCorruptCA(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, simhost.CAFile)
	writeTestFile(t, ca, "not a certificate")
	writeTestFile(t, filepath.Join(dir, simhost.CAKeyFile), "not a key")
	var stderr bytes.Buffer
	if code := simCmd([]string{"--listen", "127.0.0.1:0", "--out", dir}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; log:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), ca) {
		t.Fatalf("log does not name %s:\n%s", ca, stderr.String())
	}
	if got := string(mustReadFile(t, ca)); got != "not a certificate" {
		t.Fatalf("ca.pem was overwritten: %q", got)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
