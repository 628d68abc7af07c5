package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herald-push/herald/daemon/simhost"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/sim"
)

// TestCheckConfigFindsTenProblemsInOneRun: a config with ten different
// problems (decoding, values, and files and variables that only reading
// them shows) yields ten lines from check-config, one per problem by key
// path, and exit 1; `serve` refuses to start with the same ten lines. The
// same config with the problems fixed is "configuration ok".
func TestCheckConfigFindsTenProblemsInOneRun(t *testing.T) {
	dir := t.TempDir()
	sims, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sims.Close()
	// Credentials the vendor clients parse, as `herald sim` writes them.
	if _, err := simhost.WriteConfig(sims, "https://127.0.0.1:9", dir); err != nil {
		t.Fatal(err)
	}
	apnsCfg := sims.ClientConfigs("https://127.0.0.1:9").APNs
	file := func(name string) string { return filepath.Join(dir, name) }
	testutil.WriteFile(t, file("garbage.p12"), "\x30\x82 not a PKCS#12 file")
	testutil.WriteFile(t, file("nokey.json"), `{"type":"service_account","project_id":"p","client_email":"a@p.iam.gserviceaccount.com","private_key":"not PEM","token_uri":"https://oauth2.googleapis.com/token"}`)
	testutil.WriteFile(t, file("empty-ca.pem"), "no certificate here\n")

	good := `
listen: 127.0.0.1:0
presence: {default_ttl: 90s}
auth:
  keys:
    - {name: chat, key: chat-key-0123456789, scopes: [ingest, admin]}
vendors:
  apns:
    ca_file: ` + file(simhost.CAFile) + `
    account: {topic: com.example.chat, key_id: ` + apnsCfg.KeyID + `, team_id: ` + apnsCfg.TeamID + `, auth_key_file: ` + file("apns.p8") + `}
  fcm:
    account: {project_id: p, credentials_file: ` + file("fcm.json") + `}
  huawei:
    limits: {qps: 100}
    account: {app_id: "1", app_secret_file: ` + file("huawei.secret") + `}
  xiaomi:
    account: {package_name: com.example.chat, app_secret_file: ` + file("xiaomi.secret") + `}
  oppo:
    endpoint: https://api.push.oppomobile.com
    account: {app_key: k, master_secret_file: ` + file("oppo.secret") + `}
  vivo:
    ca_file: ` + file(simhost.CAFile) + `
    account: {app_id: "1", app_key: k, app_secret_file: ` + file("vivo.secret") + `}
`
	goodPath := file("good.yaml")
	testutil.WriteFile(t, goodPath, good)
	var out, errOut bytes.Buffer
	if code := Main([]string{"check-config", goodPath}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "configuration ok") {
		t.Fatalf("check-config on the good config: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}

	bad := good
	for _, r := range [][2]string{
		{"listen: 127.0.0.1:0\n", "listen: 127.0.0.1:0\nlistn: 127.0.0.1:1\n"},                                                                            // 1 unknown key
		{"default_ttl: 90s", "default_ttl: 90"},                                                                                                           // 2 not a duration
		{"limits: {qps: 100}", "limits: {qps: -1}"},                                                                                                       // 3 out of bounds
		{"endpoint: https://api.push.oppomobile.com", "endpoint: api.push.oppomobile.com"},                                                                // 4 not a URL
		{"key: chat-key-0123456789", "key_env: HERALD_TEST_UNSET_API_KEY"},                                                                                // 5 unset variable
		{"auth:\n", "tls: {cert_file: " + file("missing.crt") + ", key_file: " + file("missing.key") + "}\nauth:\n"},                                      // 6 missing file
		{"key_id: " + apnsCfg.KeyID + ", team_id: " + apnsCfg.TeamID + ", auth_key_file: " + file("apns.p8"), "certificate_file: " + file("garbage.p12")}, // 7 not a .p12
		{"credentials_file: " + file("fcm.json"), "credentials_file: " + file("nokey.json")},                                                              // 8 no private key
		{"app_secret_file: " + file("xiaomi.secret"), "app_secret_env: HERALD_TEST_UNSET_XIAOMI"},                                                         // 9 unset variable
		{"vivo:\n    ca_file: " + file(simhost.CAFile), "vivo:\n    ca_file: " + file("empty-ca.pem")},                                                    // 10 no certificate
	} {
		if !strings.Contains(bad, r[0]) {
			t.Fatalf("config lacks %q", r[0])
		}
		bad = strings.Replace(bad, r[0], r[1], 1)
	}
	badPath := file("bad.yaml")
	testutil.WriteFile(t, badPath, bad)
	wantKeys := []string{"listn", "presence.default_ttl", "vendors.huawei.limits.qps", "vendors.oppo.endpoint",
		"auth.keys[0].key_env", "tls.cert_file", "vendors.apns.account.certificate_file",
		"vendors.fcm.account.credentials_file", "vendors.xiaomi.account.app_secret_env", "vendors.vivo.ca_file"}

	problemLines := func(stderr string) []string {
		var keys []string
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			rest, ok := strings.CutPrefix(line, badPath+": ")
			if !ok {
				continue
			}
			if key, _, ok := strings.Cut(rest, ": "); ok {
				keys = append(keys, key)
			}
		}
		return keys
	}
	out.Reset()
	errOut.Reset()
	code := Main([]string{"check-config", badPath}, &out, &errOut)
	got := problemLines(errOut.String())
	if code != 1 || len(got) != len(wantKeys) || !strings.Contains(errOut.String(), badPath+": 10 problems\n") {
		t.Fatalf("check-config: exit %d, %d problem lines; want exit 1 and %d:\n%s", code, len(got), len(wantKeys), errOut.String())
	}
	for _, k := range wantKeys {
		if !slices.Contains(got, k) {
			t.Errorf("no line for %s:\n%s", k, errOut.String())
		}
	}
	checkLines := errOut.String()
	if strings.Contains(checkLines, "configs: ") || strings.Contains(checkLines, "apns: config") {
		t.Errorf("a line carries a package prefix:\n%s", checkLines)
	}

	errOut.Reset()
	code = Main([]string{"serve", "--config", badPath, "--data", file("data")}, &out, &errOut)
	if code != 1 || !strings.HasPrefix(errOut.String(), checkLines) || !strings.Contains(errOut.String(), "not starting") {
		t.Fatalf("serve: exit %d; want 1 with check-config's lines:\n%s", code, errOut.String())
	}
	if _, err := os.Stat(file("data")); !os.IsNotExist(err) {
		t.Fatalf("serve created its data dir before refusing: %v", err)
	}
}
