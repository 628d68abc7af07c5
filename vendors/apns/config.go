package apns

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/token"
)

// Defaults applied by New.
const (
	DefaultTimeout       = 10 * time.Second // per HTTP request
	DefaultMaxConcurrent = 500              // requests of one Client in flight at once
	// MaxBatch is the most targets one Send accepts. APNs has no batch: each
	// target is its own HTTP/2 stream, at most MaxConcurrent at a time
	// over all of a Client's Sends.
	MaxBatch = 1000
)

// Config is everything the real client needs. Credentials are
// already-resolved values (the daemon reads files and env); exactly one auth
// mode is set: AuthKey+KeyID+TeamID (token auth) or Certificate (+
// CertPassword) (certificate auth).
type Config struct {
	// Topic is the app's bundle ID, the apns-topic of alert and background
	// pushes; VoIP pushes go to Topic+".voip". Required.
	Topic string

	// AuthKey is the .p8 signing key (PEM, PKCS#8 EC P-256) for token auth.
	AuthKey []byte
	// KeyID is the 10-character ID of AuthKey (the JWT "kid").
	KeyID string
	// TeamID is the Apple developer team ID (the JWT "iss").
	TeamID string

	// Certificate is the APNs client certificate for certificate auth, either
	// PEM (certificate and private key, the key optionally encrypted) or
	// PKCS#12 (.p12).
	Certificate []byte
	// CertPassword decrypts Certificate; "" when it is not encrypted.
	CertPassword string

	// ProductionURL is the production host; "" = apns2.HostProduction.
	ProductionURL string
	// DevelopmentURL is the sandbox host; "" = apns2.HostDevelopment.
	DevelopmentURL string

	// TLS is the client TLS configuration (RootCAs); nil = system roots. The
	// client certificate of certificate auth is added to a clone of it.
	TLS *tls.Config
	// Timeout bounds each HTTP request (dial included); 0 = 10s.
	Timeout time.Duration
	// Now is the clock for apns-expiration and the JWT "iat"; nil = time.Now.
	Now func() time.Time
	// MaxConcurrent is how many requests of this Client are in flight at
	// once, shared by concurrent Sends (the stream workers); 0 = 500.
	MaxConcurrent int
}

// withDefaults returns cfg with every zero default filled in.
func (cfg Config) withDefaults() Config {
	if cfg.ProductionURL == "" {
		cfg.ProductionURL = apns2.HostProduction
	}
	if cfg.DevelopmentURL == "" {
		cfg.DevelopmentURL = apns2.HostDevelopment
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	return cfg
}

// validate returns every problem with cfg at once, each naming its field.
func (cfg Config) validate() error {
	var errs []error
	if cfg.Topic == "" {
		errs = append(errs, errors.New("apns: config: Topic is required (the app bundle ID)"))
	}
	hasKey, hasCert := len(cfg.AuthKey) > 0, len(cfg.Certificate) > 0
	switch {
	case hasKey && hasCert:
		errs = append(errs, errors.New("apns: config: set AuthKey or Certificate, not both"))
	case !hasKey && !hasCert:
		errs = append(errs, errors.New("apns: config: AuthKey (token auth) or Certificate (certificate auth) is required"))
	case hasKey:
		if cfg.KeyID == "" {
			errs = append(errs, errors.New("apns: config: KeyID is required with AuthKey"))
		}
		if cfg.TeamID == "" {
			errs = append(errs, errors.New("apns: config: TeamID is required with AuthKey"))
		}
	}
	if cfg.MaxConcurrent < 0 {
		errs = append(errs, errors.New("apns: config: MaxConcurrent must not be negative"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("apns: config: Timeout must not be negative"))
	}
	return errors.Join(errs...)
}

// parseAuthKey parses the .p8 key. The error never quotes the key.
func parseAuthKey(p8 []byte) (*ecdsa.PrivateKey, error) {
	key, err := token.AuthKeyFromBytes(p8)
	switch {
	case err == nil:
	case errors.Is(err, token.ErrAuthKeyNotPem), errors.Is(err, token.ErrAuthKeyNotECDSA):
		return nil, fmt.Errorf("apns: config: AuthKey: %w", err)
	default: // the DER inside the PEM; asn1's text helps no one
		return nil, errors.New("apns: config: AuthKey: not a .p8 auth key (a PKCS#8 EC private key in PEM, as Apple issues it)")
	}
	return key, nil
}

// parseCertificate loads a PEM or PKCS#12 client certificate. The error never
// quotes the certificate or its password.
func parseCertificate(b []byte, password string) (tls.Certificate, error) {
	var (
		cert tls.Certificate
		err  error
	)
	if bytes.Contains(b, []byte("-----BEGIN ")) {
		cert, err = certificate.FromPemBytes(b, password)
	} else {
		cert, err = certificate.FromP12Bytes(b, password)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("apns: config: Certificate: %w", err)
	}
	return cert, nil
}
