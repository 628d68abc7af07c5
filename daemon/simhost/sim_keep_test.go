package simhost

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// heraldSenders builds every vendor's client from herald-sim.yaml the way
// herald serve does: keys, credentials and CA read from the files.
func heraldSenders(t *testing.T, configPath string) map[vendors.Kind]vendors.Sender {
	t.Helper()
	cfg, err := configs.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[vendors.Kind]vendors.Sender{}
	for _, k := range vendors.Kinds() {
		s, err := daemon.VendorClient(k, *cfg.Vendors.ByName()[string(k)], daemon.Env{Getenv: os.Getenv, ReadFile: os.ReadFile})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if c, ok := s.(io.Closer); ok {
			t.Cleanup(func() { _ = c.Close() })
		}
		out[k] = s
	}
	return out
}

// TestSimKeysReusedAcrossRestarts: clients built once from the first
// start's herald-sim.yaml (as a running herald holds them) keep delivering
// to every vendor after the simulators restart on the same directory and
// address; the files herald reads are unchanged. Without sim-keys.pem the
// next start makes new keys, and then the APNs, FCM and Web clients are
// refused (so the check can fail).
func TestSimKeysReusedAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := startT(t, "127.0.0.1:0", dir, false)
	if !first.KeysCreated {
		t.Fatal("first start reused signing keys")
	}
	herald := []string{simKeysFile, "apns.p8", "fcm.json", "web.json"}
	before := fileSnapshot(t, joinAll(dir, herald)...)
	senders := heraldSenders(t, first.ConfigPath)
	for _, k := range vendors.Kinds() {
		if r := simtest.SendUntilAnswered(t, senders[k], "first-"+string(k)); !r.OK() {
			t.Fatalf("%s, first start: %+v", k, r)
		}
	}
	addr := strings.TrimPrefix(first.URL, "https://")
	_ = first.Close()

	second := startT(t, addr, dir, false)
	if second.KeysCreated {
		t.Fatal("second start made new signing keys")
	}
	if after := fileSnapshot(t, joinAll(dir, herald)...); after != before {
		t.Fatal("second start changed the key files herald reads")
	}
	for _, k := range vendors.Kinds() {
		if r := simtest.SendUntilAnswered(t, senders[k], "second-"+string(k)); !r.OK() {
			t.Errorf("%s, after the restart, client from the first start: %+v", k, r)
		}
	}
	_ = second.Close()

	removeTestFile(t, filepath.Join(dir, simKeysFile))
	third := startT(t, addr, dir, false)
	if !third.KeysCreated || third.CACreated {
		t.Fatalf("without sim-keys.pem: keys created %v, CA created %v; want new keys, the same CA", third.KeysCreated, third.CACreated)
	}
	for _, k := range []vendors.Kind{vendors.APNs, vendors.FCM, vendors.Web} {
		if r := simtest.SendUntilAnswered(t, senders[k], "third-"+string(k)); r.Verdict != vendors.CredentialsBroken {
			t.Errorf("%s with new simulator keys: %+v, want credentials_broken", k, r)
		}
	}
}

func joinAll(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}

