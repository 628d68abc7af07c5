package configs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// accountProblems validates Default() with vendor's account set and returns
// the problems under vendors.<vendor>.
func accountProblems(t *testing.T, vendor string, account map[string]string, caFile string) []Problem {
	t.Helper()
	c := Default()
	v := c.Vendors.ByName()[vendor]
	v.Account, v.CAFile = account, caFile
	err := c.Validate()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v; want *ValidationError", err)
	}
	for _, p := range ve.Problems {
		if !strings.HasPrefix(p.Key, "vendors."+vendor+".") {
			t.Errorf("unexpected problem %s", p)
		}
	}
	return ve.Problems
}

func TestValidateAccounts(t *testing.T) {
	type want struct{ key, msg string } // key relative to vendors.<vendor>
	tests := []struct {
		name    string
		vendor  string
		account map[string]string
		want    []want
	}{
		// Valid accounts.
		{"apns token", "apns", map[string]string{"topic": "com.example", "key_id": "K", "team_id": "T", "auth_key_file": "/k.p8"}, nil},
		{"apns certificate", "apns", map[string]string{"topic": "com.example", "certificate_env": "CERT", "certificate_password_file": "/pw", "development_endpoint": "http://127.0.0.1:8090/apns"}, nil},
		{"apns certificate no password", "apns", map[string]string{"topic": "com.example", "certificate_file": "/c.p12"}, nil},
		{"fcm", "fcm", map[string]string{"project_id": "p", "credentials_file": "/sa.json"}, nil},
		{"web", "web", map[string]string{"project_id": "p", "credentials_env": "SA_JSON"}, nil},
		{"huawei", "huawei", map[string]string{"app_id": "104", "app_secret_env": "HUAWEI_SECRET", "auth_endpoint": "https://oauth.example/token"}, nil},
		{"empty optional urls", "huawei", map[string]string{"app_id": "104", "app_secret_env": "HUAWEI_SECRET", "auth_endpoint": ""}, nil},
		{"xiaomi", "xiaomi", map[string]string{"package_name": "com.example", "app_secret_file": "/x"}, nil},
		{"oppo", "oppo", map[string]string{"app_key": "k", "master_secret_env": "OPPO_SECRET"}, nil},
		{"vivo", "vivo", map[string]string{"app_id": "1", "app_key": "k", "app_secret_file": "/v"}, nil},
		{"empty", "vivo", map[string]string{}, nil},

		// Unknown keys, one per vendor.
		{"apns unknown", "apns", map[string]string{"topic": "t", "certificate_file": "/c", "bundle_id": "x"},
			[]want{{"account.bundle_id", `unknown account key "bundle_id" for apns (allowed keys: topic, key_id, team_id, development_endpoint, auth_key_file, auth_key_env, certificate_file, certificate_env, certificate_password_file, certificate_password_env)`}}},
		{"fcm unknown", "fcm", map[string]string{"project_id": "p", "credentials_file": "/c", "app_id": "x"},
			[]want{{"account.app_id", `unknown account key "app_id" for fcm (allowed keys: project_id, credentials_file, credentials_env)`}}},
		{"web unknown", "web", map[string]string{"project_id": "p", "credentials_file": "/c", "vapid_key": "x"},
			[]want{{"account.vapid_key", `for web (allowed keys: project_id, credentials_file, credentials_env)`}}},
		{"huawei unknown", "huawei", map[string]string{"app_id": "1", "app_secret_file": "/s", "client_id": "x"},
			[]want{{"account.client_id", `for huawei (allowed keys: app_id, auth_endpoint, app_secret_file, app_secret_env)`}}},
		{"xiaomi unknown", "xiaomi", map[string]string{"package_name": "p", "app_secret_file": "/s", "app_id": "x"},
			[]want{{"account.app_id", `for xiaomi (allowed keys: package_name, app_secret_file, app_secret_env)`}}},
		{"oppo unknown", "oppo", map[string]string{"app_key": "k", "master_secret_file": "/s", "app_secret_file": "/x"},
			[]want{{"account.app_secret_file", `for oppo (allowed keys: app_key, master_secret_file, master_secret_env)`}}},
		{"vivo unknown", "vivo", map[string]string{"app_id": "1", "app_key": "k", "app_secret_env": "S", "master_secret_env": "X"},
			[]want{{"account.master_secret_env", `for vivo (allowed keys: app_id, app_key, app_secret_file, app_secret_env)`}}},

		// Inline secrets.
		{"apns inline key", "apns", map[string]string{"topic": "t", "key_id": "K", "team_id": "T", "auth_key": "s3cret"},
			[]want{{"account.auth_key", "use auth_key_file or auth_key_env"}, {"account", "missing one of auth_key_file or auth_key_env"}}},
		{"apns inline password", "apns", map[string]string{"topic": "t", "certificate_file": "/c", "certificate_password": "s3cret"},
			[]want{{"account.certificate_password", "secrets are not given inline"}}},
		{"fcm inline", "fcm", map[string]string{"project_id": "p", "credentials": "s3cret"},
			[]want{{"account.credentials", "use credentials_file or credentials_env"}, {"account", "fcm account is missing one of credentials_file or credentials_env"}}},
		{"huawei inline", "huawei", map[string]string{"app_id": "1", "app_secret": "s3cret"},
			[]want{{"account.app_secret", "use app_secret_file or app_secret_env"}, {"account", "missing one of app_secret_file or app_secret_env"}}},
		{"oppo inline", "oppo", map[string]string{"app_key": "k", "master_secret": "s3cret"},
			[]want{{"account.master_secret", "use master_secret_file or master_secret_env"}, {"account", "missing one of master_secret_file"}}},

		// Required keys, one per vendor.
		{"apns no topic", "apns", map[string]string{"certificate_file": "/c"}, []want{{"account", "apns account is missing topic"}}},
		{"apns no auth", "apns", map[string]string{"topic": "t"}, []want{{"account", "apns account is missing an auth mode"}}},
		{"apns token partial", "apns", map[string]string{"topic": "t", "key_id": "K"},
			[]want{{"account", "apns account is missing team_id, one of auth_key_file or auth_key_env"}}},
		{"apns password only", "apns", map[string]string{"topic": "t", "certificate_password_env": "PW"},
			[]want{{"account", "apns account is missing one of certificate_file or certificate_env"}}},
		{"apns both modes", "apns", map[string]string{"topic": "t", "key_id": "K", "team_id": "T", "auth_key_env": "P8", "certificate_file": "/c"},
			[]want{{"account", "set either token auth"}}},
		{"fcm missing", "fcm", map[string]string{"credentials_file": "/c"}, []want{{"account", "fcm account is missing project_id"}}},
		{"web missing", "web", map[string]string{"project_id": "p"}, []want{{"account", "web account is missing one of credentials_file or credentials_env"}}},
		{"huawei missing", "huawei", map[string]string{"auth_endpoint": "https://x"}, []want{{"account", "huawei account is missing app_id, one of app_secret_file or app_secret_env"}}},
		{"xiaomi missing", "xiaomi", map[string]string{"app_secret_env": "S"}, []want{{"account", "xiaomi account is missing package_name"}}},
		{"oppo missing", "oppo", map[string]string{"app_key": "k"}, []want{{"account", "oppo account is missing one of master_secret_file or master_secret_env"}}},
		{"vivo missing", "vivo", map[string]string{"app_secret_file": "/s"}, []want{{"account", "vivo account is missing app_id, app_key"}}},

		// Either/or pairs.
		{"apns key pair", "apns", map[string]string{"topic": "t", "key_id": "K", "team_id": "T", "auth_key_file": "/k", "auth_key_env": "K"},
			[]want{{"account", "only one of auth_key_file and auth_key_env may be set"}}},
		{"apns certificate pair", "apns", map[string]string{"topic": "t", "certificate_file": "/c", "certificate_env": "C", "certificate_password_file": "/p", "certificate_password_env": "P"},
			[]want{{"account", "only one of certificate_file and certificate_env"}, {"account", "only one of certificate_password_file and certificate_password_env"}}},
		{"fcm pair", "fcm", map[string]string{"project_id": "p", "credentials_file": "/c", "credentials_env": "C"}, []want{{"account", "only one of credentials_file and credentials_env"}}},
		{"web pair", "web", map[string]string{"project_id": "p", "credentials_file": "/c", "credentials_env": "C"}, []want{{"account", "only one of credentials_file and credentials_env"}}},
		{"huawei pair", "huawei", map[string]string{"app_id": "1", "app_secret_file": "/s", "app_secret_env": "S"}, []want{{"account", "only one of app_secret_file and app_secret_env"}}},
		{"xiaomi pair", "xiaomi", map[string]string{"package_name": "p", "app_secret_file": "/s", "app_secret_env": "S"}, []want{{"account", "only one of app_secret_file and app_secret_env"}}},
		{"oppo pair", "oppo", map[string]string{"app_key": "k", "master_secret_file": "/s", "master_secret_env": "S"}, []want{{"account", "only one of master_secret_file and master_secret_env"}}},
		{"vivo pair", "vivo", map[string]string{"app_id": "1", "app_key": "k", "app_secret_file": "/s", "app_secret_env": "S"}, []want{{"account", "only one of app_secret_file and app_secret_env"}}},

		// Values.
		{"empty value", "huawei", map[string]string{"app_id": " ", "app_secret_file": "/s"}, []want{{"account.app_id", "must not be empty"}}},
		{"bad env name", "oppo", map[string]string{"app_key": "k", "master_secret_env": "s3cret-value"},
			[]want{{"account.master_secret_env", "must be an environment variable name"}}},
		{"bad development endpoint", "apns", map[string]string{"topic": "t", "certificate_file": "/c", "development_endpoint": "api.sandbox.push.apple.com"},
			[]want{{"account.development_endpoint", "an http(s) URL such as"}}},
		{"bad auth endpoint", "huawei", map[string]string{"app_id": "1", "app_secret_file": "/s", "auth_endpoint": "ftp://x/token"},
			[]want{{"account.auth_endpoint", "an http(s) URL such as"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := accountProblems(t, tt.vendor, tt.account, "")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %v; want %d", len(got), got, len(tt.want))
			}
			for _, w := range tt.want {
				key := "vendors." + tt.vendor + "." + w.key
				if !slices.ContainsFunc(got, func(p Problem) bool { return p.Key == key && strings.Contains(p.Message, w.msg) }) {
					t.Errorf("no problem at %q containing %q in %v", key, w.msg, got)
				}
			}
			for _, p := range got {
				if strings.Contains(p.String(), "s3cret") {
					t.Errorf("problem reveals a secret: %s", p)
				}
			}
		})
	}
}

