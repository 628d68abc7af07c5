package simhost

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

// What `herald sim` keeps in its --out directory across restarts, so that
// a herald configured from DIR/herald-sim.yaml keeps working when the
// simulators restart: the CA it trusts (ca_file) and the signing keys its
// APNs .p8 and FCM/Web service-account files hold.
const (
	CAFile      = "ca.pem"       // the CA certificate: what ca_file names (mode 0644)
	CAKeyFile   = "ca-key.pem"   // its private key, PKCS #8 (mode 0600)
	simKeysFile = "sim-keys.pem" // the APNs, FCM and Web simulators' signing keys (mode 0600)
	// simCAValidity is how long a new CA is valid. It outlives many
	// restarts on purpose: a herald trusting DIR/ca.pem cannot reload it.
	simCAValidity = 10 * 365 * 24 * time.Hour
	// simCAExpiryWarning: a CA expiring sooner than this is warned about.
	simCAExpiryWarning = 30 * 24 * time.Hour
	// simTempMaxAge: a temporary file of ours older than this is a
	// leftover of a start that died (a live start links or drops its own
	// within milliseconds).
	simTempMaxAge = time.Minute
)

// State is what a `herald sim` start serves with: the CA and signing
// keys kept in its directory, and whether this start made them.
type State struct {
	CA          *simkit.CA
	CACreated   bool // false = the CA an earlier start left in DIR
	Keys        *sim.Keys
	KeysCreated bool
}

// KeepState returns the CA and signing keys kept in dir: as an earlier
// start wrote them, or, where none exist yet or fresh is set (--new-ca),
// new ones written there. Files that exist but are unreadable, corrupt,
// expired or do not pair up are an error naming the file; they are never
// replaced without fresh. Warnings (a CA expiring soon, a private key file
// others may read) go to log.
func KeepState(dir string, fresh bool, now time.Time, log *slog.Logger) (State, error) {
	var st State
	var err error
	removeStaleTemps(dir, now, log)
	if st.CA, st.CACreated, err = keepSimCA(dir, fresh, now, log); err != nil {
		return State{}, err
	}
	if st.Keys, st.KeysCreated, err = keepSimKeys(dir, fresh, log); err != nil {
		return State{}, err
	}
	if left := st.CA.NotAfter().Sub(now); left < simCAExpiryWarning {
		log.Warn("the simulators' CA expires soon: run herald sim --new-ca before then, and restart every herald that trusts it",
			"ca_file", filepath.Join(dir, CAFile), "expires", st.CA.NotAfter().UTC().Format(time.RFC3339), "days_left", int(left.Hours()/24))
	}
	return st, nil
}

func keepSimCA(dir string, fresh bool, now time.Time, log *slog.Logger) (*simkit.CA, bool, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if fresh {
		ca, err := newSimCA(now, nil)
		if err != nil {
			return nil, false, err
		}
		// The key first: a crash between the two leaves a pair that does
		// not match, which the next start reports, never a certificate
		// whose key is lost.
		if err := replaceFile(keyPath, ca.KeyPEM(), 0o600); err != nil {
			return nil, false, fmt.Errorf("sim CA: %w", err)
		}
		if err := replaceFile(certPath, ca.CertPEM(), 0o644); err != nil {
			return nil, false, fmt.Errorf("sim CA: %w", err)
		}
		return ca, true, nil
	}
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && (keyErr == nil || errors.Is(keyErr, fs.ErrNotExist)):
		// The first start in dir, or a key with no certificate yet: a
		// concurrent first start between its two files, or one that died
		// there. createSimCA certifies the key on disk where there is one
		// and loads a certificate that appears meanwhile.
		return createSimCA(certPath, keyPath, now)
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return nil, false, fmt.Errorf("sim CA: %w", certErr) // names the file
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return nil, false, fmt.Errorf("sim CA: %w", keyErr)
	case keyErr != nil:
		return nil, false, fmt.Errorf("sim CA: %s has no private key %s beside it (written by an older herald sim, or not by herald sim); "+
			"run herald sim --new-ca to replace it with a new CA, then restart every herald that trusts it", certPath, keyPath)
	}
	ca, err := simkit.LoadCA(certPEM, keyPEM, now)
	if err != nil {
		return nil, false, blameCA(err, certPath, keyPath)
	}
	warnIfShared(keyPath, log)
	return ca, false, nil
}

