package daemon

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
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/herald-push/herald/vendors/sim"
)

// pushCmd is `herald push`: a test push through a running daemon's
// POST /v1/push/test, printing each vendor's verdict.
func pushCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var req pushTestRequest
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
	client := &http.Client{Timeout: pushTestTimeout + 5*time.Second}
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
	var out pushTestResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		fmt.Fprintln(stderr, "herald push: bad answer:", err)
		return 1
	}
	failed := 0
	if !*asJSON {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VENDOR\tPUSH_ID\tOK\tCODE\tLATENCY\tREASON")
		for _, r := range out.Results {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%dms\t%s\n", r.Vendor, shorten(r.PushID, 40), r.OK, r.Code, r.LatencyMS, r.Reason)
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
// the CA and a ready-to-use daemon config written to --out.
func simCmd(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve the simulators on")
	out := fs.String("out", "herald-sim", "directory for the CA certificate, simulator credentials and herald-sim.yaml")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := newLogger(defaultLog(), stderr)
	sims, err := sim.New(sim.Options{})
	if err != nil {
		log.Error("cannot build simulators", "err", err)
		return 1
	}
	srv, err := sims.Start(*listen)
	if err != nil {
		log.Error("cannot start simulators", "err", err)
		return 1
	}
	defer srv.Close()
	cfgPath, err := writeSimConfig(sims, srv.URL, *out)
	if err != nil {
		log.Error("cannot write simulator config", "err", err)
		return 1
	}
	log.Info("simulators listening", "url", srv.URL, "stats", srv.URL+"/sim/stats",
		"ca_file", filepath.Join(*out, "ca.pem"), "daemon_config", cfgPath)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	log.Info("simulators stopping")
	return 0
}
