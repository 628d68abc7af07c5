package configs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every problem of a webhooks section is reported, each at its key.
func TestValidateWebhooks(t *testing.T) {
	c := Default()
	c.Webhooks.BatchMax = 0
	c.Webhooks.MaxAttempts = 5000
	c.Webhooks.MinBackoff = Duration(time.Minute)
	c.Webhooks.MaxBackoff = Duration(time.Second)
	c.Webhooks.ReceiptDelay = 0
	c.Webhooks.Endpoints = []WebhookEndpoint{
		{Name: "ok", URL: "https://chat.example/events", SecretsEnv: []string{"S1", "S2"}},
		{Name: "Bad Name", URL: "ftp://x", Events: []string{"push.failed", "push.failed", "message.sent"}, SecretsEnv: []string{"A", "B", "C"}, Timeout: Duration(time.Hour)},
		{Name: "ok", URL: "http://", SecretsEnv: []string{""}},
	}
	err := c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v", err)
	}
	got := map[string]bool{}
	for _, p := range ve.Problems {
		got[p.Key] = true
	}
	want := []string{"webhooks.batch_max", "webhooks.max_attempts", "webhooks.max_backoff", "webhooks.receipt_delay",
		"webhooks.endpoints[1].name", "webhooks.endpoints[1].url", "webhooks.endpoints[1].events[1]", "webhooks.endpoints[1].events[2]",
		"webhooks.endpoints[1].secrets_env", "webhooks.endpoints[1].timeout",
		"webhooks.endpoints[2].name", "webhooks.endpoints[2].url", "webhooks.endpoints[2].secrets_env[0]"}
	for _, k := range want {
		if !got[k] {
			t.Errorf("no problem reported for %q", k)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	if !strings.Contains(err.Error(), `unknown event type "message.sent"`) {
		t.Errorf("the unknown type is not named:\n%v", err)
	}
}

// check-config's webhooks check names the unset variable (never a value)
// and a ca_file it cannot read.
func TestCheckWebhooks(t *testing.T) {
	c := Default()
	c.Webhooks.Endpoints = []WebhookEndpoint{{Name: "a", URL: "https://x", SecretsEnv: []string{"SET", "UNSET"}}}
	env := func(k string) string {
		if k == "SET" {
			return "whsec_c2VjcmV0"
		}
		return ""
	}
	err := c.CheckWebhooks(env, nil)
	if err == nil || !strings.Contains(err.Error(), `webhooks.endpoints[0].secrets_env: webhook endpoint "a": environment variable "UNSET" is unset or empty`) ||
		strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("CheckWebhooks: %v", err)
	}
	c.Webhooks.Endpoints[0].SecretsEnv = []string{"SET"}
	if err := c.CheckWebhooks(env, nil); err != nil {
		t.Fatal(err)
	}
	c.Webhooks.Endpoints[0].CAFile = "/nonexistent/ca.pem"
	if err := c.CheckWebhooks(env, nil); err == nil || !strings.Contains(err.Error(), "webhooks.endpoints[0].ca_file") {
		t.Fatalf("a missing ca_file: %v", err)
	}
	c.Webhooks.Endpoints[0].CAFile = ""
	if got := c.Webhooks.Endpoints[0].EventsOrAll(); len(got) != 10 {
		t.Fatalf("no events listed = %v, want all 10", got)
	}
}
