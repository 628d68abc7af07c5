// Package configs holds herald's typed configuration, defaults, strict
// loading and validation; the example file is embedded.
//
// The flow is: Load (or Parse) starts from Default, decodes the YAML over it
// rejecting unknown keys, then the caller runs Validate, which is pure (it
// reads no files and no environment). Secrets are resolved separately when
// the daemon starts: API keys with Key.Secret, vendor account settings with
// Vendor.AccountValue.
package configs

import (
	_ "embed"
	"time"
)

//go:embed herald.yaml
var exampleYAML []byte

// Example returns a copy of the documented example configuration
// (configs/herald.yaml). Loading it yields exactly Default().
func Example() []byte {
	return append([]byte(nil), exampleYAML...)
}

// Config is herald's whole configuration.
type Config struct {
	Listen    string              `yaml:"listen"` // HTTP API address; default "127.0.0.1:8080"
	TLS       TLS                 `yaml:"tls"`
	DataDir   string              `yaml:"data_dir"`          // state directory; default "./herald-data"
	CacheSize ByteSize            `yaml:"cache_size"`        // Pebble block cache; default 64MiB
	MemTable  ByteSize            `yaml:"memtable_size"`     // one Pebble memtable; default 32MiB
	MinFree   ByteSize            `yaml:"min_free_space"`    // free space data_dir keeps in reserve: below it writes that add data get 507; 0 = not watched; default 256MiB
	WALSync   Duration            `yaml:"wal_sync_interval"` // least time between two fsyncs of Pebble's log: synced writes arriving within it share the next; 0 = sync at once; default 1ms
	SimListen string              `yaml:"sim_listen"`        // vendor simulators (used when no vendor credentials are configured); default "127.0.0.1:8090"
	Runtime   Runtime             `yaml:"runtime"`
	Log       Log                 `yaml:"log"`
	Auth      Auth                `yaml:"auth"`
	Limits    Limits              `yaml:"limits"`
	Presence  Presence            `yaml:"presence"`
	Users     Users               `yaml:"users"`
	Shutdown  Shutdown            `yaml:"shutdown"`
	Messages  Messages            `yaml:"messages"`
	Inbox     Inbox               `yaml:"inbox"`
	Calls     Calls               `yaml:"calls"`
	Receipts  Receipts            `yaml:"receipts"`
	Webhooks  Webhooks            `yaml:"webhooks"`
	Vendors   Vendors             `yaml:"vendors"`
	Resources map[string]Resource `yaml:"resources"` // keyed by resources_id; default none (empty map)
}

// TLS serves the HTTP API over TLS. The files are read at start and again
// on every reload (SIGHUP or POST /v1/admin/reload), so a renewed
// certificate is picked up without a restart.
type TLS struct {
	CertFile       string `yaml:"cert_file"`       // PEM certificate chain; with key_file the API speaks HTTPS only; default ""
	KeyFile        string `yaml:"key_file"`        // PEM private key of cert_file; default ""
	ClientCAFile   string `yaml:"client_ca_file"`  // mutual TLS: clients must present a certificate issued by this CA (PEM); default ""
	AllowPlaintext bool   `yaml:"allow_plaintext"` // serve plain HTTP on a non-loopback listen address (behind a TLS-terminating proxy); default false
}

// Enabled reports whether the API listener speaks TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Runtime is the Go runtime's memory policy for `herald serve` (the whole
// process). The collector's pace is a trade of memory for CPU: with
// GCPercent higher the heap may grow further over the live data between
// collections (less CPU per notification), and MemoryLimit caps the total
// the process's Go memory may reach however high GCPercent is.
type Runtime struct {
	GCPercent   int      `yaml:"gc_percent"`   // GOGC; 0 = the GOGC environment variable, or Go's 100; -1 = collect only at memory_limit
	MemoryLimit ByteSize `yaml:"memory_limit"` // GOMEMLIMIT; 0 = the GOMEMLIMIT environment variable, or none
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error; default "info"
	Format string `yaml:"format"` // json|text; default "json"
}