// TestSimCAConcurrentFirstStarts: first starts racing on one empty
// directory all end up with the CA and keys on disk, and the files pair.
func TestSimCAConcurrentFirstStarts(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	const n = 4
	states := make([]State, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { states[i], errs[i] = KeepState(dir, false, now, discardLog) })
	}
	wg.Wait()
	certPEM, keyPEM := testutil.ReadFile(t, filepath.Join(dir, CAFile)), testutil.ReadFile(t, filepath.Join(dir, CAKeyFile))
	if _, err := simkit.LoadCA(certPEM, keyPEM, now); err != nil {
		t.Fatalf("the CA files do not pair: %v", err)
	}
	keysPEM := testutil.ReadFile(t, filepath.Join(dir, simKeysFile))
	for i, st := range states {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		b, err := st.Keys.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(st.CA.CertPEM(), certPEM) || !bytes.Equal(st.CA.KeyPEM(), keyPEM) || !bytes.Equal(b, keysPEM) {
			t.Errorf("start %d serves another CA or keys than the files hold", i)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestSimCACreateAfterLostRace: a first start that finds the other start's
// key (or key and certificate) already linked in uses them, and the pair
// on disk matches.
func TestSimCACreateAfterLostRace(t *testing.T) {
	now := time.Now()
	other, err := newSimCA(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		withCert bool
	}{{"key linked", false}, {"key and cert linked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
			testutil.WriteFile(t, keyPath, string(other.KeyPEM()))
			if tc.withCert {
				testutil.WriteFile(t, certPath, string(other.CertPEM()))
			}
			ca, created, err := createSimCA(certPath, keyPath, now)
			if err != nil {
				t.Fatal(err)
			}
			if created || !bytes.Equal(ca.KeyPEM(), other.KeyPEM()) || !bytes.Equal(ca.CertPEM(), testutil.ReadFile(t, certPath)) {
				t.Fatalf("created %v; the CA is not the other start's key with the certificate on disk", created)
			}
			if tc.withCert && !bytes.Equal(ca.CertPEM(), other.CertPEM()) {
				t.Fatal("replaced the other start's certificate")
			}
		})
	}
}

// TestSimCAKeyWithoutCertIsCertified: a start that finds the CA key but
// no certificate (what it sees while a concurrent first start is between
// its two files, after one died there, or after ca.pem was deleted)
// certifies that key instead of failing. The pair on disk matches, and a
// herald still trusting the lost certificate trusts the simulators: the
// CA's name and key are the same.
func TestSimCAKeyWithoutCertIsCertified(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if _, err := KeepState(dir, false, time.Now(), discardLog); err != nil {
		t.Fatal(err)
	}
	lost := filepath.Join(t.TempDir(), "lost-ca.pem")
	testutil.WriteFile(t, lost, string(testutil.ReadFile(t, certPath)))
	keyPEM := testutil.ReadFile(t, keyPath)
	removeTestFile(t, certPath)

	r := startT(t, "127.0.0.1:0", dir, false)
	if r.CACreated {
		t.Fatal("reported a new CA; want the key on disk certified")
	}
	if !bytes.Equal(testutil.ReadFile(t, keyPath), keyPEM) {
		t.Fatal("the CA key was replaced")
	}
	if _, err := simkit.LoadCA(testutil.ReadFile(t, certPath), keyPEM, time.Now()); err != nil {
		t.Fatalf("the CA files do not pair: %v", err)
	}
	if err := getStats(trustingOnly(t, lost), r.URL); err != nil {
		t.Fatalf("a client trusting the lost certificate: %v", err)
	}
}

// TestSimStateWarnings: a key file others may read and a CA expiring
// within 30 days are warned about; an old leftover temporary file of ours
// is removed, a fresh one (a concurrent start's) is kept.
func TestSimStateWarnings(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	soon, err := simkit.NewCAWith(simkit.CAConfig{Now: now, Validity: 10 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, CAKeyFile)
	testutil.WriteFile(t, filepath.Join(dir, CAFile), string(soon.CertPEM()))
	testutil.WriteFile(t, keyPath, string(soon.KeyPEM()))
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, "."+CAFile+".123"), filepath.Join(dir, "."+simKeysFile+".456")
	testutil.WriteFile(t, stale, "half")
	testutil.WriteFile(t, fresh, "half")
	if err := os.Chtimes(stale, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	if _, err := KeepState(dir, false, now, slog.New(slog.NewTextHandler(&logBuf, nil))); err != nil {
		t.Fatal(err)
	}
	log := logBuf.String()
	for _, want := range []string{"level=WARN msg=\"private key file is readable", "file=" + keyPath, "level=WARN msg=\"the simulators' CA expires soon", "days_left=9"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file not removed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file removed: %v", err)
	}
}

// stoppedServer is a server that stopped serving on its own.
type stoppedServer struct{ err error }

func (s stoppedServer) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (s stoppedServer) Err() error { return s.err }

// TestWaitEnds: Wait returns the serve error when the simulators stop
// serving on their own, and nil when told to stop.
func TestWaitEnds(t *testing.T) {
	if err := wait(context.Background(), stoppedServer{errors.New("sim: serve https://x: accept: boom")}); err == nil || !strings.Contains(err.Error(), "accept: boom") {
		t.Fatalf("after a serve error: %v, want it", err)
	}
	if err := wait(context.Background(), stoppedServer{}); err == nil {
		t.Fatal("a server that stopped without an error: nil, want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	run := startT(t, "127.0.0.1:0", t.TempDir(), false)
	if err := run.Wait(ctx); err != nil {
		t.Fatalf("stopped: %v, want nil", err)
	}
}
