package webhooks

import (
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/store"
)

// The README's Python verification snippet verifies a real delivery and
// refuses it with one byte of the body changed (and with another secret).
func TestREADMEPythonSnippetVerifiesADelivery(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to check the README's snippet (.ci/run installs it)")
	}
	readme := string(testutil.ReadFile(t, "../README.md"))
	_, after, ok := strings.Cut(readme, "\n```python\n")
	snippet, _, ok2 := strings.Cut(after, "\n```")
	if !ok || !ok2 || !strings.Contains(snippet, "def verify(") {
		t.Fatal("README.md has no ```python block with def verify(")
	}
	clk := testutil.NewClock(time.Now()) // the snippet checks the timestamp against the wall clock
	st := openStore(t, clk)
	raw := &rawReceiver{}
	srv := httptest.NewServer(raw)
	defer srv.Close()
	secret := "whsec_" + "c2VjcmV0IGtleSBmb3IgdGhlIFJFQURNRQ=="
	key, err := ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	startDispatcher(t, st, clk, srv.URL, Options{Endpoints: []Endpoint{{Name: "backend", URL: srv.URL, Events: store.EventTypes(), Keys: [][]byte{key}}}})
	writeDeadLetters(t, st, "m1", 3)
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(raw.all()) == 1 }, "one delivery")
	del := raw.all()[0]
	dir := t.TempDir()
	hdr, _ := json.Marshal(map[string]string{"webhook-id": del.header.Get(HeaderID), "webhook-timestamp": del.header.Get(HeaderTimestamp),
		"webhook-signature": del.header.Get(HeaderSignature)})
	tampered := []byte(strings.Replace(string(del.body), "UNAVAILABLE", "UNAVAILABLF", 1))
	testutil.WriteFile(t, filepath.Join(dir, "headers.json"), string(hdr))
	testutil.WriteFile(t, filepath.Join(dir, "body"), string(del.body))
	testutil.WriteFile(t, filepath.Join(dir, "tampered"), string(tampered))
	script := snippet + `
import json, sys
h = json.load(open(sys.argv[1] + "/headers.json"))
body = open(sys.argv[1] + "/body", "rb").read()
tampered = open(sys.argv[1] + "/tampered", "rb").read()
print(verify(sys.argv[2], h, body), verify(sys.argv[2], h, tampered), verify("whsec_b3RoZXI=", h, body))
`
	testutil.WriteFile(t, filepath.Join(dir, "check.py"), script)
	out, err := exec.Command(python, filepath.Join(dir, "check.py"), dir, secret).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "True False False" {
		t.Fatalf("the README snippet says %q for (delivery, tampered, other secret), want True False False", got)
	}
}