// Auth lists the API keys accepted by the HTTP API.
type Auth struct {
	Keys []Key `yaml:"keys"` // default none (empty slice)
}

// Key is one API key. Exactly one of Key, KeyFile and KeyEnv is set; resolve
// it with Secret.
type Key struct {
	Name    string   `yaml:"name"`     // required, unique; appears in logs instead of the key
	Key     string   `yaml:"key"`      // inline secret (discouraged)
	KeyFile string   `yaml:"key_file"` // file holding the secret (trailing whitespace trimmed)
	KeyEnv  string   `yaml:"key_env"`  // environment variable holding the secret
	Scopes  []string `yaml:"scopes"`   // non-empty subset of {"ingest", "admin"}
}

// Limits bounds request sizes and waiting.
type Limits struct {
	MaxBodyBytes     ByteSize `yaml:"max_body_bytes"`     // default 1MiB
	MaxIDBytes       int      `yaml:"max_id_bytes"`       // default 128
	MaxTokenBytes    int      `yaml:"max_token_bytes"`    // default 4096
	MaxPresenceBatch int      `yaml:"max_presence_batch"` // default 1000
	RequestTimeout   Duration `yaml:"request_timeout"`    // how long a request may wait for a user actor; default 5s
}

// Presence configures presence leases.
type Presence struct {
	DefaultTTL Duration `yaml:"default_ttl"` // default 90s
	MaxTTL     Duration `yaml:"max_ttl"`     // default 24h
}

// Users configures the per-user actors.
type Users struct {
	Shards        int      `yaml:"shards"`         // default 64
	IdleTimeout   Duration `yaml:"idle_timeout"`   // default 5m
	SweepInterval Duration `yaml:"sweep_interval"` // default 0 = idle_timeout/4 clamped to [100ms, 30s]; see EffectiveSweepInterval
}

// EffectiveSweepInterval returns SweepInterval, or when it is 0,
// IdleTimeout/4 clamped to [100ms, 30s].
func (u Users) EffectiveSweepInterval() time.Duration {
	if u.SweepInterval > 0 {
		return u.SweepInterval.Std()
	}
	return min(max(u.IdleTimeout.Std()/4, 100*time.Millisecond), 30*time.Second)
}

// Shutdown configures graceful shutdown.
type Shutdown struct {
	Timeout Duration `yaml:"timeout"` // in-flight requests get this long; default 30s
}

// Messages configures message acceptance and fan-out.
type Messages struct {
	IdempotencyWindow Duration `yaml:"idempotency_window"` // a repeated message_id within this window is a duplicate; default 24h
	MaxBodyBytes      ByteSize `yaml:"max_body_bytes"`     // largest message body stored for the inbox; default 32KiB
	MaxUsers          int      `yaml:"max_users"`          // most ids in to.ids for to.type users; default 1000
	MaxGroupChange    int      `yaml:"max_group_change"`   // most ids in one group members update; default 10000
	ChunkSize         int      `yaml:"chunk_size"`         // group members planned per durable chunk; default 1000
	MaxJobs           int      `yaml:"max_jobs"`           // group fan-outs running at once; default 4
	FanoutYield       Duration `yaml:"fanout_yield"`       // scheduling-latency p99 above which fan-outs give way to chat traffic; 0 = never; default 1ms
}

// Inbox configures the offline inbox.
type Inbox struct {
	Retention  Duration `yaml:"retention"`    // entries older than this are dropped; default 168h (7 days)
	MaxPerUser int      `yaml:"max_per_user"` // older entries beyond this many are dropped; default 1000
}

// Calls configures call invitations.
type Calls struct {
	MaxInvitees    int      `yaml:"max_invitees"`    // most invitees per call, 1..1000; default 9 (as in ZIM)
	DefaultTimeout Duration `yaml:"default_timeout"` // ringing time when timeout_s is not given; default 90s
}

