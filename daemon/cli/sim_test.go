package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-push/herald/daemon/simhost"
	"github.com/herald-push/herald/internal/testutil"
)

// TestSimCmdRefusesCorruptCA: `herald sim` itself exits 1 on a corrupt
// ca.pem, naming it.
func TestSimCmdRefusesCorruptCA(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, simhost.CAFile)
	testutil.WriteFile(t, ca, "not a certificate")
	testutil.WriteFile(t, filepath.Join(dir, simhost.CAKeyFile), "not a key")
	var stderr bytes.Buffer
	if code := simCmd([]string{"--listen", "127.0.0.1:0", "--out", dir}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; log:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), ca) {
		t.Fatalf("log does not name %s:\n%s", ca, stderr.String())
	}
	if got := string(testutil.ReadFile(t, ca)); got != "not a certificate" {
		t.Fatalf("ca.pem was overwritten: %q", got)
	}
}
