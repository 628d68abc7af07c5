package configs

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// accountSpec lists the account keys one vendor accepts. A secret named s is
// given only as s_file (a file holding it) or s_env (an environment variable
// holding it), never inline.
type accountSpec struct {
	plain    []string // keys whose value is given inline
	urls     []string // optional inline keys holding an http(s) URL
	secrets  []string // secret names
	required []string // plain keys or secret names that must be set
}

// accountSpecs holds every vendor's account keys. APNs additionally needs
// exactly one auth mode; see validateAPNsAuth.
var accountSpecs = map[string]accountSpec{
	"apns": {
		plain:    []string{"topic", "key_id", "team_id"},
		urls:     []string{"development_endpoint"},
		secrets:  []string{"auth_key", "certificate", "certificate_password"},
		required: []string{"topic"},
	},
	"fcm":    {plain: []string{"project_id"}, secrets: []string{"credentials"}, required: []string{"project_id", "credentials"}},
	"web":    {plain: []string{"project_id"}, secrets: []string{"credentials"}, required: []string{"project_id", "credentials"}},
	"huawei": {plain: []string{"app_id"}, urls: []string{"auth_endpoint"}, secrets: []string{"app_secret"}, required: []string{"app_id", "app_secret"}},
	"xiaomi": {plain: []string{"package_name"}, secrets: []string{"app_secret"}, required: []string{"package_name", "app_secret"}},
	"oppo":   {plain: []string{"app_key"}, secrets: []string{"master_secret"}, required: []string{"app_key", "master_secret"}},
	"vivo":   {plain: []string{"app_id", "app_key"}, secrets: []string{"app_secret"}, required: []string{"app_id", "app_key", "app_secret"}},
}

// allowed returns every key the spec accepts, in documentation order.
func (s accountSpec) allowed() []string {
	keys := slices.Concat(s.plain, s.urls)
	for _, name := range s.secrets {
		keys = append(keys, name+"_file", name+"_env")
	}
	return keys
}

// Configured reports whether the vendor has account settings, i.e. herald
// sends through the real vendor service rather than a simulator.
func (v Vendor) Configured() bool { return len(v.Account) > 0 }

// AccountValue resolves account setting name: the inline value of key name
// if present, else the content of the file named by key name+"_file"
// (trailing whitespace trimmed from text; binary content such as a .p12
// certificate is returned as is), else the environment variable named by key
// name+"_env". ok is false when none of the three keys is set. getenv and
// readFile default to os.Getenv and os.ReadFile when nil. An empty file or
// environment variable, an unreadable file and more than one of the three
// keys are errors; errors are *FieldError naming the key (within account)
// and never contain the secret.
func (v Vendor) AccountValue(name string, getenv func(string) string, readFile func(string) ([]byte, error)) (value string, ok bool, err error) {
	var set []string
	for _, k := range []string{name, name + "_file", name + "_env"} {
		if _, has := v.Account[k]; has {
			set = append(set, k)
		}
	}
	switch len(set) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, &FieldError{Key: set[0], Msg: fmt.Sprintf("only one of %s may be set", quoteAll(set))}
	}
	key := set[0]
	ref := v.Account[key]
	switch key {
	case name:
		return ref, true, nil
	case name + "_file":
		if readFile == nil {
			readFile = os.ReadFile
		}
		if ref == "" {
			return "", true, &FieldError{Key: key, Msg: "no file given"}
		}
		b, err := readFile(ref)
		if err != nil {
			return "", true, &FieldError{Key: key, Msg: err.Error()}
		}
		s := string(b)
		if utf8.Valid(b) { // text; binary content (a .p12) must stay intact
			s = strings.TrimRightFunc(s, unicode.IsSpace)
		}
		if s == "" {
			return "", true, &FieldError{Key: key, Msg: fmt.Sprintf("file %s is empty", ref)}
		}
		return s, true, nil
	default:
		if getenv == nil {
			getenv = os.Getenv
		}
		if ref == "" {
			return "", true, &FieldError{Key: key, Msg: "no environment variable given"}
		}
		s := getenv(ref)
		if s == "" {
			return "", true, &FieldError{Key: key, Msg: fmt.Sprintf("environment variable %s is unset or empty", ref)}
		}
		return s, true, nil
	}
}

// SimulatorMode reports whether no enabled vendor is Configured. Then herald
// runs every vendor against its built-in simulators (at sim_listen).
func (c *Config) SimulatorMode() bool {
	for _, v := range c.Vendors.ByName() {
		if v.IsEnabled() && v.Configured() {
			return false
		}
	}
	return true
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

// validateAccount checks vendor's account map; base is its YAML path. Values
// are never quoted in problems, since a misplaced secret could be among them.
func validateAccount(ck *checker, base, vendor string, account map[string]string) {
	spec := accountSpecs[vendor]
	allowed := spec.allowed()
	for _, k := range slices.Sorted(maps.Keys(account)) {
		val, key := account[k], base+"."+k
		switch {
		case slices.Contains(spec.secrets, k):
			ck.add(key, "unknown account key %q for %s: secrets are not given inline, use %s_file or %s_env (allowed keys: %s)",
				k, vendor, k, k, strings.Join(allowed, ", "))
		case !slices.Contains(allowed, k):
			ck.add(key, "unknown account key %q for %s (allowed keys: %s)", k, vendor, strings.Join(allowed, ", "))
		case slices.Contains(spec.urls, k):
			if val != "" && !isHTTPURL(val) {
				ck.add(key, "must be empty (the vendor default) or an http(s) URL such as \"https://push.example.com\"")
			}
		case strings.TrimSpace(val) == "":
			ck.add(key, "must not be empty")
		case strings.HasSuffix(k, "_env") && !isEnvName(val):
			ck.add(key, "must be an environment variable name (letters, digits and '_', not starting with a digit)")
		}
	}
	if len(account) == 0 {
		return
	}
	has := func(k string) bool { _, ok := account[k]; return ok }
	hasSecret := func(s string) bool { return has(s+"_file") || has(s+"_env") }
	for _, s := range spec.secrets {
		if has(s+"_file") && has(s+"_env") {
			ck.add(base, "only one of %s_file and %s_env may be set", s, s)
		}
	}
	var missing []string
	need := func(k string) {
		switch {
		case slices.Contains(spec.secrets, k) && !hasSecret(k):
			missing = append(missing, "one of "+k+"_file or "+k+"_env")
		case !slices.Contains(spec.secrets, k) && !has(k):
			missing = append(missing, k)
		}
	}
	for _, k := range spec.required {
		need(k)
	}
	if vendor == "apns" {
		token := has("key_id") || has("team_id") || hasSecret("auth_key")
		cert := hasSecret("certificate") || hasSecret("certificate_password")
		switch {
		case token && cert:
			ck.add(base, "set either token auth (key_id, team_id, auth_key_file or auth_key_env) or certificate auth (certificate_file or certificate_env, certificate_password_file or certificate_password_env), not both")
		case token:
			need("key_id")
			need("team_id")
			need("auth_key")
		case cert:
			need("certificate")
		default:
			missing = append(missing, "an auth mode: token auth (key_id, team_id and one of auth_key_file or auth_key_env) or certificate auth (one of certificate_file or certificate_env)")
		}
	}
	if len(missing) > 0 {
		ck.add(base, "%s account is missing %s", vendor, strings.Join(missing, ", "))
	}
}
