package daemon

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors/sim"
)

// writeSimConfig writes, into dir, the simulators' CA (sims.CA, as
// ca.pem), the credentials they accept (one file per secret, mode 0600)
// and herald-sim.yaml: a daemon config whose vendors point at the
// simulators served at baseURL. It returns the config's path. `herald sim`
// keeps a CA of its own in dir instead (startSimRun).
func writeSimConfig(sims *sim.Sims, baseURL, dir string) (string, error) {
	abs, err := simOutDir(dir)
	if err != nil {
		return "", err
	}
	ca := filepath.Join(abs, simCAFile)
	if err := sims.CA.WriteFile(ca); err != nil {
		return "", err
	}
	return writeSimFiles(sims, baseURL, abs, ca)
}

// simOutDir creates dir (mode 0700) and returns its absolute path.
func simOutDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// writeSimFiles writes into abs the credentials the simulators accept and
// herald-sim.yaml, whose vendors trust the CA certificate at ca. Only the
// endpoints, accounts and secrets of sims' client configs are used, not
// their TLS. It returns the config's path.
func writeSimFiles(sims *sim.Sims, baseURL, abs, ca string) (string, error) {
	secret := func(name, value string) (string, error) {
		p := filepath.Join(abs, name)
		return p, os.WriteFile(p, []byte(value), 0o600)
	}
	c := sims.ClientConfigs(baseURL)
	type section struct {
		name, endpoint string
		account        [][2]string // key, value (values of *_file keys are paths)
		secrets        [][3]string // key, file name, content
	}
	secs := []section{
		{name: "apns", endpoint: c.APNs.ProductionURL,
			account: [][2]string{{"topic", c.APNs.Topic}, {"key_id", c.APNs.KeyID}, {"team_id", c.APNs.TeamID}, {"development_endpoint", c.APNs.DevelopmentURL}},
			secrets: [][3]string{{"auth_key_file", "apns.p8", string(c.APNs.AuthKey)}}},
		{name: "fcm", endpoint: c.FCM.Endpoint, account: [][2]string{{"project_id", c.FCM.ProjectID}},
			secrets: [][3]string{{"credentials_file", "fcm.json", string(c.FCM.CredentialsJSON)}}},
		{name: "web", endpoint: c.Web.Endpoint, account: [][2]string{{"project_id", c.Web.ProjectID}},
			secrets: [][3]string{{"credentials_file", "web.json", string(c.Web.CredentialsJSON)}}},
		{name: "huawei", endpoint: c.Huawei.PushURL, account: [][2]string{{"app_id", c.Huawei.AppID}, {"auth_endpoint", c.Huawei.AuthURL}},
			secrets: [][3]string{{"app_secret_file", "huawei.secret", c.Huawei.AppSecret}}},
		{name: "xiaomi", endpoint: c.Xiaomi.Endpoint, account: [][2]string{{"package_name", c.Xiaomi.PackageName}},
			secrets: [][3]string{{"app_secret_file", "xiaomi.secret", c.Xiaomi.AppSecret}}},
		{name: "oppo", endpoint: c.OPPO.Endpoint, account: [][2]string{{"app_key", c.OPPO.AppKey}},
			secrets: [][3]string{{"master_secret_file", "oppo.secret", c.OPPO.MasterSecret}}},
		{name: "vivo", endpoint: c.Vivo.Endpoint, account: [][2]string{{"app_id", c.Vivo.AppID}, {"app_key", c.Vivo.AppKey}},
			secrets: [][3]string{{"app_secret_file", "vivo.secret", c.Vivo.AppSecret}}},
	}
	var b strings.Builder
	b.WriteString("# Written by `herald sim`: a daemon config whose vendors all point at the\n")
	b.WriteString("# simulators at " + baseURL + ". Run: herald serve --config " + filepath.Join(abs, "herald-sim.yaml") + "\n")
	b.WriteString("vendors:\n")
	for _, s := range secs {
		fmt.Fprintf(&b, "  %s:\n    endpoint: %q\n    ca_file: %q\n    account:\n", s.name, s.endpoint, ca)
		for _, kv := range s.account {
			fmt.Fprintf(&b, "      %s: %q\n", kv[0], kv[1])
		}
		for _, sc := range s.secrets {
			p, err := secret(sc[1], sc[2])
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "      %s: %q\n", sc[0], p)
		}
	}
	// The simulators, like the real OPPO and Xiaomi services, refuse
	// notifications without a channel: give the config the same default
	// push resource simulator mode uses.
	def := simulatorDefaultResource()
	b.WriteString("resources:\n  default:\n    vendors:\n")
	for _, v := range slices.Sorted(maps.Keys(def.Vendors)) {
		rv := def.Vendors[v]
		fmt.Fprintf(&b, "      %s: {channel_id: %q, category: %q, notify_level: %d}\n", v, rv.ChannelID, rv.Category, rv.NotifyLevel)
	}
	path := filepath.Join(abs, "herald-sim.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", err
	}
	// The file must load and validate: it is what the user runs next.
	cfg, err := configs.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return "", fmt.Errorf("generated simulator config does not validate: %w", err)
	}
	return path, nil
}