// createSimCA makes the first CA in a directory. Each file is created only
// where none exists, so when two first starts race, the pair on disk still
// matches: whoever loses the key certifies the winner's key, and whoever
// loses the certificate loads the winner's.
func createSimCA(certPath, keyPath string, now time.Time) (*simkit.CA, bool, error) {
	ca, err := newSimCA(now, nil)
	if err != nil {
		return nil, false, err
	}
	keyMade, err := createExclusive(keyPath, ca.KeyPEM(), 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("sim CA: %w", err)
	}
	if !keyMade {
		keyPEM, err := os.ReadFile(keyPath)
		if err != nil {
			return nil, false, fmt.Errorf("sim CA: %w", err)
		}
		if ca, err = newSimCA(now, keyPEM); err != nil {
			return nil, false, blameCA(err, certPath, keyPath)
		}
	}
	certMade, err := createExclusive(certPath, ca.CertPEM(), 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("sim CA: %w", err)
	}
	if !certMade {
		certPEM, err := os.ReadFile(certPath)
		if err != nil {
			return nil, false, fmt.Errorf("sim CA: %w", err)
		}
		if ca, err = simkit.LoadCA(certPEM, ca.KeyPEM(), now); err != nil {
			return nil, false, blameCA(err, certPath, keyPath)
		}
	}
	return ca, keyMade && certMade, nil
}

// newSimCA makes a CA valid for simCAValidity from now, with keyPEM as
// its key (nil = a new key).
func newSimCA(now time.Time, keyPEM []byte) (*simkit.CA, error) {
	ca, err := simkit.NewCAWith(simkit.CAConfig{Now: now, Validity: simCAValidity, KeyPEM: keyPEM})
	if err != nil {
		return nil, fmt.Errorf("sim CA: %w", err)
	}
	return ca, nil
}

// blameCA names the file at fault in a simkit.LoadCA error.
func blameCA(err error, certPath, keyPath string) error {
	file := certPath
	if errors.Is(err, simkit.ErrCAKey) {
		file = keyPath
	}
	return fmt.Errorf("sim CA: %s: %w; run herald sim --new-ca to replace the CA, then restart every herald that trusts it", file, err)
}

func keepSimKeys(dir string, fresh bool, log *slog.Logger) (*sim.Keys, bool, error) {
	path := filepath.Join(dir, simKeysFile)
	load := func(b []byte) (*sim.Keys, error) {
		keys, err := sim.ParseKeys(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; run herald sim --new-ca to make new keys (and a new CA), then restart every herald that uses them", path, err)
		}
		return keys, nil
	}
	if !fresh {
		b, err := os.ReadFile(path)
		if err == nil {
			keys, err := load(b)
			if err == nil {
				warnIfShared(path, log)
			}
			return keys, false, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
	}
	keys, err := sim.NewKeys()
	if err != nil {
		return nil, false, err
	}
	b, err := keys.MarshalPEM()
	if err != nil {
		return nil, false, err
	}
	if fresh {
		return keys, true, replaceFile(path, b, 0o600)
	}
	made, err := createExclusive(path, b, 0o600)
	if err != nil || made {
		return keys, made, err
	}
	if b, err = os.ReadFile(path); err != nil { // another start's, made first
		return nil, false, err
	}
	keys, err = load(b)
	return keys, false, err
}

// warnIfShared warns when a private key file is open to group or others.
func warnIfShared(path string, log *slog.Logger) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("private key file is readable or writable by others than its owner: chmod 600 it", "file", path, "mode", st.Mode().Perm().String())
	}
}

// createExclusive writes data (mode perm) to path unless path exists,
// through a temporary file linked into place: a reader never sees half a
// file, and a file another start made first is never replaced. It reports
// whether it made path.
func createExclusive(path string, data []byte, perm fs.FileMode) (bool, error) {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return true, syncDir(filepath.Dir(path))
}

// replaceFile replaces path with data (mode perm) through a temporary file
// renamed into place.
func replaceFile(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data, synced, to a new temporary file beside path,
// named .<base>.<random>, and returns its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}

// syncDir makes the directory's new entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeStaleTemps removes writeTemp's leftovers for the kept files: those
// older than simTempMaxAge, so a concurrent start's are left alone.
func removeStaleTemps(dir string, now time.Time, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // reading the kept files reports it
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isSimTemp(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if info, err := e.Info(); err != nil || now.Sub(info.ModTime()) < simTempMaxAge {
			continue
		}
		if err := os.Remove(p); err != nil {
			log.Warn("cannot remove a leftover temporary file", "file", p, "err", err)
			continue
		}
		log.Info("removed a leftover temporary file", "file", p)
	}
}

func isSimTemp(name string) bool {
	for _, kept := range []string{CAFile, CAKeyFile, simKeysFile} {
		if strings.HasPrefix(name, "."+kept+".") {
			return true
		}
	}
	return false
}
