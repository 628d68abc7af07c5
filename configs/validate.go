package configs

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Problem is one validation failure. Key is the YAML path of the offending
// value, e.g. "vendors.huawei.limits.batch_size" or "auth.keys[1].name".
type Problem struct {
	Key     string
	Message string
}

func (p Problem) String() string { return p.Key + ": " + p.Message }

// ValidationError lists every problem found in a configuration: by Parse
// (what could not be decoded) or Validate (values out of bounds).
type ValidationError struct {
	Source   string // the file, if known
	Problems []Problem
}

func (e *ValidationError) Error() string {
	head := "invalid configuration"
	if e.Source != "" {
		head = e.Source + ": " + head
	}
	if len(e.Problems) == 1 {
		return head + ": " + e.Problems[0].String()
	}
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("%s (%d problems):", head, len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

type checker struct{ problems []Problem }

func (c *checker) add(key, format string, args ...any) {
	c.problems = append(c.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		c.add(key, "must be between %d and %d (got %d)", lo, hi, v)
	}
}

func (c *checker) positive(key string, d Duration) {
	if d <= 0 {
		c.add(key, "must be > 0 (got %s)", d)
	}
}

func (c *checker) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		c.add(key, "must be one of %s (got %q)", strings.Join(allowed, ", "), v)
	}
}

func (c *checker) hostPort(key, v string) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		c.add(key, "must be host:port, e.g. \"127.0.0.1:8080\" (got %q)", v)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		c.add(key, "invalid port %q in %q", port, v)
	}
	if strings.ContainsFunc(host, func(r rune) bool { return unicode.IsSpace(r) || r == '/' }) {
		c.add(key, "invalid host %q in %q", host, v)
	}
}

