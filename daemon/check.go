package daemon

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/webhooks"
)

// CheckConfig finds every problem `herald serve` would meet starting with
// cfg, in one run: Validate's (values and their combinations), then what
// only reading the files and the environment shows: every API key, the
// API's certificate, key and client CA, each configured vendor's secrets
// (an APNs .p8 key or .p12 certificate and its password, an FCM service
// account, the other vendors' app secrets) parsed as the vendor client
// parses them, every ca_file, the webhook secrets and the Huawei receipt
// key. Each problem names its key path. Nothing is contacted: a secret
// the vendor would refuse is found only when herald sends.
//
// env's Getenv and ReadFile are used (os.Getenv and os.ReadFile when nil).
func CheckConfig(cfg configs.Config, env Env) []configs.Problem {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.ReadFile == nil {
		env.ReadFile = os.ReadFile
	}
	var ps []configs.Problem
	add := func(key string, err error) {
		var fe *configs.FieldError
		if errors.As(err, &fe) {
			if key != "" {
				key += "."
			}
			ps = append(ps, configs.Problem{Key: key + fe.Key, Message: fe.Msg})
			return
		}
		ps = append(ps, configs.Problem{Key: key, Message: err.Error()})
	}
	var ve *configs.ValidationError
	if err := cfg.Validate(); errors.As(err, &ve) {
		ps = append(ps, ve.Problems...)
	}
	// Validate reported a section whose sources are contradictory; its
	// files are read only where they are unambiguous.
	for i, k := range cfg.Auth.Keys {
		if countSet(k.Key, k.KeyFile, k.KeyEnv) != 1 {
			continue
		}
		if _, err := k.Secret(env.Getenv, env.ReadFile); err != nil {
			add(fmt.Sprintf("auth.keys[%d]", i), err)
		}
	}
	if cfg.TLS.CertFile != "" && cfg.TLS.KeyFile != "" {
		if _, _, err := newAPITLS(cfg.TLS, env.ReadFile); err != nil {
			add("", err)
		}
	}
	if err := cfg.CheckWebhooks(env.Getenv, env.ReadFile); errors.As(err, &ve) {
		ps = append(ps, ve.Problems...)
	}
	for i, e := range cfg.Webhooks.Endpoints {
		secrets, err := e.Secrets(env.Getenv)
		if err != nil {
			continue // CheckWebhooks named it
		}
		for j, s := range secrets {
			if _, err := webhooks.ParseSecret(s); err != nil {
				ps = append(ps, configs.Problem{Key: fmt.Sprintf("webhooks.endpoints[%d].secrets_env[%d]", i, j),
					Message: fmt.Sprintf("environment variable %s: %v", e.SecretsEnv[j], err)})
			}
		}
	}
	if h := cfg.Receipts.Huawei; cfg.Receipts.Enabled && h.CallbackKeyEnv != "" && env.Getenv(h.CallbackKeyEnv) == "" {
		ps = append(ps, configs.Problem{Key: "receipts.huawei.callback_key_env",
			Message: fmt.Sprintf("environment variable %s is unset or empty", h.CallbackKeyEnv)})
	}
	if !cfg.SimulatorMode() {
		ps = append(ps, checkVendors(cfg, env, ps)...)
	}
	return ps
}

// checkVendors reads every enabled, configured vendor's ca_file and
// secrets and builds its client from them, as serve does, unless found
// (Validate's problems) names the vendor already.
func checkVendors(cfg configs.Config, env Env, found []configs.Problem) []configs.Problem {
	var ps []configs.Problem
	byName := cfg.Vendors.ByName()
	for _, k := range vendors.Kinds() {
		sec := byName[string(k)]
		if !sec.IsEnabled() || !sec.Configured() {
			continue
		}
		base := "vendors." + string(k)
		n := len(ps)
		if slices.ContainsFunc(found, func(p configs.Problem) bool { return strings.HasPrefix(p.Key+".", base+".") }) {
			n = -1
		}
		if _, err := readCAFile(*sec, env); err != nil {
			ps = append(ps, fieldProblem(base, err))
		}
		for _, key := range slices.Sorted(maps.Keys(sec.Account)) {
			name, ok := strings.CutSuffix(key, "_file")
			if !ok {
				name, ok = strings.CutSuffix(key, "_env")
			}
			if !ok {
				continue
			}
			if _, _, err := sec.AccountValue(name, env.Getenv, env.ReadFile); err != nil {
				ps = append(ps, fieldProblem(base+".account", err))
			}
		}
		if len(ps) > n {
			continue // the client would fail on the same
		}
		s, _, err := realSender(k, *sec, env, receiptSetup{})
		if err != nil {
			ps = append(ps, configs.Problem{Key: base + ".account" + secretKey(k, sec), Message: clientError(err)})
			continue
		}
		if c, ok := s.(io.Closer); ok {
			_ = c.Close()
		}
	}
	return ps
}

// fieldProblem is err as a problem under base, keyed by its field.
func fieldProblem(base string, err error) configs.Problem {
	var fe *configs.FieldError
	if errors.As(err, &fe) {
		return configs.Problem{Key: base + "." + fe.Key, Message: fe.Msg}
	}
	return configs.Problem{Key: base, Message: err.Error()}
}

// secretKey is the account key holding the secret whose parsing a vendor
// client's construction checks ("" where it checks none).
func secretKey(k vendors.Kind, sec *configs.Vendor) string {
	var name string
	switch k {
	case vendors.APNs:
		name = "certificate"
		for _, s := range []string{"auth_key_file", "auth_key_env", "key_id", "team_id"} {
			if _, ok := sec.Account[s]; ok {
				name = "auth_key"
			}
		}
	case vendors.FCM, vendors.Web:
		name = "credentials"
	default:
		return ""
	}
	for _, suffix := range []string{"_file", "_env"} {
		if _, ok := sec.Account[name+suffix]; ok {
			return "." + name + suffix
		}
	}
	return ""
}

// clientPrefix is the "<vendor>: config: <field>" a client's errors start
// with.
var clientPrefix = regexp.MustCompile(`^[a-z]+: (config: )?(Certificate: |AuthKey: |CredentialsJSON )?`)

// clientError is a vendor client's construction error without its
// package's prefix: the problem's key already says where it is.
func clientError(err error) string {
	return clientPrefix.ReplaceAllString(err.Error(), "")
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}
