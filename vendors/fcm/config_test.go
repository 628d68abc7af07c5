package fcm

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

func TestNewValidates(t *testing.T) {
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	good := sim.ClientConfig("https://127.0.0.1:9", nil)
	editKey := func(k, v string) []byte {
		var m map[string]string
		_ = json.Unmarshal(good.CredentialsJSON, &m)
		m[k] = v
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name string
		edit func(*Config)
		want []string // substrings of the error
	}{
		{"project", func(c *Config) { c.ProjectID = "" }, []string{"ProjectID is required"}},
		{"project chars", func(c *Config) { c.ProjectID = "a/b" }, []string{"ProjectID"}},
		{"credentials", func(c *Config) { c.CredentialsJSON = nil }, []string{"CredentialsJSON is required"}},
		{"credentials json", func(c *Config) { c.CredentialsJSON = []byte("{") }, []string{"CredentialsJSON is not JSON"}},
		{"credentials type", func(c *Config) { c.CredentialsJSON = editKey("type", "authorized_user") }, []string{`type "authorized_user"`}},
		{"client email", func(c *Config) { c.CredentialsJSON = editKey("client_email", "") }, []string{"client_email is required"}},
		{"private key", func(c *Config) {
			c.CredentialsJSON = editKey("private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}, []string{"private_key"}},
		{"token uri", func(c *Config) { c.CredentialsJSON = editKey("token_uri", "ftp://x") }, []string{"token_uri"}},
		{"endpoint scheme", func(c *Config) { c.Endpoint = "127.0.0.1:8080/v1" }, []string{"Endpoint"}},
		{"endpoint path", func(c *Config) { c.Endpoint = "https://fcm.googleapis.com" }, []string{"must end in /v1"}},
		{"kind", func(c *Config) { c.Kind = vendors.APNs }, []string{"Kind"}},
		{"all at once", func(c *Config) { c.ProjectID, c.Endpoint, c.Timeout = "", "x", -time.Second }, []string{"ProjectID", "Endpoint", "Timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := New(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "MII") {
				t.Errorf("error leaks key material: %q", err)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		cfg := good
		cfg.Kind, cfg.Endpoint = "", ""
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if c.Kind() != vendors.FCM || c.timeout != DefaultTimeout || c.pool.Max() != DefaultMaxConcurrent {
			t.Errorf("defaults not applied: kind %q timeout %v workers %d", c.Kind(), c.timeout, c.pool.Max())
		}
	})
}

func TestRequestTimeout(t *testing.T) {
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	url, ca := simtest.TestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" {
			select { // a stalled FCM front end
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		sim.ServeHTTP(w, r)
	}))
	cfg := sim.ClientConfig(url, ca.ClientTLS())
	cfg.Timeout = 300 * time.Millisecond
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	r := send(t, c, chatNotification("slow-1"), "tok-a")[0]
	if r.Verdict != vendors.Retry || r.Code != "DEADLINE_EXCEEDED" {
		t.Errorf("result = %+v", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v, want about the 300ms request timeout", d)
	}
}