// Validate checks c and returns a *ValidationError listing every problem, or
// nil. It is pure: it reads no files and no environment variables.
func (c *Config) Validate() error {
	var ck checker
	ck.hostPort("listen", c.Listen)
	validateTLS(&ck, c.TLS)
	if strings.TrimSpace(c.DataDir) == "" {
		ck.add("data_dir", "must not be empty")
	}
	ck.hostPort("sim_listen", c.SimListen)
	ck.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	ck.oneOf("log.format", c.Log.Format, "json", "text")
	validateKeys(&ck, c.Auth.Keys)
	if key, msg := c.ExposureProblem(); key != "" {
		ck.add(key, "%s", msg)
	}

	l := c.Limits
	if l.MaxBodyBytes < KiB || l.MaxBodyBytes > 64*MiB {
		ck.add("limits.max_body_bytes", "must be between 1KiB and 64MiB (got %s)", l.MaxBodyBytes)
	}
	ck.intRange("limits.max_id_bytes", l.MaxIDBytes, 1, 1024)
	ck.intRange("limits.max_token_bytes", l.MaxTokenBytes, 1, 65536)
	ck.intRange("limits.max_presence_batch", l.MaxPresenceBatch, 1, 10000)
	ck.positive("limits.request_timeout", l.RequestTimeout)

	ck.positive("presence.default_ttl", c.Presence.DefaultTTL)
	ck.positive("presence.max_ttl", c.Presence.MaxTTL)
	if c.Presence.DefaultTTL > c.Presence.MaxTTL && c.Presence.MaxTTL > 0 {
		ck.add("presence.default_ttl", "must not exceed presence.max_ttl (%s > %s)", c.Presence.DefaultTTL, c.Presence.MaxTTL)
	}

	ck.intRange("users.shards", c.Users.Shards, 1, 4096)
	if c.Users.IdleTimeout < Duration(10*time.Millisecond) {
		ck.add("users.idle_timeout", "must be at least 10ms (got %s)", c.Users.IdleTimeout)
	}
	if c.Users.SweepInterval < 0 {
		ck.add("users.sweep_interval", "must not be negative (got %s)", c.Users.SweepInterval)
	}
	ck.positive("shutdown.timeout", c.Shutdown.Timeout)
	if c.CacheSize < MiB || c.CacheSize > 64*GiB {
		ck.add("cache_size", "must be between 1MiB and 64GiB (got %s)", c.CacheSize)
	}
	if c.MemTable < MiB || c.MemTable > 1*GiB {
		ck.add("memtable_size", "must be between 1MiB and 1GiB (got %s)", c.MemTable)
	}
	if c.MinFree < 0 || (c.MinFree > 0 && c.MinFree < c.MemTable) {
		ck.add("min_free_space", "must be 0 (not watched) or at least memtable_size, %s (got %s): a flush writes up to one memtable", c.MemTable, c.MinFree)
	}
	if c.WALSync < 0 || c.WALSync.Std() > 100*time.Millisecond {
		ck.add("wal_sync_interval", "must be between 0 and 100ms (got %s)", c.WALSync)
	}
	if g := c.Runtime.GCPercent; g < -1 || g > 10000 {
		ck.add("runtime.gc_percent", "must be -1 (collect only at memory_limit), 0 (Go's default) or 1..10000 (got %d)", g)
	}
	if l := c.Runtime.MemoryLimit; l != 0 && l < 64*MiB {
		ck.add("runtime.memory_limit", "must be 0 (none) or at least 64MiB (got %s)", l)
	}
	if c.Runtime.GCPercent == -1 && c.Runtime.MemoryLimit == 0 {
		ck.add("runtime.gc_percent", "-1 turns the collector off until memory_limit, which is not set: the heap would grow without bound")
	}

	m := c.Messages
	ck.positive("messages.idempotency_window", m.IdempotencyWindow)
	if m.MaxBodyBytes < KiB || m.MaxBodyBytes > MiB {
		ck.add("messages.max_body_bytes", "must be between 1KiB and 1MiB (got %s)", m.MaxBodyBytes)
	}
	ck.intRange("messages.max_users", m.MaxUsers, 1, 10000)
	ck.intRange("messages.max_group_change", m.MaxGroupChange, 1, 100000)
	ck.intRange("messages.chunk_size", m.ChunkSize, 10, 10000)
	ck.intRange("messages.max_jobs", m.MaxJobs, 1, 64)
	if m.FanoutYield < 0 || m.FanoutYield > Duration(100*time.Millisecond) {
		ck.add("messages.fanout_yield", "must be between 0 and 100ms (got %s)", m.FanoutYield)
	}
	ck.positive("inbox.retention", c.Inbox.Retention)
	ck.intRange("inbox.max_per_user", c.Inbox.MaxPerUser, 1, 100000)
	ck.intRange("calls.max_invitees", c.Calls.MaxInvitees, 1, 1000)
	if c.Calls.DefaultTimeout < Duration(time.Second) || c.Calls.DefaultTimeout > Duration(10*time.Minute) {
		ck.add("calls.default_timeout", "must be between 1s and 10m (got %s)", c.Calls.DefaultTimeout)
	}

	validateReceipts(&ck, c.Receipts)
	if c.Receipts.Enabled && c.Receipts.PublicURL == "" && !c.SimulatorMode() {
		ck.add("receipts.public_url", "is required when receipts.enabled is true: it is where the vendors post their receipts")
	}

	validateWebhooks(&ck, c.Webhooks)

	byName := c.Vendors.ByName()
	for _, name := range VendorNames() {
		validateVendor(&ck, "vendors."+name, name, byName[name])
	}
	validateResources(&ck, c.Resources)

	if len(ck.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: ck.problems}
}

