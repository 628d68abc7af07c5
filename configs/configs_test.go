package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestExampleEqualsDefault(t *testing.T) {
	got, err := Parse(Example(), "herald.yaml")
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("example differs from Default():\n got %+v\nwant %+v", got, want)
	}
	// Example returns a copy.
	b := Example()
	b[0] = 'X'
	if Example()[0] == 'X' {
		t.Fatal("Example() does not return a copy")
	}
}

// TestExampleListsEveryKey checks that every struct field appears in the
// example file (contents of maps and sequences excepted).
func TestExampleListsEveryKey(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, n *yaml.Node, typ reflect.Type)
	walk = func(path string, n *yaml.Node, typ reflect.Type) {
		for name := range structFields(typ) {
			p := joinPath(path, name)
			var val *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					val = n.Content[i+1]
				}
			}
			if val == nil {
				t.Errorf("example file lacks key %q", p)
				continue
			}
			ft := typ.Field(structFields(typ)[name]).Type
			if ft.Kind() == reflect.Struct && val.Kind == yaml.MappingNode {
				walk(p, val, ft)
			}
		}
	}
	walk("", doc.Content[0], reflect.TypeFor[Config]())
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.ListenIsLoopback(); !ok || err != nil {
		t.Fatalf("ListenIsLoopback() = %v, %v; want true", ok, err)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n"} {
		got, err := Parse([]byte(in), "x.yaml")
		if err != nil || !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) = %+v, %v; want Default()", in, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"top level", "listn: x\n", []string{`listn: unknown key (line 1)`}},
		{"nested", "users:\n  shards: 4\n  idel_timeout: 1s\n", []string{`users.idel_timeout: unknown key (line 3)`}},
		{"deep nested", "vendors:\n  huawei:\n    limits: {qsp: 3}\n", []string{`vendors.huawei.limits.qsp: unknown key`}},
		{"sequence item", "auth:\n  keys:\n    - name: a\n      key: k\n      scope: [admin]\n", []string{`auth.keys[0].scope: unknown key (line 5)`}},
		{"map value", "resources:\n  chat:\n    sounds: x\n", []string{`resources.chat.sounds: unknown key (line 3)`}},
		{"unknown vendor", "vendors:\n  hauwei: {}\n", []string{`vendors.hauwei: unknown key`}},
		{"all unknown keys", "a: 1\nlog: {lvl: x}\nresources: {r: {chanels: {}}}\nb: 2\n",
			[]string{`a: unknown key (line 1)`, `log.lvl: unknown key (line 2)`, `resources.r.chanels: unknown key (line 3)`, `b: unknown key (line 4)`}},
		{"type int", "users:\n  shards: many\n", []string{`users.shards: expected an integer, got string "many" (line 2)`}},
		{"float into int", "users: {shards: 1.5}\n", []string{`users.shards: expected an integer`}},
		{"type struct", "log: verbose\n", []string{`log: expected a mapping, got string "verbose"`}},
		{"type seq", "auth: {keys: {name: a}}\n", []string{`auth.keys: expected a sequence`}},
		{"bad duration", "presence: {default_ttl: 90}\n", []string{`presence.default_ttl: invalid duration "90"`}},
		{"bad size", "limits: {max_body_bytes: -1}\n", []string{`limits.max_body_bytes: invalid byte size "-1": must not be negative`}},
		{"bad bool", "vendors: {apns: {enabled: maybe}}\n", []string{`vendors.apns.enabled: expected a boolean`}},
		{"duplicate key", "listen: a\nlisten: b\n", []string{`listen: duplicate key (first at line 1) (line 2)`}},
		{"multiple documents", "listen: a\n---\nlisten: b\n", []string{"multiple YAML documents"}},
		{"syntax", "listen: [\n", []string{"herald.yaml"}},
		{"top level scalar", "hello\n", []string{"top level: expected a mapping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "herald.yaml")
			if err == nil {
				t.Fatal("Parse succeeded; want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if strings.HasPrefix(err.Error(), "configs: ") {
				t.Errorf("error %q carries a package prefix", err)
			}
		})
	}
}

func TestParseKeepsNestedDefaults(t *testing.T) {
	in := `
users: {shards: 8}
vendors:
  huawei:
    enabled: false
    limits: {qps: 7}
  vivo:
    retry: {max_attempts: 3}
resources:
  chat: {sound: ding, vendors: {huawei: {category: IM}, oppo: {notify_level: 2}}}
`
	got, err := Parse([]byte(in), "t")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Users.Shards = 8
	no := false
	want.Vendors.Huawei.Enabled = &no
	want.Vendors.Huawei.Limits.QPS = 7
	want.Vendors.Vivo.Retry.MaxAttempts = 3
	want.Resources["chat"] = Resource{Sound: "ding", Vendors: map[string]ResourceVendor{"huawei": {Category: "IM"}, "oppo": {NotifyLevel: 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got.Vendors.APNs.Enabled == got.Vendors.Huawei.Enabled || !got.Vendors.APNs.IsEnabled() {
		t.Fatal("vendors share or lost their Enabled pointer")
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	in := `
vendors:
  xiaomi:
    retry: &retry {max_attempts: 2, initial_backoff: 1s, max_backoff: 1m}
  oppo:
    retry:
      <<: *retry
      max_attempts: 5
`
	got, err := Parse([]byte(in), "t")
	if err != nil {
		t.Fatal(err)
	}
	want := Retry{MaxAttempts: 5, InitialBackoff: Duration(time.Second), MaxBackoff: Duration(time.Minute)}
	if got.Vendors.OPPO.Retry != want || got.Vendors.Xiaomi.Retry.MaxAttempts != 2 {
		t.Fatalf("got oppo %+v xiaomi %+v", got.Vendors.OPPO.Retry, got.Vendors.Xiaomi.Retry)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	b, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b, "marshalled")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Fatalf("round trip differs:\n%s", b)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(path, []byte("users:\n  idel_timeout: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + `: invalid configuration: users.idel_timeout: unknown key (line 2)`; err == nil || err.Error() != want {
		t.Fatalf("Load error = %v; want %s", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("Load(missing) succeeded")
	}
}
