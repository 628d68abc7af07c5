package simhost

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/simkit"
)

// discardLog is a logger for tests that do not read the log.
var discardLog = slog.New(slog.DiscardHandler)

// startT is Start on a loopback address, closed when t ends.
func startT(t *testing.T, listen, dir string, newCA bool) *Run {
	t.Helper()
	r, err := Start(listen, dir, newCA, time.Now(), discardLog)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// trustingOnly is an HTTPS client whose only root is the CA in caFile, as
// herald's vendor clients are with ca_file.
func trustingOnly(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(testutil.ReadFile(t, caFile)) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	c := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true},
		Timeout:   10 * time.Second,
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// getStats completes a TLS handshake with the simulators at url and reads
// their /sim/stats.
func getStats(c *http.Client, url string) error {
	resp, err := c.Get(url + "/sim/stats")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// TestSimCAReusedAcrossRestarts: a client that trusts only the ca.pem of
// the first `herald sim` start keeps reaching the simulators after they
// restart on the same --out directory and address; --new-ca replaces the
// CA, and then that client is refused (so the check can fail).
func TestSimCAReusedAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := startT(t, "127.0.0.1:0", dir, false)
	if !first.CACreated {
		t.Fatal("first start in an empty directory reused a CA")
	}
	caFile := filepath.Join(dir, CAFile)
	if first.CAFile != caFile {
		t.Fatalf("CAFile = %s, want %s", first.CAFile, caFile)
	}
	caPEM := testutil.ReadFile(t, caFile)
	st, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", CAKeyFile, st.Mode().Perm())
	}
	if cfg := testutil.ReadFile(t, first.ConfigPath); !bytes.Contains(cfg, []byte("ca_file: \""+caFile+"\"")) {
		t.Fatalf("herald-sim.yaml does not trust %s:\n%s", caFile, cfg)
	}
	client := trustingOnly(t, caFile) // built once, kept across the restart like herald's
	if err := getStats(client, first.URL); err != nil {
		t.Fatalf("first start: %v", err)
	}

	addr := strings.TrimPrefix(first.URL, "https://")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := startT(t, addr, dir, false)
	if err := getStats(client, second.URL); err != nil {
		t.Fatalf("second start, client trusting the first start's ca.pem: %v", err)
	}
	if second.CACreated {
		t.Fatal("second start made a new CA")
	}
	if got := testutil.ReadFile(t, caFile); !bytes.Equal(got, caPEM) {
		t.Fatal("second start rewrote ca.pem")
	}

	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	third := startT(t, addr, dir, true)
	if !third.CACreated || bytes.Equal(testutil.ReadFile(t, caFile), caPEM) {
		t.Fatal("--new-ca kept the old CA")
	}
	err = getStats(client, third.URL)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("after --new-ca, a client trusting the old ca.pem: err = %v, want an unknown-authority error", err)
	}
	if err := getStats(trustingOnly(t, caFile), third.URL); err != nil {
		t.Fatalf("after --new-ca, a client trusting the new ca.pem: %v", err)
	}
}

// TestSimCABrokenFilesNameTheFile: CA files (or a signing keys file) that
// cannot be used stop the start with an error naming the file at fault,
// and are left as they were; --new-ca then replaces them.
func TestSimCABrokenFilesNameTheFile(t *testing.T) {
	now := time.Now()
	other, err := newSimCA(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := other.KeyPEM()
	cases := []struct {
		name    string
		breakIt func(t *testing.T, certPath, keyPath string)
		at      time.Time // the start's clock
		blame   string    // CAFile, CAKeyFile or simKeysFile
		says    string
	}{
		{"corrupt ca.pem", func(t *testing.T, c, _ string) { testutil.WriteFile(t, c, "-----BEGIN CERTIFICATE-----\nnot base64\n") }, now, CAFile, "no PEM CERTIFICATE"},
		{"ca.pem holds a key", func(t *testing.T, c, k string) { testutil.WriteFile(t, c, string(testutil.ReadFile(t, k))) }, now, CAFile, "no PEM CERTIFICATE"},
		{"ca.pem garbage DER", func(t *testing.T, c, _ string) {
			testutil.WriteFile(t, c, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
		}, now, CAFile, "x509"},
		{"corrupt key", func(t *testing.T, _, k string) { testutil.WriteFile(t, k, "garbage") }, now, CAKeyFile, "no PEM block"},
		{"not a CA", func(t *testing.T, c, k string) { testutil.WriteFile(t, c, string(leafPEM(t, c, k))) }, now, CAFile, "not a CA certificate"},
		{"key of another CA", func(t *testing.T, _, k string) { testutil.WriteFile(t, k, string(otherKey)) }, now, CAKeyFile, "does not match the certificate"},
		{"key missing", func(t *testing.T, _, k string) { removeTestFile(t, k) }, now, CAKeyFile, "has no private key"},
		{"expired", func(*testing.T, string, string) {}, now.Add(simCAValidity + 24*time.Hour), CAFile, "expired"},
		{"not yet valid", func(*testing.T, string, string) {}, now.Add(-48 * time.Hour), CAFile, "not valid before"},
		{"corrupt signing keys", func(t *testing.T, c, _ string) {
			testutil.WriteFile(t, filepath.Join(filepath.Dir(c), simKeysFile), "garbage")
		}, now, simKeysFile, "not a PEM block"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := KeepState(dir, false, now, discardLog); err != nil {
				t.Fatal(err)
			}
			certPath, keyPath, keysPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile), filepath.Join(dir, simKeysFile)
			tc.breakIt(t, certPath, keyPath)
			before := fileSnapshot(t, certPath, keyPath, keysPath)

			r, err := Start("127.0.0.1:0", dir, false, tc.at, discardLog)
			if err == nil {
				_ = r.Close()
				t.Fatal("started with a broken CA")
			}
			if blamed := filepath.Join(dir, tc.blame); !strings.Contains(err.Error(), blamed) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not name %s and say %q", err, blamed, tc.says)
			}
			if !strings.Contains(err.Error(), "--new-ca") {
				t.Errorf("error %q does not tell about --new-ca", err)
			}
			if after := fileSnapshot(t, certPath, keyPath, keysPath); after != before {
				t.Fatalf("the CA files changed: %q, were %q", after, before)
			}

			r = startT(t, "127.0.0.1:0", dir, true)
			if !r.CACreated {
				t.Fatal("--new-ca did not make a CA")
			}
			if err := getStats(trustingOnly(t, certPath), r.URL); err != nil {
				t.Fatalf("after --new-ca: %v", err)
			}
		})
	}
}

// leafPEM is a server certificate issued by the CA in certPath/keyPath: a
// certificate that is not a CA's.
func leafPEM(t *testing.T, certPath, keyPath string) []byte {
	t.Helper()
	ca, err := simkit.LoadCA(testutil.ReadFile(t, certPath), testutil.ReadFile(t, keyPath), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := ca.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: conf.Certificates[0].Certificate[0]})
}

func removeTestFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// fileSnapshot is the content of the files, "<missing>" for one that is not
// there.
func fileSnapshot(t *testing.T, paths ...string) string {
	t.Helper()
	var b strings.Builder
	for _, p := range paths {
		c, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			c = []byte("<missing>")
		case err != nil:
			t.Fatal(err)
		}
		b.WriteString(p + "=" + string(c) + "\n")
	}
	return b.String()
}
