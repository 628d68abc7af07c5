package oppo

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors/internal/httpclient"
)

// Endpoints of OPPO Push (HeyTap Push).
const (
	// DefaultEndpoint is the China API host, used when Config.Endpoint is "".
	DefaultEndpoint = "https://api.push.oppomobile.com"
	// IntlEndpoint is the overseas API host for non-China registration ids.
	IntlEndpoint = "https://api-intl.push.oppomobile.com"
)

// Paths relative to the endpoint.
const (
	pathAuth    = "/server/v1/auth"
	pathUnicast = "/server/v1/message/notification/unicast"
	pathBatch   = "/server/v1/message/notification/unicast_batch"
)

const (
	defaultTimeout = 10 * time.Second
	// maxBatch is OPPO's limit on messages per unicast_batch request.
	maxBatch = 1000
	// tokenLifetime is how long OPPO says an auth_token is valid.
	tokenLifetime = 24 * time.Hour
	// tokenMargin is how much earlier than tokenLifetime the client
	// refreshes, so clock skew never makes it send an expired token.
	tokenMargin = time.Hour
)

// Config is everything the real client needs. Credentials are
// already-resolved values; the daemon reads them from files or env.
type Config struct {
	AppKey       string // OPPO push platform AppKey; required
	MasterSecret string // MasterSecret (not AppSecret), signs the auth call; required

	Endpoint string // API base URL; "" = DefaultEndpoint (IntlEndpoint for overseas)
	// ReceiptURL, when set, is where OPPO posts the arrival receipts of
	// notifications that carry a ReceiptRef (call_back_url); "" = none
	// asked for. At most 200 characters.
	ReceiptURL string

	TLS     *tls.Config      // nil = system roots
	Timeout time.Duration    // per HTTP request; 0 = 10s
	Now     func() time.Time // nil = time.Now
}

// withDefaults returns cfg with every empty field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// validate returns every problem with cfg at once, each naming its field.
func (cfg Config) validate() error {
	var errs []error
	if strings.TrimSpace(cfg.AppKey) == "" {
		errs = append(errs, errors.New("oppo: Config.AppKey is required"))
	}
	if strings.TrimSpace(cfg.MasterSecret) == "" {
		errs = append(errs, errors.New("oppo: Config.MasterSecret is required"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("oppo: Config.Timeout %v is negative", cfg.Timeout))
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("oppo: Config.Endpoint: %w", err))
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			errs = append(errs, fmt.Errorf("oppo: Config.Endpoint %q is not an http(s) URL", cfg.Endpoint))
		}
	}
	if cfg.ReceiptURL != "" {
		switch {
		case !httpclient.IsHTTPURL(cfg.ReceiptURL):
			errs = append(errs, fmt.Errorf("oppo: Config.ReceiptURL %q is not an http(s) URL", cfg.ReceiptURL))
		case utf8.RuneCountInString(cfg.ReceiptURL) > maxCallBackURL:
			errs = append(errs, fmt.Errorf("oppo: Config.ReceiptURL is %d characters, OPPO takes at most %d", utf8.RuneCountInString(cfg.ReceiptURL), maxCallBackURL))
		}
	}
	return errors.Join(errs...)
}
