// Command memprobe measures herald's memory while users are registered,
// fanned out to, made active and passivated, for one or more herald
// binaries in the same run (so an old commit and the working tree are
// measured on the same machine state).
//
//	go build -o /tmp/herald-new . && git worktree add /tmp/old <commit> && (cd /tmp/old && go build -o /tmp/herald-old .)
//	go run ./tools/memprobe --bin old=/tmp/herald-old --bin new=/tmp/herald-new --users 100000,300000 --fanout
//	go run ./tools/memprobe --bin new=/tmp/herald-new --users 1000000 --active 100000
//
// Each run starts `herald sim` (the vendor simulators, in their own process,
// so they are not counted) and `herald serve` on a fresh data directory,
// registers the users through POST /v1/devices/batch (one device each,
// vendors mixed as in the bench's fanout scenario), optionally sends one
// group message to all of them and waits until every notification got a
// verdict, optionally makes the first --active users online (POST
// /v1/presence), then waits for the user actors to passivate. After each
// step it prints the daemon's herald_user_actors_active,
// go_memstats_heap_inuse_bytes, its RSS (VmRSS) and its peak RSS so far
// (VmHWM), all read from the daemon process.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/herald-push/herald/client"
	"go.yaml.in/yaml/v3"
)

type binFlag []string

func (b *binFlag) String() string     { return strings.Join(*b, ",") }
func (b *binFlag) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var bins binFlag
	flag.Var(&bins, "bin", "label=path of a herald binary (repeatable)")
	users := flag.String("users", "100000,300000", "comma-separated user counts, one run each")
	fanout := flag.Bool("fanout", false, "after registering, send one group message to every user and wait for the verdicts")
	active := flag.Int("active", 0, "after registering, put this many users online (presence), making them active")
	idle := flag.Duration("idle", 20*time.Second, "users.idle_timeout of the daemon")
	settle := flag.Duration("settle", 10*time.Second, "extra wait after passivation before the last sample")
	cache := flag.String("cache", "", "cache_size of the daemon (empty = its default)")
	flag.Parse()
	if len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "memprobe: at least one --bin label=path")
		os.Exit(2)
	}
	for _, n := range strings.Split(*users, ",") {
		count, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil {
			fmt.Fprintln(os.Stderr, "memprobe: bad --users:", err)
			os.Exit(2)
		}
		for _, b := range bins {
			label, path, ok := strings.Cut(b, "=")
			if !ok {
				label, path = filepath.Base(b), b
			}
			r := run{label: label, bin: path, users: count, fanout: *fanout, active: *active, idle: *idle, settle: *settle, cache: *cache}
			if err := r.do(); err != nil {
				fmt.Fprintf(os.Stderr, "memprobe: %s users=%d: %v\n", label, count, err)
				os.Exit(1)
			}
		}
	}
}

