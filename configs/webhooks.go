package configs

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/herald-push/herald/store"
)

// Webhooks are the endpoints herald tells what became of messages,
// pushes, tokens and calls (the webhooks package; a restart applies a
// change).
type Webhooks struct {
	Endpoints    []WebhookEndpoint `yaml:"endpoints"`     // default none (empty list): no events are written
	BatchMax     int               `yaml:"batch_max"`     // events per request, 1..1000; default 100
	MaxAttempts  int               `yaml:"max_attempts"`  // failed deliveries before an event is dead-lettered, 1..1000; default 20
	MinBackoff   Duration          `yaml:"min_backoff"`   // wait after a failed delivery, doubled after each; default 1s
	MaxBackoff   Duration          `yaml:"max_backoff"`   // the wait's cap, ≤ 24h; default 10m
	ReceiptDelay Duration          `yaml:"receipt_delay"` // a message's receipts gathered into one receipt.delivered, 1s..1h; default 10s
}

// WebhookEndpoint is one receiver of events.
type WebhookEndpoint struct {
	Name       string   `yaml:"name"`        // required, unique, [a-z0-9_-]{1,64}; names it in logs, metrics and the admin API
	URL        string   `yaml:"url"`         // required, http(s)
	Events     []string `yaml:"events"`      // event types it takes; default empty = all
	SecretsEnv []string `yaml:"secrets_env"` // 1 or 2 environment variables holding its signing secrets (whsec_<base64>, or any string); each signs
	Timeout    Duration `yaml:"timeout"`     // one delivery's time limit, 1s..60s; default 0 = 10s
	CAFile     string   `yaml:"ca_file"`     // extra CA certificate (PEM) to trust for url, besides the system's; default ""
}

// EventsOrAll is Events, or every event type when it is empty.
func (e WebhookEndpoint) EventsOrAll() []string {
	if len(e.Events) == 0 {
		return store.EventTypes()
	}
	return e.Events
}

// Secrets reads the endpoint's secrets from the environment (getenv nil =
// os.Getenv). Errors name the variable, never its value.
func (e WebhookEndpoint) Secrets(getenv func(string) string) ([]string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var out []string
	for _, name := range e.SecretsEnv {
		v := getenv(name)
		if v == "" {
			return nil, fmt.Errorf("webhook endpoint %q: environment variable %q is unset or empty", e.Name, name)
		}
		out = append(out, v)
	}
	return out, nil
}

var endpointName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

func validateWebhooks(ck *checker, w Webhooks) {
	ck.intRange("webhooks.batch_max", w.BatchMax, 1, 1000)
	ck.intRange("webhooks.max_attempts", w.MaxAttempts, 1, 1000)
	ck.positive("webhooks.min_backoff", w.MinBackoff)
	if w.MaxBackoff < w.MinBackoff || w.MaxBackoff > Duration(24*time.Hour) {
		ck.add("webhooks.max_backoff", "must be between min_backoff (%s) and 24h (got %s)", w.MinBackoff, w.MaxBackoff)
	}
	if w.ReceiptDelay < Duration(time.Second) || w.ReceiptDelay > Duration(time.Hour) {
		ck.add("webhooks.receipt_delay", "must be between 1s and 1h (got %s)", w.ReceiptDelay)
	}
	seen := map[string]bool{}
	for i, e := range w.Endpoints {
		base := fmt.Sprintf("webhooks.endpoints[%d]", i)
		switch {
		case !endpointName.MatchString(e.Name):
			ck.add(base+".name", "must be 1 to 64 of a-z, 0-9, _ and - (got %q)", e.Name)
		case seen[e.Name]:
			ck.add(base+".name", "%q is used by another endpoint", e.Name)
		}
		seen[e.Name] = true
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ck.add(base+".url", "must be an http or https URL with a host")
		}
		for j, t := range e.Events {
			if !slices.Contains(store.EventTypes(), t) {
				ck.add(fmt.Sprintf("%s.events[%d]", base, j), "unknown event type %q (known: %s)", t, quoteAll(store.EventTypes()))
			} else if slices.Index(e.Events, t) != j {
				ck.add(fmt.Sprintf("%s.events[%d]", base, j), "%q is listed twice", t)
			}
		}
		if n := len(e.SecretsEnv); n < 1 || n > 2 {
			ck.add(base+".secrets_env", "must name 1 or 2 environment variables (two while a secret is rotated; got %d)", n)
		}
		for j, name := range e.SecretsEnv {
			if name == "" {
				ck.add(fmt.Sprintf("%s.secrets_env[%d]", base, j), "must not be empty")
			}
		}
		if e.Timeout != 0 && (e.Timeout < Duration(time.Second) || e.Timeout > Duration(time.Minute)) {
			ck.add(base+".timeout", "must be 0 (10s) or between 1s and 60s (got %s)", e.Timeout)
		}
	}
}

// CheckWebhooks reports every endpoint whose secrets are not set in the
// environment or whose ca_file holds no certificate, as `herald serve`
// would at start (getenv, readFile nil = os.Getenv, os.ReadFile).
func (c *Config) CheckWebhooks(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if readFile == nil {
		readFile = os.ReadFile
	}
	ck := checker{}
	for i, e := range c.Webhooks.Endpoints {
		base := fmt.Sprintf("webhooks.endpoints[%d]", i)
		if _, err := e.Secrets(getenv); err != nil {
			ck.add(base+".secrets_env", "%s", err.Error())
		}
		if e.CAFile == "" {
			continue
		}
		if pem, err := readFile(e.CAFile); err != nil {
			ck.add(base+".ca_file", "%v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			ck.add(base+".ca_file", "%q holds no PEM certificate", e.CAFile)
		}
	}
	if len(ck.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: ck.problems}
}
