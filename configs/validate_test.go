package configs

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{"1048576", 1 << 20, ""},
		{"0x400", 1024, ""},
		{"0", 0, ""},
		{`"1MiB"`, MiB, ""},
		{"1MiB", MiB, ""},
		{"512 KiB", 512 * KiB, ""},
		{"2GiB", 2 * GiB, ""},
		{"10MB", 10_000_000, ""},
		{"3kb", 3000, ""},
		{"1GB", 1_000_000_000, ""},
		{"100B", 100, ""},
		{"-1", 0, "must not be negative"},
		{`"-5KiB"`, 0, "must not be negative"},
		{"1.5", 0, "whole number of bytes"},
		{"1.5MiB", 0, "invalid byte size"},
		{"lots", 0, "invalid byte size"},
		{"10 parsecs", 0, "invalid byte size"},
		{"MiB", 0, "invalid byte size"},
		{"99999999999GiB", 0, "too large"},
		{"true", 0, "expected a byte size"},
		{"[1]", 0, "expected a byte size, got a sequence"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got ByteSize
			err := yaml.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	for b, want := range map[ByteSize]string{0: "0B", MiB: "1MiB", 1500: "1500B", 2000: "2KB", 64 * MiB: "64MiB", 3 * KiB: "3KiB"} {
		if got := b.String(); got != want {
			t.Errorf("ByteSize(%d).String() = %q; want %q", int64(b), got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"90s", 90 * time.Second, false},
		{"5m", 5 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"500ms", 500 * time.Millisecond, false},
		{`"24h"`, 24 * time.Hour, false},
		{"0", 0, false},
		{"-1s", -time.Second, false}, // parses; Validate rejects where it matters
		{"90", 0, true},
		{"soon", 0, true},
		{"{a: 1}", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got Duration
			err := yaml.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr || got.Std() != tt.want {
				t.Fatalf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	for d, want := range map[time.Duration]string{0: "0s", 5 * time.Minute: "5m", 24 * time.Hour: "24h", 90 * time.Second: "1m30s", 20 * time.Millisecond: "20ms", time.Hour + time.Second: "1h0m1s"} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v).String() = %q; want %q", d, got, want)
		}
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := Default()
	c.Listen = "8080"
	c.Log.Level = "verbose"
	c.Auth.Keys = []Key{
		{Name: "a", Key: "k", Scopes: []string{"ingest"}},
		{Name: "a", Key: "k", KeyEnv: "K", Scopes: []string{"root", "ingest", "ingest"}},
		{Name: "", Scopes: nil},
	}
	c.Limits.MaxBodyBytes = 10
	c.Presence.DefaultTTL = Duration(48 * time.Hour)
	c.Users.Shards = 0
	c.Vendors.APNs.Limits.BatchSize = 1001
	c.Vendors.Vivo.Endpoint = "ftp://x"
	c.Vendors.FCM.Retry.MaxBackoff = Duration(time.Millisecond)
	c.Resources["a b"] = Resource{Priority: "urgent", Vendors: map[string]ResourceVendor{"hauwei": {}, "apns": {ChannelID: "y"}, "huawei": {Category: "im"}}}
	c.Vendors.OPPO.Account = map[string]string{"app_key": "k", "master_secret": "inline"}

	err := c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v; want *ValidationError", err)
	}
	got := map[string]bool{}
	for _, p := range ve.Problems {
		got[p.Key] = true
	}
	for _, key := range []string{
		"listen", "log.level", "auth.keys[1].name", "auth.keys[1]", "auth.keys[1].scopes[0]",
		"auth.keys[1].scopes[2]", "auth.keys[2].name", "auth.keys[2]", "auth.keys[2].scopes",
		"limits.max_body_bytes", "presence.default_ttl", "users.shards",
		"vendors.apns.limits.batch_size", "vendors.vivo.endpoint", "vendors.fcm.retry.max_backoff",
		"resources.a b", "resources.a b.priority", "resources.a b.vendors.hauwei",
		"resources.a b.vendors.apns.channel_id", "resources.a b.vendors.huawei.category",
		"vendors.oppo.account.master_secret", "vendors.oppo.account",
	} {
		if !got[key] {
			t.Errorf("no problem reported for %q", key)
		}
	}
	if len(ve.Problems) != 22 {
		t.Errorf("got %d problems; want 22:\n%v", len(ve.Problems), err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "invalid configuration (22 problems):\n") ||
		!strings.Contains(msg, "\nusers.shards: must be between 1 and 4096 (got 0)") {
		t.Errorf("unexpected message:\n%s", msg)
	}
}

func TestValidateBounds(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		key    string // "" = valid
	}{
		{"listen port 0", func(c *Config) { c.Listen = "127.0.0.1:0" }, ""},
		{"short idle timeout", func(c *Config) { c.Users.IdleTimeout = Duration(10 * time.Millisecond) }, ""},
		{"fcm batch 500", func(c *Config) { c.Vendors.FCM.Limits.BatchSize = 500 }, ""},
		{"https endpoint", func(c *Config) { c.Vendors.Huawei.Endpoint = "http://127.0.0.1:8090/huawei" }, ""},
		{"fcm batch 501", func(c *Config) { c.Vendors.FCM.Limits.BatchSize = 501 }, "vendors.fcm.limits.batch_size"},
		{"huawei batch 1001", func(c *Config) { c.Vendors.Huawei.Limits.BatchSize = 1001 }, "vendors.huawei.limits.batch_size"},
		{"idle timeout too short", func(c *Config) { c.Users.IdleTimeout = Duration(time.Millisecond) }, "users.idle_timeout"},
		{"body too big", func(c *Config) { c.Limits.MaxBodyBytes = 65 * MiB }, "limits.max_body_bytes"},
		{"bad format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data_dir"},
		{"sim listen", func(c *Config) { c.SimListen = "localhost" }, "sim_listen"},
		{"zero qps", func(c *Config) { c.Vendors.Xiaomi.Limits.QPS = 0 }, "vendors.xiaomi.limits.qps"},
		{"batch wait", func(c *Config) { c.Vendors.OPPO.Limits.BatchWait = Duration(time.Minute) }, "vendors.oppo.limits.batch_wait"},
		{"negative quota", func(c *Config) { c.Vendors.Web.Limits.DailyQuota = -1 }, "vendors.web.limits.daily_quota"},
		{"zero attempts (until the ttl)", func(c *Config) { c.Vendors.Vivo.Retry.MaxAttempts = 0 }, ""},
		{"negative attempts", func(c *Config) { c.Vendors.Vivo.Retry.MaxAttempts = -1 }, "vendors.vivo.retry.max_attempts"},
		{"shutdown", func(c *Config) { c.Shutdown.Timeout = 0 }, "shutdown.timeout"},
		{"bad env name", func(c *Config) { c.Auth.Keys = []Key{{Name: "a", KeyEnv: "1X", Scopes: []string{"admin"}}} }, "auth.keys[0].key_env"},
		{"tls pair", func(c *Config) { c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem", ClientCAFile: "ca.pem"} }, ""},
		{"tls cert without key", func(c *Config) { c.TLS.CertFile = "c.pem" }, "tls.key_file"},
		{"tls key without cert", func(c *Config) { c.TLS.KeyFile = "k.pem" }, "tls.cert_file"},
		{"client ca without tls", func(c *Config) { c.TLS.ClientCAFile = "ca.pem" }, "tls.client_ca_file"},
		{"plaintext with tls", func(c *Config) { c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem", AllowPlaintext: true} }, "tls.allow_plaintext"},
		{"gc 400 with a limit", func(c *Config) { c.Runtime = Runtime{GCPercent: 400, MemoryLimit: 140 * MiB} }, ""},
		{"gc off with a limit", func(c *Config) { c.Runtime = Runtime{GCPercent: -1, MemoryLimit: 1 * GiB} }, ""},
		{"gc off without a limit", func(c *Config) { c.Runtime.GCPercent = -1 }, "runtime.gc_percent"},
		{"gc -2", func(c *Config) { c.Runtime.GCPercent = -2 }, "runtime.gc_percent"},
		{"tiny memory limit", func(c *Config) { c.Runtime.MemoryLimit = 10 * MiB }, "runtime.memory_limit"},
		{"slash in resource id", func(c *Config) { c.Resources["a/b"] = Resource{} }, "resources.a/b"},
		{"receipts in simulator mode", func(c *Config) { c.Receipts.Enabled = true }, ""},
		{"receipt url", func(c *Config) { c.Receipts.PublicURL = "https://push.example.com/herald/" }, ""},
		{"receipt url not http", func(c *Config) { c.Receipts.PublicURL = "ftp://push.example.com" }, "receipts.public_url"},
		{"receipt url with a query", func(c *Config) { c.Receipts.PublicURL = "https://push.example.com/?a=b" }, "receipts.public_url"},
		{"receipt url too long for vivo", func(c *Config) { c.Receipts.PublicURL = "https://push.example.com/" + strings.Repeat("a", 100) }, "receipts.public_url"},
		{"huawei callback user without key", func(c *Config) { c.Receipts.Huawei.CallbackUser = "herald" }, "receipts.huawei"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Key != tt.key {
				t.Fatalf("Validate() = %v; want one problem at %q", err, tt.key)
			}
		})
	}
}

func TestListenIsLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, "127.1.2.3:9": true,
		":8080": false, "0.0.0.0:8080": false, "10.0.0.1:80": false, "example.com:80": false,
	} {
		c := Config{Listen: listen}
		if got, err := c.ListenIsLoopback(); got != want || err != nil {
			t.Errorf("ListenIsLoopback(%q) = %v, %v; want %v", listen, got, err, want)
		}
	}
	if _, err := (&Config{Listen: "nope"}).ListenIsLoopback(); err == nil {
		t.Error("ListenIsLoopback(nope) succeeded")
	}
}

func TestSecret(t *testing.T) {
	env := map[string]string{"HERALD_KEY": "from-env"}
	files := map[string]string{"/k": "from-file \n\n"}
	getenv := func(k string) string { return env[k] }
	readFile := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name    string
		key     Key
		want    string
		wantErr string
	}{
		{"inline", Key{Name: "a", Key: "inline-secret"}, "inline-secret", ""},
		{"env", Key{Name: "a", KeyEnv: "HERALD_KEY"}, "from-env", ""},
		{"file trimmed", Key{Name: "a", KeyFile: "/k"}, "from-file", ""},
		{"env unset", Key{Name: "chat", KeyEnv: "NOPE"}, "", `key_env: environment variable NOPE is unset or empty`},
		{"file missing", Key{Name: "chat", KeyFile: "/missing"}, "", `key_file: `},
		{"none", Key{Name: "chat"}, "", "exactly one of"},
		{"two", Key{Name: "chat", Key: "s3cret", KeyEnv: "HERALD_KEY"}, "", "exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Secret(getenv, readFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error = %v; want %q without the secret", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestVendorNamesMatchByName(t *testing.T) {
	c := Default()
	byName := c.Vendors.ByName()
	if len(byName) != len(VendorNames()) {
		t.Fatalf("ByName has %d entries, VendorNames %d", len(byName), len(VendorNames()))
	}
	for _, name := range VendorNames() {
		if _, ok := structFields(reflect.TypeFor[Vendors]())[name]; !ok || byName[name] == nil {
			t.Errorf("vendor %q missing from ByName or the yaml tags", name)
		}
	}
	byName["vivo"].Limits.QPS = 1
	if c.Vendors.Vivo.Limits.QPS != 1 {
		t.Error("ByName pointers do not alias the config")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Example())
	f.Add([]byte("a: &a [*a, *a]\nvendors: {<<: [{apns: {}}]}\n"))
	f.Add([]byte("resources: {x: {priority: high, vendors: {fcm: {channel_id: a}, oppo: {category: IM, notify_level: 16}}}}\nauth: {keys: [{name: n, key: k, scopes: [ingest]}]}\n"))
	f.Add([]byte("vendors: {huawei: {ca_file: /ca.pem, account: {app_id: \"1\", app_secret_env: S, x: y}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz")
		if err == nil {
			_ = c.Validate()
		}
	})
}

// check-config finds what serve would refuse on a non-loopback address: no
// API keys, or plain HTTP without allow_plaintext; and a min_free_space
// smaller than a memtable.
func TestValidateReportsExposureAndWatermark(t *testing.T) {
	problems := func(mut func(*Config)) []string {
		c := Default()
		mut(&c)
		var ve *ValidationError
		if err := c.Validate(); !errors.As(err, &ve) {
			return nil
		}
		var keys []string
		for _, p := range ve.Problems {
			keys = append(keys, p.Key)
		}
		return keys
	}
	key := Key{Name: "k", Key: "0123456789abcdef0123456789abcdef", Scopes: []string{"ingest"}}
	for _, tt := range []struct {
		name string
		mut  func(*Config)
		want []string
	}{
		{"loopback without keys", func(c *Config) {}, nil},
		{"all interfaces without keys", func(c *Config) { c.Listen = "0.0.0.0:8080" }, []string{"auth.keys"}},
		{"plain HTTP on all interfaces", func(c *Config) { c.Listen = ":8080"; c.Auth.Keys = []Key{key} }, []string{"tls"}},
		{"behind a TLS proxy", func(c *Config) {
			c.Listen, c.Auth.Keys, c.TLS.AllowPlaintext = "10.0.0.1:8080", []Key{key}, true
		}, nil},
		{"watermark below a memtable", func(c *Config) { c.MinFree = c.MemTable - 1 }, []string{"min_free_space"}},
		{"watermark off", func(c *Config) { c.MinFree = 0 }, nil},
		{"fsync at once", func(c *Config) { c.WALSync = 0 }, nil},
		{"negative fsync interval", func(c *Config) { c.WALSync = -1 }, []string{"wal_sync_interval"}},
		{"fsync interval beyond 100ms", func(c *Config) { c.WALSync = Duration(101 * time.Millisecond) }, []string{"wal_sync_interval"}},
		{"negative fanout yield", func(c *Config) { c.Messages.FanoutYield = -1 }, []string{"messages.fanout_yield"}},
		{"fanout yield beyond 100ms", func(c *Config) { c.Messages.FanoutYield = Duration(101 * time.Millisecond) }, []string{"messages.fanout_yield"}},
	} {
		if got := problems(tt.mut); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: problems at %v; want %v", tt.name, got, tt.want)
		}
	}
}