// The CA `herald sim` keeps in its --out directory.
const (
	simCAFile    = "ca.pem"     // the CA certificate: what ca_file names (mode 0644)
	simCAKeyFile = "ca-key.pem" // its private key, PKCS #8 (mode 0600)
	// simCAValidity is how long a new CA is valid. It outlives many
	// restarts on purpose: a herald trusting DIR/ca.pem cannot reload it.
	simCAValidity = 10 * 365 * 24 * time.Hour
	// simLeafValidity is how long each start's server certificate is valid
	// (never past the CA's own end).
	simLeafValidity = 365 * 24 * time.Hour
)

// simCA is the certificate authority of `herald sim`. It is kept in the
// --out directory and reused by every start, which issues a new server
// certificate from it, so a herald configured with ca_file: DIR/ca.pem
// keeps trusting the simulators after they restart.
type simCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// loadOrCreateSimCA returns the CA kept in dir: ca.pem and ca-key.pem as
// an earlier start wrote them, or, when neither exists or fresh is set
// (--new-ca), a new CA written there. created tells which. Files that
// exist but are unreadable, corrupt, expired or do not pair up are an
// error naming the file; they are never replaced without fresh.
func loadOrCreateSimCA(dir string, fresh bool, now time.Time) (ca *simCA, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, simCAFile), filepath.Join(dir, simCAKeyFile)
	if !fresh {
		certPEM, certErr := os.ReadFile(certPath)
		keyPEM, keyErr := os.ReadFile(keyPath)
		switch {
		case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
			// The first start in dir: make one.
		case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
			return nil, false, fmt.Errorf("sim CA: %w", certErr) // names the file
		case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
			return nil, false, fmt.Errorf("sim CA: %w", keyErr)
		case certErr != nil:
			return nil, false, fmt.Errorf("sim CA: %s is missing but %s exists; run herald sim --new-ca to make a new CA", certPath, keyPath)
		case keyErr != nil:
			return nil, false, fmt.Errorf("sim CA: %s has no private key %s beside it (written by an older herald sim, or not by herald sim); "+
				"run herald sim --new-ca to replace it with a new CA, then restart every herald that trusts it", certPath, keyPath)
		default:
			ca, err := parseSimCA(certPath, certPEM, keyPath, keyPEM, now)
			if err != nil {
				return nil, false, fmt.Errorf("sim CA: %w; run herald sim --new-ca to replace the CA", err)
			}
			return ca, false, nil
		}
	}
	ca, keyPEM, certPEM, err := newSimCA(now)
	if err != nil {
		return nil, false, fmt.Errorf("sim CA: %w", err)
	}
	// The key first: a crash between the two leaves a pair that does not
	// match, which the next start reports, never a certificate whose key
	// is lost.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, false, fmt.Errorf("sim CA: %w", err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, false, fmt.Errorf("sim CA: %w", err)
	}
	return ca, true, nil
}

// newSimCA makes a CA valid for simCAValidity from now, with its key and
// certificate in PEM. It may only sign server certificates (MaxPathLen 0).
func newSimCA(now time.Time) (ca *simCA, keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "herald simulator CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(simCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return &simCA{cert: cert, key: key},
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// parseSimCA reads a CA certificate and its key as loadOrCreateSimCA wrote
// them; every error names the file at fault.
func parseSimCA(certPath string, certPEM []byte, keyPath string, keyPEM []byte, now time.Time) (*simCA, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	switch {
	case !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("%s: not a CA certificate", certPath)
	case now.After(cert.NotAfter):
		return nil, fmt.Errorf("%s: expired on %s", certPath, cert.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(cert.NotBefore):
		return nil, fmt.Errorf("%s: not valid before %s", certPath, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("%s: no PEM block", keyPath)
	}
	var key any
	switch kb.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	default:
		err = fmt.Errorf("PEM block %q is not a private key", kb.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	pub, comparable := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !comparable || !pub.Equal(signer.Public()) {
		return nil, fmt.Errorf("%s is not the private key of %s", keyPath, certPath)
	}
	return &simCA{cert: cert, key: signer}, nil
}

// serverTLS issues a new server certificate for hosts (names or IPs;
// localhost, 127.0.0.1 and ::1 are always in it) and returns a server TLS
// config with it, offering HTTP/2.
func (ca *simCA) serverTLS(now time.Time, hosts ...string) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(simLeafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "herald simulator"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sim CA: server certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// randomSerial is a random 128-bit certificate serial number.
func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// writeFileAtomic replaces path with data (mode perm) through a temporary
// file in the same directory, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
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
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