type run struct {
	label, bin    string
	users, active int
	fanout        bool
	idle, settle  time.Duration
	cache         string

	pid   int
	api   *client.Client
	start time.Time
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (r *run) do() error {
	dir, err := os.MkdirTemp("", "memprobe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	simAddr, err := freePort()
	if err != nil {
		return err
	}
	sim := exec.Command(r.bin, "sim", "--listen", simAddr, "--out", filepath.Join(dir, "sim"))
	sim.Stderr, sim.Stdout = nil, nil
	if err := sim.Start(); err != nil {
		return err
	}
	defer func() { _ = sim.Process.Signal(syscall.SIGTERM); _ = sim.Wait() }()
	simCfg := filepath.Join(dir, "sim", "herald-sim.yaml")
	if err := waitFile(simCfg); err != nil {
		return err
	}
	listen, err := freePort()
	if err != nil {
		return err
	}
	cfgPath, err := r.config(simCfg, dir, listen)
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	srv := exec.Command(r.bin, "serve", "--config", cfgPath)
	srv.Stderr, srv.Stdout = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	r.pid = srv.Process.Pid
	if r.api, err = client.New("http://"+listen, client.Options{MaxConns: 16}); err != nil {
		return err
	}
	defer r.api.Close()
	if err := r.waitReady(); err != nil {
		return err
	}
	r.start = time.Now()
	ctx := context.Background()
	r.sample("started")

	devs := r.devices()
	t0 := time.Now()
	for s := 0; s < len(devs); s += 1000 {
		if _, err := r.api.PutDevices(ctx, devs[s:min(s+1000, len(devs))]); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	r.sample(fmt.Sprintf("registered (%.1fs, %.0f devices/s)", time.Since(t0).Seconds(), float64(len(devs))/time.Since(t0).Seconds()))

	if r.fanout {
		ids := make([]string, r.users)
		for i := range ids {
			ids[i] = userID(i)
		}
		for s := 0; s < len(ids); s += 10000 {
			if _, err := r.api.ChangeGroup(ctx, "probe", ids[s:min(s+10000, len(ids))], nil); err != nil {
				return fmt.Errorf("group: %w", err)
			}
		}
		base := r.verdicts()
		t1 := time.Now()
		if _, err := r.api.SendMessage(ctx, client.MessageRequest{MessageID: "probe-1", From: "probe-sender",
			To: &client.MessageTo{Type: "group", ID: "probe"}, Body: []byte(`{"text":"hi"}`), Push: &client.MessagePush{Title: "t", Content: "c"}}); err != nil {
			return fmt.Errorf("message: %w", err)
		}
		deadline := time.Now().Add(10 * time.Minute)
		for r.verdicts()-base < float64(r.users) {
			if time.Now().After(deadline) {
				return fmt.Errorf("fan-out: only %.0f of %d verdicts", r.verdicts()-base, r.users)
			}
			time.Sleep(200 * time.Millisecond)
		}
		r.sample(fmt.Sprintf("fanned out (%.1fs)", time.Since(t1).Seconds()))
	}
	if r.active > 0 {
		n := min(r.active, r.users)
		online, ttl := true, int64(3600)
		for s := 0; s < n; s += 1000 {
			var ups []client.PresenceUpdate
			for i := s; i < min(s+1000, n); i++ {
				ups = append(ups, client.PresenceUpdate{UserID: userID(i), DeviceID: "d0", Online: &online, TTLS: &ttl})
			}
			if _, err := r.api.Presence(ctx, ups); err != nil {
				return fmt.Errorf("presence: %w", err)
			}
		}
		r.sample(fmt.Sprintf("%d users active", n))
	}
	deadline := time.Now().Add(r.idle*3 + time.Minute)
	for r.metric("herald_user_actors_active") > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("actors did not passivate")
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.sample("passivated")
	time.Sleep(r.settle)
	r.sample(fmt.Sprintf("passivated +%s", r.settle))
	return nil
}

// config merges the simulators' daemon config with the probe's settings.
func (r *run) config(simCfg, dir, listen string) (string, error) {
	raw, err := os.ReadFile(simCfg)
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", err
	}
	cfg["listen"] = listen
	cfg["data_dir"] = filepath.Join(dir, "data")
	cfg["log"] = map[string]any{"level": "warn"}
	cfg["users"] = map[string]any{"idle_timeout": r.idle.String()}
	if r.cache != "" {
		cfg["cache_size"] = r.cache
	}
	vs, _ := cfg["vendors"].(map[string]any)
	for name, v := range vs {
		sec, _ := v.(map[string]any)
		if sec == nil {
			continue
		}
		lim := map[string]any{"qps": 1000, "burst": 1000, "max_in_flight": 16}
		if name == "apns" || name == "fcm" || name == "web" {
			lim = map[string]any{"qps": 100000, "burst": 100000, "max_in_flight": 500}
		}
		sec["limits"] = lim
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "herald.yaml")
	return p, os.WriteFile(p, out, 0o600)
}

var vendorPlan = []string{"apns", "huawei", "fcm", "xiaomi", "apns", "oppo", "apns", "vivo", "huawei", "fcm", "web", "xiaomi"}

func userID(i int) string { return "probe-user-" + strconv.Itoa(i) }

func (r *run) devices() []client.BatchDevice {
	out := make([]client.BatchDevice, r.users)
	for i := range out {
		out[i] = client.BatchDevice{UserID: userID(i), DeviceID: "d0", PutDeviceRequest: client.PutDeviceRequest{Vendor: vendorPlan[i%len(vendorPlan)],
			Token: "probe-token-" + strconv.Itoa(i)}}
	}
	return out
}

func (r *run) waitReady() error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if err := r.api.Ready(context.Background()); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("daemon not ready")
}

func waitFile(p string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(p); err == nil {
			time.Sleep(100 * time.Millisecond)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not appear", p)
}

func (r *run) scrape() map[string]float64 {
	out := map[string]float64{}
	resp, err := httpGet(r.api.URL() + "/metrics")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(strings.NewReader(resp))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[name] += v
		}
	}
	return out
}

func (r *run) metric(name string) float64 { return r.scrape()[name] }

// verdicts is every notification that got a final verdict so far.
func (r *run) verdicts() float64 {
	m := r.scrape()
	return m["herald_vendor_sent_total"] + m["herald_vendor_invalid_total"] + m["herald_vendor_dead_total"] + m["herald_vendor_expired_total"]
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func procStatus(pid int) (rss, hwm int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			hwm = kb * 1024
		}
	}
	return rss, hwm
}

func (r *run) sample(step string) {
	m := r.scrape()
	rss, hwm := procStatus(r.pid)
	const mb = 1 << 20
	fmt.Printf("%-6s users=%-8d t=%6.1fs %-40s actors=%-7.0f heap_inuse=%6.1fMB heap_alloc=%6.1fMB rss=%6.1fMB peak_rss=%6.1fMB\n",
		r.label, r.users, time.Since(r.start).Seconds(), step, m["herald_user_actors_active"],
		m["go_memstats_heap_inuse_bytes"]/mb, m["go_memstats_heap_alloc_bytes"]/mb, float64(rss)/mb, float64(hwm)/mb)
}