func validateKeys(ck *checker, keys []Key) {
	names := map[string]int{}
	for i, k := range keys {
		base := fmt.Sprintf("auth.keys[%d]", i)
		switch {
		case k.Name == "":
			ck.add(base+".name", "must not be empty")
		case !isToken(k.Name, 64):
			ck.add(base+".name", "must be 1..64 printable characters without whitespace (got %q)", k.Name)
		}
		if j, dup := names[k.Name]; dup && k.Name != "" {
			ck.add(base+".name", "duplicate name %q (also auth.keys[%d])", k.Name, j)
		} else {
			names[k.Name] = i
		}
		var set []string
		for _, s := range []struct{ name, v string }{{"key", k.Key}, {"key_file", k.KeyFile}, {"key_env", k.KeyEnv}} {
			if s.v != "" {
				set = append(set, s.name)
			}
		}
		switch len(set) {
		case 0:
			ck.add(base, "one of key, key_file, key_env must be set")
		case 1:
		default:
			ck.add(base, "only one of key, key_file, key_env may be set (got %s)", strings.Join(set, " and "))
		}
		if k.KeyEnv != "" && !isEnvName(k.KeyEnv) {
			ck.add(base+".key_env", "invalid environment variable name %q", k.KeyEnv)
		}
		if len(k.Scopes) == 0 {
			ck.add(base+".scopes", "must list at least one of ingest, admin")
		}
		for j, s := range k.Scopes {
			key := fmt.Sprintf("%s.scopes[%d]", base, j)
			if s != "ingest" && s != "admin" {
				ck.add(key, "unknown scope %q (want ingest or admin)", s)
			} else if slices.Index(k.Scopes, s) < j {
				ck.add(key, "duplicate scope %q", s)
			}
		}
	}
}

func validateVendor(ck *checker, base, name string, v *Vendor) {
	if v.Endpoint != "" && !isHTTPURL(v.Endpoint) {
		ck.add(base+".endpoint", "must be empty or an http(s) URL such as \"https://push.example.com\" (got %q)", v.Endpoint)
	}
	if v.CAFile != "" && strings.TrimSpace(v.CAFile) == "" {
		ck.add(base+".ca_file", "must be empty or the path of a PEM file (got only whitespace)")
	}
	validateAccount(ck, base+".account", name, v.Account)
	l := v.Limits
	if math.IsNaN(l.QPS) || math.IsInf(l.QPS, 0) || l.QPS <= 0 {
		ck.add(base+".limits.qps", "must be a finite number > 0 (got %v)", l.QPS)
	}
	if l.Burst < 1 {
		ck.add(base+".limits.burst", "must be at least 1 (got %d)", l.Burst)
	}
	if l.MaxInFlight < 1 {
		ck.add(base+".limits.max_in_flight", "must be at least 1 (got %d)", l.MaxInFlight)
	}
	if maxBatch := maxBatchSize(name); l.BatchSize < 1 || l.BatchSize > maxBatch {
		ck.add(base+".limits.batch_size", "must be between 1 and %d for %s (got %d)", maxBatch, name, l.BatchSize)
	}
	if l.BatchWait < 0 || l.BatchWait > Duration(10*time.Second) {
		ck.add(base+".limits.batch_wait", "must be between 0s and 10s (got %s)", l.BatchWait)
	}
	if l.MaxQueued < 1 {
		ck.add(base+".limits.max_queued", "must be at least 1 (got %d)", l.MaxQueued)
	}
	if l.DailyQuota < 0 {
		ck.add(base+".limits.daily_quota", "must not be negative (0 = unlimited; got %d)", l.DailyQuota)
	}
	r := v.Retry
	if r.MaxAttempts < 0 {
		ck.add(base+".retry.max_attempts", "must be 0 (until the message's ttl ends) or at least 1 (got %d)", r.MaxAttempts)
	}
	ck.positive(base+".retry.initial_backoff", r.InitialBackoff)
	if r.MaxBackoff < r.InitialBackoff {
		ck.add(base+".retry.max_backoff", "must be at least initial_backoff (%s < %s)", r.MaxBackoff, r.InitialBackoff)
	}
}