// Vendors holds one section per push vendor.
// Receipts is the vendors' arrival receipts (a restart applies a change).
type Receipts struct {
	Enabled   bool           `yaml:"enabled"`    // ask huawei, xiaomi, oppo and vivo for arrival receipts, counted as delivered; default false
	PublicURL string         `yaml:"public_url"` // herald's base URL as the vendors reach it: they post to <public_url>/v1/receipts/<vendor>; required when enabled outside simulator mode; default "" (simulator mode: herald's own listen address)
	Huawei    HuaweiReceipts `yaml:"huawei"`
}

// HuaweiReceipts is Huawei's receipt configuration as set in AppGallery
// Connect (the receipt URL is set there too: <public_url>/v1/receipts/huawei).
type HuaweiReceipts struct {
	CallbackUser   string `yaml:"callback_user"`    // the receipt's callback user name; default ""
	CallbackKeyEnv string `yaml:"callback_key_env"` // environment variable holding its callback key; with callback_user, a Huawei receipt without a valid X-HUAWEI-CALLBACK-ID is refused; default ""
	ReceiptID      string `yaml:"receipt_id"`       // which of the app's receipt configurations to use (android.receipt_id); default "" = the app's default
}

type Vendors struct {
	APNs   Vendor `yaml:"apns"`
	FCM    Vendor `yaml:"fcm"`
	Web    Vendor `yaml:"web"`
	Huawei Vendor `yaml:"huawei"`
	Xiaomi Vendor `yaml:"xiaomi"`
	OPPO   Vendor `yaml:"oppo"`
	Vivo   Vendor `yaml:"vivo"`
}

// VendorNames returns the vendor names in their fixed order: apns, fcm, web,
// huawei, xiaomi, oppo, vivo. These are also the YAML keys under vendors.
func VendorNames() []string {
	return []string{"apns", "fcm", "web", "huawei", "xiaomi", "oppo", "vivo"}
}

// ByName returns pointers to v's sections keyed by vendor name (see
// VendorNames). The pointers alias v, so changes through them change v.
func (v *Vendors) ByName() map[string]*Vendor {
	return map[string]*Vendor{
		"apns": &v.APNs, "fcm": &v.FCM, "web": &v.Web, "huawei": &v.Huawei,
		"xiaomi": &v.Xiaomi, "oppo": &v.OPPO, "vivo": &v.Vivo,
	}
}

// maxBatchSize is the largest batch_size each vendor's API accepts.
func maxBatchSize(vendor string) int {
	switch vendor {
	case "fcm", "web":
		return 500
	}
	return 1000
}

// Vendor is the per-vendor section: the account herald sends as, the hosts
// it talks to and what operators tune.
type Vendor struct {
	Enabled  *bool             `yaml:"enabled"`  // default true (nil also means true); see IsEnabled
	Endpoint string            `yaml:"endpoint"` // default "" = the vendor's real host (or the simulator in simulator mode)
	CAFile   string            `yaml:"ca_file"`  // extra CA certificate (PEM) trusted for this vendor's endpoints, e.g. the one herald sim writes; default ""
	Account  map[string]string `yaml:"account"`  // vendor account settings (keys per vendor in herald.yaml); default empty = not configured
	Limits   VendorLimits      `yaml:"limits"`
	Retry    Retry             `yaml:"retry"`
}

// IsEnabled reports whether the vendor is enabled; a nil Enabled means true.
func (v Vendor) IsEnabled() bool { return v.Enabled == nil || *v.Enabled }

// VendorLimits throttles and batches sends to one vendor.
type VendorLimits struct {
	QPS         float64  `yaml:"qps"`           // requests per second; default apns 2000, fcm/web 1000, huawei/xiaomi/oppo 50, vivo 10
	Burst       int      `yaml:"burst"`         // token bucket size; default equals qps
	MaxInFlight int      `yaml:"max_in_flight"` // concurrent requests; default apns 500, fcm/web 200, huawei/xiaomi/oppo 8, vivo 4
	BatchSize   int      `yaml:"batch_size"`    // tokens per request (apns/fcm/web: tokens per send call, one request each); default apns/fcm/web 100, others 1000 (max fcm/web 500, others 1000)
	BatchWait   Duration `yaml:"batch_wait"`    // how long to wait to fill a batch; default 20ms
	DailyQuota  int64    `yaml:"daily_quota"`   // sends per day; default 0 = unlimited
	// MaxQueued is how many notifications the vendor's sender holds in
	// memory (queued and in flight); beyond it a group fan-out's rows stay
	// in the outbox on disk and are read back as the queue drains. At
	// least twice what max_in_flight requests carry. Default 20000.
	MaxQueued int `yaml:"max_queued"`
}

