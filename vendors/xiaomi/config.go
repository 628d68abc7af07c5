package xiaomi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors/internal/httpclient"
)

// Real MiPush endpoints. Devices registered outside mainland China must be
// reached through the global host of their region.
const (
	EndpointChina     = "https://api.xmpush.xiaomi.com"
	EndpointSingapore = "https://sgp-api.xmpush.global.xiaomi.com" // other countries/regions
	EndpointRussia    = "https://ru-api.xmpush.global.xiaomi.com"
	EndpointIndia     = "https://idmb-api.xmpush.global.xiaomi.com"
	EndpointEurope    = "https://fr-api.xmpush.global.xiaomi.com" // EEA + UK
)

// SendPath is the MiPush "push one message to a list of regids" API.
const SendPath = "/v3/message/regid"

// MultiPath is the MiPush "push a different message to each regid" API:
// one form field, messages, holding the JSON array
// [{"target":"<regid>","message":{…}},…]. The path and the shape are those
// of Xiaomi's server SDKs (Java Constants.XmPushRequestPath
// V2_SEND_MULTI_MESSAGE_WITH_REGID and Sender.send(List<TargetedMessage>),
// PHP PushRequestPath and Sender::multiSend, the Go SDKs' MultiRegIdURL and
// buildTargetedMessageParam); MiPush's public documentation lists it
// without the body's details. Its answer is assumed, unverified, to be the
// SendPath answer (the same codes, and bad_regids for a partly bad batch,
// itself unconfirmed for SendPath), and is read as one.
const MultiPath = "/v2/multi_messages/regids"

// MaxBatch is the most registration ids one request may carry.
const MaxBatch = 1000

// DefaultTimeout bounds each HTTP request when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Config is everything the real client needs. Credentials are
// already-resolved values.
type Config struct {
	// AppSecret is the app's MiPush AppSecret, sent as
	// "Authorization: key=<AppSecret>". Required.
	AppSecret string
	// PackageName is the Android package, sent as restricted_package_name.
	// Required.
	PackageName string
	// ChannelID is the extra.channel_id used when a Notification carries no
	// Channel; "" = none: the message goes without extra.channel_id, which
	// MiPush takes (its default channel, with the tightest daily limits).
	ChannelID string
	// Endpoint is the API base URL; "" = EndpointChina.
	Endpoint string
	// ReceiptURL, when set, is where MiPush posts the arrival receipts of
	// notifications that carry a ReceiptRef (extra.callback); "" = no
	// receipts are asked for.
	ReceiptURL string
	// TLS is the client TLS configuration; nil = system roots.
	TLS *tls.Config
	// Timeout bounds each HTTP request; 0 = DefaultTimeout.
	Timeout time.Duration
	// Now is the clock (for the daily-quota reset); nil = time.Now.
	Now func() time.Time
	// HTTPClient, when set, supplies the transport, jar and timeout (TLS
	// is then ignored); nil = a client of its own with HTTP/2 over TLS.
	// Either way redirects are never followed: New uses a copy of this
	// client with its own CheckRedirect and leaves the caller's unchanged.
	HTTPClient *http.Client
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Endpoint == "" {
		c.Endpoint = EndpointChina
	}
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate returns every problem of c at once, each naming its field.
func (c Config) validate() error {
	var errs []error
	if c.AppSecret == "" {
		errs = append(errs, errors.New("xiaomi: config: AppSecret is required"))
	} else if strings.ContainsFunc(c.AppSecret, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, errors.New("xiaomi: config: AppSecret contains whitespace or control characters"))
	}
	if c.PackageName == "" {
		errs = append(errs, errors.New("xiaomi: config: PackageName is required"))
	} else if strings.ContainsAny(c.PackageName, ", \t\r\n") {
		errs = append(errs, fmt.Errorf("xiaomi: config: PackageName %q must be one package name", c.PackageName))
	}
	if c.Endpoint != "" && !httpclient.IsHTTPURL(c.Endpoint) {
		errs = append(errs, fmt.Errorf("xiaomi: config: Endpoint %q is not an http(s) URL", c.Endpoint))
	}
	if c.ReceiptURL != "" && !httpclient.IsHTTPURL(c.ReceiptURL) {
		errs = append(errs, fmt.Errorf("xiaomi: config: ReceiptURL %q is not an http(s) URL", c.ReceiptURL))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("xiaomi: config: Timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}
