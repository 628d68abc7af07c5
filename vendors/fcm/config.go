package fcm

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
)

// Defaults.
const (
	// DefaultEndpoint is the SDK's own FCM v1 base URL, used when
	// Config.Endpoint is empty.
	DefaultEndpoint = "https://fcm.googleapis.com/v1"
	// DefaultTimeout bounds one HTTP request (and one token fetch).
	DefaultTimeout = 10 * time.Second
	// DefaultMaxConcurrent is the default number of requests in flight per
	// Client.
	DefaultMaxConcurrent = 100
	// MaxBatch is the most targets one Send takes (the SDK's SendEach limit;
	// FCM itself has no batch).
	MaxBatch = 500

	// Scope is the OAuth2 scope the service account asks for.
	Scope = "https://www.googleapis.com/auth/firebase.messaging"
)

// Config is everything the real client needs.
type Config struct {
	// Kind is vendors.FCM (Android tokens) or vendors.Web (FCM web-push
	// tokens); "" = vendors.FCM.
	Kind vendors.Kind
	// ProjectID is the Firebase project id (required).
	ProjectID string
	// CredentialsJSON is the service-account key file content (required):
	// type "service_account", client_email, private_key, token_uri.
	CredentialsJSON []byte
	// Endpoint is the FCM v1 base URL, scheme included and ending in /v1;
	// "" = DefaultEndpoint. The token endpoint is the JSON's token_uri.
	Endpoint string
	// TLS is the client TLS config; nil = system roots.
	TLS *tls.Config
	// Timeout bounds each HTTP request; 0 = DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for access-token expiry; nil = time.Now.
	Now func() time.Time
	// MaxConcurrent is the most requests in flight per Client, shared by
	// concurrent Sends; 0 = DefaultMaxConcurrent.
	MaxConcurrent int
}

// serviceAccount is the part of a service-account key file New checks.
type serviceAccount struct {
	Type        string `json:"type"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
	TokenURI    string `json:"token_uri"`
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Kind == "" {
		cfg.Kind = vendors.FCM
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
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

// Validate returns every problem of cfg at once, each naming its field.
// Credential values never appear in the error.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("fcm: config: "+format, args...))
	}
	switch cfg.Kind {
	case "", vendors.FCM, vendors.Web:
	default:
		bad("Kind %q is not %q or %q", cfg.Kind, vendors.FCM, vendors.Web)
	}
	if cfg.ProjectID == "" {
		bad("ProjectID is required")
	} else if strings.ContainsAny(cfg.ProjectID, "/?#% ") {
		bad("ProjectID %q is not a project id", cfg.ProjectID)
	}
	if len(cfg.CredentialsJSON) == 0 {
		bad("CredentialsJSON is required")
	} else if err := checkServiceAccount(cfg.CredentialsJSON); err != nil {
		errs = append(errs, err)
	}
	if cfg.Endpoint != "" {
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Timeout < 0 {
		bad("Timeout %v is negative", cfg.Timeout)
	}
	if cfg.MaxConcurrent < 0 {
		bad("MaxConcurrent %d is negative", cfg.MaxConcurrent)
	}
	return errors.Join(errs...)
}

// checkEndpoint enforces what the SDK needs: the URL is used verbatim, so
// it must carry its scheme and end in /v1.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("fcm: config: Endpoint: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("fcm: config: Endpoint %q needs an https:// (or http://) scheme and a host", endpoint)
	}
	if !strings.HasSuffix(u.Path, "/v1") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("fcm: config: Endpoint %q must end in /v1", endpoint)
	}
	return nil
}

// checkServiceAccount parses the key file far enough that a broken one
// fails New instead of every Send.
func checkServiceAccount(b []byte) error {
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return fmt.Errorf("fcm: config: CredentialsJSON is not JSON: %w", err)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("fcm: config: CredentialsJSON "+format, args...))
	}
	if sa.Type != "service_account" {
		bad("type %q is not \"service_account\"", sa.Type)
	}
	if sa.ClientEmail == "" {
		bad("client_email is required")
	}
	if sa.PrivateKey == "" {
		bad("private_key is required")
	} else if err := checkRSAKey([]byte(sa.PrivateKey)); err != nil {
		bad("private_key: %v", err)
	}
	if sa.TokenURI != "" {
		if u, err := url.Parse(sa.TokenURI); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad("token_uri %q is not an http(s) URL", sa.TokenURI)
		}
	}
	return errors.Join(errs...)
}

// checkRSAKey reports whether b is a PEM RSA private key (PKCS#8 or
// PKCS#1), without echoing any of it.
func checkRSAKey(b []byte) error {
	block, _ := pem.Decode(b)
	if block == nil {
		return errors.New("not PEM")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return errors.New("not a PKCS#8 or PKCS#1 private key")
	}
	if _, ok := k.(*rsa.PrivateKey); !ok {
		return errors.New("not an RSA key")
	}
	return nil
}