// Retry configures retries of failed sends with exponential backoff.
type Retry struct {
	MaxAttempts    int      `yaml:"max_attempts"`    // 0 = until the message's ttl ends; default 0
	InitialBackoff Duration `yaml:"initial_backoff"` // default 500ms
	MaxBackoff     Duration `yaml:"max_backoff"`     // default 5m
}

// Default returns the default configuration. It is the one place defaults are
// defined; configs/herald.yaml spells out the same values.
func Default() Config {
	return Config{
		Listen:    "127.0.0.1:8080",
		DataDir:   "./herald-data",
		CacheSize: 64 * MiB,
		MemTable:  32 * MiB,
		MinFree:   256 * MiB,
		WALSync:   Duration(time.Millisecond),
		SimListen: "127.0.0.1:8090",
		Log:       Log{Level: "info", Format: "json"},
		Auth:      Auth{Keys: []Key{}},
		Limits: Limits{
			MaxBodyBytes:     1 * MiB,
			MaxIDBytes:       128,
			MaxTokenBytes:    4096,
			MaxPresenceBatch: 1000,
			RequestTimeout:   Duration(5 * time.Second),
		},
		Presence: Presence{
			DefaultTTL: Duration(90 * time.Second),
			MaxTTL:     Duration(24 * time.Hour),
		},
		Users: Users{
			Shards:      64,
			IdleTimeout: Duration(5 * time.Minute),
		},
		Shutdown: Shutdown{Timeout: Duration(30 * time.Second)},
		Messages: Messages{
			IdempotencyWindow: Duration(24 * time.Hour),
			MaxBodyBytes:      32 * KiB,
			MaxUsers:          1000,
			MaxGroupChange:    10000,
			ChunkSize:         1000,
			MaxJobs:           4,
			FanoutYield:       Duration(time.Millisecond),
		},
		Inbox: Inbox{Retention: Duration(7 * 24 * time.Hour), MaxPerUser: 1000},
		Calls: Calls{MaxInvitees: 9, DefaultTimeout: Duration(90 * time.Second)},
		Webhooks: Webhooks{Endpoints: []WebhookEndpoint{}, BatchMax: 100, MaxAttempts: 20, MinBackoff: Duration(time.Second),
			MaxBackoff: Duration(10 * time.Minute), ReceiptDelay: Duration(10 * time.Second)},
		Vendors: Vendors{
			APNs:   defaultVendor(2000, 500, 100),
			FCM:    defaultVendor(1000, 200, 100),
			Web:    defaultVendor(1000, 200, 100),
			Huawei: defaultVendor(50, 8, 1000),
			Xiaomi: defaultVendor(50, 8, 1000),
			OPPO:   defaultVendor(50, 8, 1000),
			Vivo:   defaultVendor(10, 4, 1000),
		},
		Resources: map[string]Resource{},
	}
}

// defaultVendor returns a vendor section with its own Enabled pointer.
func defaultVendor(qps, maxInFlight, batchSize int) Vendor {
	enabled := true
	return Vendor{
		Enabled: &enabled,
		Account: map[string]string{},
		Limits: VendorLimits{
			QPS:         float64(qps),
			Burst:       qps,
			MaxInFlight: maxInFlight,
			BatchSize:   batchSize,
			BatchWait:   Duration(20 * time.Millisecond),
			MaxQueued:   20000,
		},
		Retry: Retry{
			MaxAttempts:    0,
			InitialBackoff: Duration(500 * time.Millisecond),
			MaxBackoff:     Duration(5 * time.Minute),
		},
	}
}
