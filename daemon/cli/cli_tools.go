package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/daemon/simhost"
)

// pushCmd is `herald push`: a test push through a running daemon's
// POST /v1/push/test, printing each vendor's verdict.
func pushCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var req api.PushTestRequest
	fs.StringVar(&req.PushID, "push-id", "", `PushID to push to, "<vendor>:<token>"`)
	fs.StringVar(&req.UserID, "user-id", "", "push to every bound device of this user instead")
	fs.StringVar(&req.Title, "title", "herald test", "notification title")
	fs.StringVar(&req.Content, "content", "test push from herald", "notification text")
	fs.StringVar(&req.Payload, "payload", "", "custom passthrough string")
	fs.StringVar(&req.ResourcesID, "resources-id", "", "push resource from the daemon's config")
	fs.BoolVar(&req.VoIP, "voip", false, "send a VoIP (call) push to iOS devices with a voip_token")
	server := fs.String("server", "http://127.0.0.1:8080", "herald API base URL")
	key := fs.String("key", "", "API key with the admin scope (default: $HERALD_KEY)")
	asJSON := fs.Bool("json", false, "print the raw JSON answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (req.PushID == "") == (req.UserID == "") {
		fmt.Fprintln(stderr, "herald push: give exactly one of --push-id and --user-id")
		return 2
	}
	if *key == "" {
		*key = os.Getenv("HERALD_KEY")
	}
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequest(http.MethodPost, strings.TrimRight(*server, "/")+"/v1/push/test", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "herald push:", err)
		return 2
	}
	hreq.Header.Set("Content-Type", "application/json")
	if *key != "" {
		hreq.Header.Set("Authorization", "Bearer "+*key)
	}
	client := &http.Client{Timeout: api.PushTestTimeout + 5*time.Second}
	resp, err := client.Do(hreq)
	if err != nil {
		fmt.Fprintln(stderr, "herald push:", err)
		return 1
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "herald push: %s: %s\n", resp.Status, bytes.TrimSpace(raw))
		return 1
	}
	if *asJSON {
		fmt.Fprintln(stdout, string(bytes.TrimSpace(raw)))
	}
	var out api.PushTestResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		fmt.Fprintln(stderr, "herald push: bad answer:", err)
		return 1
	}
	failed := 0
	if !*asJSON {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VENDOR\tPUSH_ID\tOK\tCODE\tLATENCY\tREASON")
		for _, r := range out.Results {
			reason := r.Reason
			if r.Unbound {
				reason += " (unbound)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%dms\t%s\n", r.Vendor, shorten(r.PushID, 40), r.OK, r.Code, r.LatencyMS, reason)
		}
		_ = tw.Flush()
	}
	for _, r := range out.Results {
		if !r.OK {
			failed++
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// simCmd is `herald sim`: every vendor simulator on one TLS listener, with
// the CA and a ready-to-use daemon config written to --out. The CA and the
// signing keys are kept there and reused by the next start (simhost.KeepState).
func simCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: herald sim [--listen ADDR] [--out DIR] [--new-ca]

Runs every vendor simulator on one TLS listener and writes DIR/herald-sim.yaml,
a daemon config pointing every vendor at them with ca_file: DIR/ca.pem.
The CA (DIR/ca.pem, its key DIR/ca-key.pem) and the APNs, FCM and Web
simulators' signing keys (DIR/sim-keys.pem) are made on the first start and
reused by later ones, each issuing a new server certificate from the CA, so a
herald running on DIR/herald-sim.yaml keeps working across simulator restarts.
A ca.pem, ca-key.pem or sim-keys.pem that cannot be used is an error, never
overwritten; --new-ca replaces the CA and the signing keys (restart every
herald that uses DIR; do not run it while another herald sim uses DIR).

`)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve the simulators on")
	out := fs.String("out", "herald-sim", "directory for the CA (ca.pem, ca-key.pem), signing keys, simulator credentials and herald-sim.yaml")
	newCA := fs.Bool("new-ca", false, "replace the CA and signing keys kept in --out with new ones instead of reusing them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := newLogger(defaultLog(), stderr)
	run, err := simhost.Start(*listen, *out, *newCA, time.Now(), log)
	if err != nil {
		log.Error("cannot start simulators", "err", err)
		return 1
	}
	defer run.Close()
	reused := func(created bool) string {
		if created {
			return "new"
		}
		return "reused"
	}
	log.Info("simulators listening", "url", run.URL, "stats", run.URL+"/sim/stats",
		"ca_file", run.CAFile, "ca", reused(run.CACreated), "ca_expires", run.CAExpires.UTC().Format(time.DateOnly),
		"signing_keys", reused(run.KeysCreated), "daemon_config", run.ConfigPath)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run.Wait(ctx); err != nil {
		log.Error("simulators stopped serving; exiting", "err", err)
		return 1
	}
	log.Info("simulators stopping")
	return 0
}