// isHTTPURL reports whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// isToken reports whether s is 1..maxLen bytes of valid UTF-8, printable and
// free of whitespace.
func isToken(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) })
}

func isEnvName(s string) bool {
	for i, r := range s {
		if r != '_' && !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return s != ""
}

// ListenIsLoopback reports whether the listen host is a loopback IP address
// or "localhost". An empty host (":8080", all interfaces) is not loopback;
// other host names are not resolved and count as not loopback.
func (c *Config) ListenIsLoopback() (bool, error) {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return false, fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback(), nil
}

// ExposureProblem reports why the API must not serve on its listen address
// as configured: without API keys on a non-loopback address anyone could
// call it, and over plain HTTP there bearer keys would cross the network in
// cleartext. key is the config key to change; "" = no problem (or a listen
// address that does not parse, which hostPort reports).
func (c *Config) ExposureProblem() (key, msg string) {
	loopback, err := c.ListenIsLoopback()
	switch {
	case err != nil || loopback:
		return "", ""
	case len(c.Auth.Keys) == 0:
		return "auth.keys", fmt.Sprintf("required when listen (%q) is not a loopback address: add an API key or listen on 127.0.0.1", c.Listen)
	case !c.TLS.Enabled() && !c.TLS.AllowPlaintext:
		return "tls", fmt.Sprintf("plain HTTP is refused on the non-loopback listen address %q: API keys would travel in cleartext; set tls.cert_file and tls.key_file, or tls.allow_plaintext: true when a TLS-terminating proxy is the only way in", c.Listen)
	}
	return "", ""
}

func validateTLS(ck *checker, t TLS) {
	for _, f := range []struct{ key, v string }{{"tls.cert_file", t.CertFile}, {"tls.key_file", t.KeyFile}, {"tls.client_ca_file", t.ClientCAFile}} {
		if f.v != "" && strings.TrimSpace(f.v) == "" {
			ck.add(f.key, "must be empty or the path of a PEM file (got only whitespace)")
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		ck.add("tls.key_file", "must be set with tls.cert_file")
	case t.KeyFile != "" && t.CertFile == "":
		ck.add("tls.cert_file", "must be set with tls.key_file")
	}
	if t.ClientCAFile != "" && !t.Enabled() {
		ck.add("tls.client_ca_file", "needs tls.cert_file and tls.key_file (client certificates are checked in the TLS handshake)")
	}
	if t.AllowPlaintext && t.Enabled() {
		ck.add("tls.allow_plaintext", "contradicts tls.cert_file: with a certificate the API speaks TLS only")
	}
}

// receiptPath is where a vendor posts its receipts, under public_url.
const receiptPath = "/v1/receipts/"

// maxReceiptURL is the longest receipt URL every vendor takes (vivo's
// extra.callback: 128 characters).
const maxReceiptURL = 128

func validateReceipts(ck *checker, r Receipts) {
	if r.PublicURL != "" {
		u, err := url.Parse(r.PublicURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			ck.add("receipts.public_url", "must be an http or https URL with a host (got %q)", r.PublicURL)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			ck.add("receipts.public_url", "must have no query, fragment or user info (got %q)", r.PublicURL)
		case len(ReceiptURL(r.PublicURL, "xiaomi")) > maxReceiptURL:
			ck.add("receipts.public_url", "is too long: %s must fit vivo's %d-character callback", ReceiptURL(r.PublicURL, "xiaomi"), maxReceiptURL)
		}
	}
	h := r.Huawei
	if (h.CallbackUser == "") != (h.CallbackKeyEnv == "") {
		ck.add("receipts.huawei", "callback_user and callback_key_env go together (got only one)")
	}
}

// ReceiptURL is where vendor posts its arrival receipts for a herald
// reached at publicURL.
func ReceiptURL(publicURL, vendor string) string {
	return strings.TrimSuffix(publicURL, "/") + receiptPath + vendor
}