func TestValidateCAFile(t *testing.T) {
	if got := accountProblems(t, "fcm", nil, "/etc/herald/sim-ca.pem"); got != nil {
		t.Errorf("valid ca_file: %v", got)
	}
	got := accountProblems(t, "fcm", nil, "  ")
	if len(got) != 1 || got[0].Key != "vendors.fcm.ca_file" {
		t.Errorf("blank ca_file: %v; want one problem at vendors.fcm.ca_file", got)
	}
}

func TestAccountValue(t *testing.T) {
	env := map[string]string{"HUAWEI_SECRET": "s3cret-env", "EMPTY": ""}
	files := map[string]string{"/secret": "s3cret-file \n\n", "/blank": " \n", "/p12": "\x30\x82\xff\x01\n"}
	getenv := func(k string) string { return env[k] }
	readFile := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	tests := []struct {
		name    string
		key     string
		account map[string]string
		want    string
		wantOK  bool
		wantErr string
	}{
		{"plain", "app_id", map[string]string{"app_id": "104"}, "104", true, ""},
		{"file trimmed", "app_secret", map[string]string{"app_secret_file": "/secret"}, "s3cret-file", true, ""},
		{"binary file intact", "certificate", map[string]string{"certificate_file": "/p12"}, "\x30\x82\xff\x01\n", true, ""},
		{"env", "app_secret", map[string]string{"app_secret_env": "HUAWEI_SECRET"}, "s3cret-env", true, ""},
		{"none", "app_key", map[string]string{"app_id": "104"}, "", false, ""},
		{"nil account", "app_id", nil, "", false, ""},
		{"env empty", "app_secret", map[string]string{"app_secret_env": "EMPTY"}, "", true,
			`app_secret_env: environment variable EMPTY is unset or empty`},
		{"env unset", "app_secret", map[string]string{"app_secret_env": "NOPE"}, "", true, `environment variable NOPE is unset or empty`},
		{"file missing", "app_secret", map[string]string{"app_secret_file": "/missing"}, "", true, `app_secret_file: open /missing`},
		{"file blank", "app_secret", map[string]string{"app_secret_file": "/blank"}, "", true, `app_secret_file: file /blank is empty`},
		{"file and env", "app_secret", map[string]string{"app_secret_file": "/secret", "app_secret_env": "HUAWEI_SECRET"}, "", true, "may be set"},
		{"plain and env", "app_secret", map[string]string{"app_secret": "s3cret-inline", "app_secret_env": "HUAWEI_SECRET"}, "", true, "may be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Vendor{Account: tt.account}.AccountValue(tt.key, getenv, readFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") || got != "" || !ok {
					t.Fatalf("got %q, %v, %v; want an error with %q without the secret", got, ok, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || ok != tt.wantOK {
				t.Fatalf("got %q, %v, %v; want %q, %v", got, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAccountValueDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("from-os-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_TEST_ACCOUNT_SECRET", "from-os-env")
	for key, want := range map[string]string{"master_secret_file": "from-os-file", "master_secret_env": "from-os-env"} {
		v := Vendor{Account: map[string]string{"master_secret_file": path, "master_secret_env": "HERALD_TEST_ACCOUNT_SECRET"}}
		delete(v.Account, map[string]string{"master_secret_file": "master_secret_env", "master_secret_env": "master_secret_file"}[key])
		if got, ok, err := v.AccountValue("master_secret", nil, nil); got != want || !ok || err != nil {
			t.Errorf("%s: got %q, %v, %v; want %q", key, got, ok, err, want)
		}
	}
}

func TestSimulatorMode(t *testing.T) {
	c := Default()
	if !c.SimulatorMode() || c.Vendors.Huawei.Configured() {
		t.Fatal("Default() is not in simulator mode")
	}
	c.Vendors.Huawei.Account = map[string]string{"app_id": "1", "app_secret_env": "S"}
	if c.SimulatorMode() || !c.Vendors.Huawei.Configured() {
		t.Fatal("a configured huawei account still means simulator mode")
	}
	no := false
	c.Vendors.Huawei.Enabled = &no
	if !c.SimulatorMode() {
		t.Fatal("a disabled configured vendor leaves simulator mode")
	}
	c.Vendors.Vivo.Account = map[string]string{"app_id": "1", "app_key": "k", "app_secret_env": "S"}
	if c.SimulatorMode() {
		t.Fatal("configured vivo still means simulator mode")
	}
}

// exampleBlock returns the commented YAML following the comment line marker
// in herald.yaml, uncommented, up to the first line not starting with "# ".
func exampleBlock(t *testing.T, marker string) string {
	t.Helper()
	lines := strings.Split(string(Example()), "\n")
	i := slices.Index(lines, marker)
	if i < 0 {
		t.Fatalf("herald.yaml lacks the line %q", marker)
	}
	var b strings.Builder
	for _, l := range lines[i+1:] {
		if !strings.HasPrefix(l, "# ") {
			break
		}
		b.WriteString(l[2:] + "\n")
	}
	return b.String()
}

func TestExampleAccountsValidate(t *testing.T) {
	in := "vendors:\n" + exampleBlock(t, "# Examples:")
	c, err := Parse([]byte(in), "example accounts")
	if err != nil {
		t.Fatalf("%v\n%s", err, in)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("%v\n%s", err, in)
	}
	for name, v := range c.Vendors.ByName() {
		if !v.Configured() {
			t.Errorf("the example lacks an account for %s", name)
		}
	}
	if c.SimulatorMode() {
		t.Error("the example accounts still mean simulator mode")
	}
}
