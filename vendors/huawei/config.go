package huawei

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors/internal/httpclient"
)

// Huawei's real endpoints.
const (
	DefaultAuthURL = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
	DefaultPushURL = "https://push-api.cloud.huawei.com"
)

// MaxBatch is the most tokens one messages:send request may carry.
const MaxBatch = 1000

const defaultTimeout = 10 * time.Second

// Config is everything the real client needs. Credentials are
// already-resolved values; endpoints default to Huawei's real hosts.
type Config struct {
	AppID     string // AppGallery Connect app ID = OAuth client_id; required
	AppSecret string // OAuth client_secret; required

	AuthURL string // token endpoint; "" = DefaultAuthURL
	PushURL string // push API base; "" = DefaultPushURL

	// ReceiptID is the receipt configuration (android.receipt_id, set up
	// in AppGallery Connect) named in pushes that ask for an arrival
	// receipt (Notification.ReceiptRef, sent as android.bi_tag); "" =
	// the app's default receipt configuration.
	ReceiptID string

	TLS     *tls.Config      // nil = system roots
	Timeout time.Duration    // per HTTP request; 0 = 10s
	Now     func() time.Time // nil = time.Now
}

// withDefaults returns cfg with every empty field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	if cfg.PushURL == "" {
		cfg.PushURL = DefaultPushURL
	}
	cfg.PushURL = strings.TrimRight(cfg.PushURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// validate returns every problem with cfg, each naming its field.
func (cfg Config) validate() error {
	var errs []error
	if cfg.AppID == "" {
		errs = append(errs, errors.New("huawei: AppID is required"))
	}
	if cfg.AppSecret == "" {
		errs = append(errs, errors.New("huawei: AppSecret is required"))
	}
	for _, f := range []struct{ name, v string }{{"AuthURL", cfg.AuthURL}, {"PushURL", cfg.PushURL}} {
		if f.v == "" {
			continue
		}
		if !httpclient.IsHTTPURL(f.v) {
			errs = append(errs, fmt.Errorf("huawei: %s %q is not an http(s) URL", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}
