package simhost

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/vendors/sim"
)

// WriteConfig writes, into dir, the simulators' CA (sims.CA, as
// ca.pem), the credentials they accept (one file per secret, mode 0600)
// and herald-sim.yaml: a daemon config whose vendors point at the
// simulators served at baseURL. It returns the config's path. `herald sim`
// keeps its CA and signing keys in dir instead (KeepState) and writes
// only the rest (WriteFiles).
func WriteConfig(sims *sim.Sims, baseURL, dir string) (string, error) {
	abs, err := OutDir(dir)
	if err != nil {
		return "", err
	}
	ca := filepath.Join(abs, CAFile)
	if err := sims.CA.WriteFile(ca); err != nil {
		return "", err
	}
	return WriteFiles(sims, baseURL, abs, ca)
}

// OutDir creates dir (mode 0700) and returns its absolute path.
func OutDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// WriteFiles writes into abs the credentials the simulators accept and
// herald-sim.yaml, whose vendors trust the CA certificate at ca (sims.CA's).
// Only the endpoints, accounts and secrets of sims' client configs are
// used, not their TLS. It returns the config's path.
func WriteFiles(sims *sim.Sims, baseURL, abs, ca string) (string, error) {
	secret := func(name, value string) (string, error) {
		p := filepath.Join(abs, name)
		return p, os.WriteFile(p, []byte(value), 0o600)
	}
	c := sims.ClientConfigs(baseURL)
	type section struct {
		name, endpoint string
		account        [][2]string // key, value (values of *_file keys are paths)
		secrets        [][3]string // key, file name, content
	}
	secs := []section{
		{name: "apns", endpoint: c.APNs.ProductionURL,
			account: [][2]string{{"topic", c.APNs.Topic}, {"key_id", c.APNs.KeyID}, {"team_id", c.APNs.TeamID}, {"development_endpoint", c.APNs.DevelopmentURL}},
			secrets: [][3]string{{"auth_key_file", "apns.p8", string(c.APNs.AuthKey)}}},
		{name: "fcm", endpoint: c.FCM.Endpoint, account: [][2]string{{"project_id", c.FCM.ProjectID}},
			secrets: [][3]string{{"credentials_file", "fcm.json", string(c.FCM.CredentialsJSON)}}},
		{name: "web", endpoint: c.Web.Endpoint, account: [][2]string{{"project_id", c.Web.ProjectID}},
			secrets: [][3]string{{"credentials_file", "web.json", string(c.Web.CredentialsJSON)}}},
		{name: "huawei", endpoint: c.Huawei.PushURL, account: [][2]string{{"app_id", c.Huawei.AppID}, {"auth_endpoint", c.Huawei.AuthURL}},
			secrets: [][3]string{{"app_secret_file", "huawei.secret", c.Huawei.AppSecret}}},
		{name: "xiaomi", endpoint: c.Xiaomi.Endpoint, account: [][2]string{{"package_name", c.Xiaomi.PackageName}},
			secrets: [][3]string{{"app_secret_file", "xiaomi.secret", c.Xiaomi.AppSecret}}},
		{name: "oppo", endpoint: c.OPPO.Endpoint, account: [][2]string{{"app_key", c.OPPO.AppKey}},
			secrets: [][3]string{{"master_secret_file", "oppo.secret", c.OPPO.MasterSecret}}},
		{name: "vivo", endpoint: c.Vivo.Endpoint, account: [][2]string{{"app_id", c.Vivo.AppID}, {"app_key", c.Vivo.AppKey}},
			secrets: [][3]string{{"app_secret_file", "vivo.secret", c.Vivo.AppSecret}}},
	}
	var b strings.Builder
	b.WriteString("# Written by `herald sim`: a daemon config whose vendors all point at the\n")
	b.WriteString("# simulators at " + baseURL + ". Run: herald serve --config " + filepath.Join(abs, "herald-sim.yaml") + "\n")
	b.WriteString("vendors:\n")
	for _, s := range secs {
		fmt.Fprintf(&b, "  %s:\n    endpoint: %q\n    ca_file: %q\n    account:\n", s.name, s.endpoint, ca)
		for _, kv := range s.account {
			fmt.Fprintf(&b, "      %s: %q\n", kv[0], kv[1])
		}
		for _, sc := range s.secrets {
			p, err := secret(sc[1], sc[2])
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "      %s: %q\n", sc[0], p)
		}
	}
	// The simulators, like the real OPPO and Xiaomi services, refuse
	// notifications without a channel: give the config the same default
	// push resource simulator mode uses.
	def := push.SimulatorDefaultResource()
	b.WriteString("resources:\n  default:\n    vendors:\n")
	for _, v := range slices.Sorted(maps.Keys(def.Vendors)) {
		rv := def.Vendors[v]
		fmt.Fprintf(&b, "      %s: {channel_id: %q, category: %q, notify_level: %d}\n", v, rv.ChannelID, rv.Category, rv.NotifyLevel)
	}
	path := filepath.Join(abs, "herald-sim.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", err
	}
	// The file must load and validate: it is what the user runs next.
	cfg, err := configs.Load(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return "", fmt.Errorf("generated simulator config does not validate: %w", err)
	}
	return path, nil
}
