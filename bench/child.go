package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/vendors/sim"
	"go.yaml.in/yaml/v3"
)

// Daemon modes: where the measured daemon runs.
const (
	DaemonChild     = "child"     // `herald serve` as its own process; simulators and load generator in the harness
	DaemonInProcess = "inprocess" // daemon, simulators and load generator in the harness's process
)

// WriteSimConfigFunc writes, into dir, a daemon config whose vendors point
// at the simulators s served at baseURL (with the simulators' CA and the
// credentials they accept) and returns its path: what `herald sim` writes
// as herald-sim.yaml. The daemon package provides it.
type WriteSimConfigFunc func(s *sim.Sims, baseURL, dir string) (string, error)

// childDaemon starts `herald serve` as a child process against simulators
// that run here, in the harness: the child's CPU and memory are then the
// daemon's alone. dir holds its config and (unless dataDir is set) its
// Pebble directory. base is the daemon section (scenario or --config) as
// YAML; the simulators' vendor sections are merged over it.
//
// The first start listens on a random loopback port, which is then written
// into the config file: a restart (the crash scenario kills the daemon and
// starts it again, see childProc) comes back on the same config, data dir
// and URL, so the load generator's connections reconnect to it.
func childDaemon(o Options, base []byte, dir string) (*Local, error) {
	if o.Herald == "" || o.WriteSimConfig == nil {
		return nil, errors.New("bench: --daemon child needs the herald executable (run it as `herald bench`)")
	}
	sims, err := sim.New(sim.Options{})
	if err != nil {
		return nil, err
	}
	srv, err := sims.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = srv.Close()
		}
	}()
	simCfg, err := o.WriteSimConfig(sims, srv.URL, filepath.Join(dir, "sim"))
	if err != nil {
		return nil, err
	}
	simYAML, err := os.ReadFile(simCfg)
	if err != nil {
		return nil, err
	}
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(dir, "data")
	}
	cfgPath := filepath.Join(dir, "herald-bench.yaml")
	writeConfig := func(listen string) error {
		merged, err := childConfig(base, simYAML, dataDir, listen)
		if err != nil {
			return err
		}
		return os.WriteFile(cfgPath, merged, 0o600)
	}
	if err := writeConfig("127.0.0.1:0"); err != nil {
		return nil, err
	}
	cfg, err := configs.Load(cfgPath)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("bench: the child daemon's config: %w", err)
	}
	p := &childProc{herald: o.Herald, cfgPath: cfgPath, cpuProfile: o.DaemonCPUProfile, log: &childLog{errs: o.Log}}
	if o.DaemonLog != "" {
		if p.logFile, err = os.Create(o.DaemonLog); err != nil {
			return nil, fmt.Errorf("bench: --daemon-log: %w", err)
		}
		p.log.out = p.logFile
	}
	addr, err := p.start()
	if err != nil {
		p.closeLog()
		return nil, err
	}
	if err := writeConfig(addr); err != nil {
		_ = p.stop()
		return nil, fmt.Errorf("bench: fixing the child daemon's port in its config: %w", err)
	}
	stop := func() error {
		defer srv.Close()
		return p.stop()
	}
	ok = true
	return &Local{URL: "http://" + addr, Sims: sims, SimURL: srv.URL, Stop: stop, PID: p.pid(), child: p}, nil
}

// childStartTimeout bounds how long a child daemon may take to log
// "listening" (Pebble replays its WAL first after a kill).
const childStartTimeout = 60 * time.Second

// childProc is `herald serve --config cfgPath` as a child process: one
// life at a time, which kill ends with SIGKILL and start begins again on
// the same config file.
type childProc struct {
	herald, cfgPath string
	cpuProfile      string // serve --cpuprofile ("" = none)
	log             *childLog
	logFile         *os.File // --daemon-log across every life (nil = none)

	mu  sync.Mutex
	cur *childLife // nil = not running
}

// childLife is one run of the child daemon.
type childLife struct {
	cmd    *exec.Cmd
	exited chan error // gets the exit status once its log is read to the end
}

// start begins a new life and returns its listen address once it logged
// "listening".
func (p *childProc) start() (string, error) {
	p.mu.Lock()
	running := p.cur != nil
	p.mu.Unlock()
	if running {
		return "", errors.New("bench: the child daemon is already running")
	}
	args := []string{"serve", "--config", p.cfgPath}
	if p.cpuProfile != "" {
		args = append(args, "--cpuprofile", p.cpuProfile)
	}
	cmd := exec.Command(p.herald, args...)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("bench: starting %s serve: %w", p.herald, err)
	}
	addr := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		p.log.read(stderr, addr)
		exited <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		p.mu.Lock()
		p.cur = &childLife{cmd: cmd, exited: exited}
		p.mu.Unlock()
		return a, nil
	case err := <-exited:
		return "", fmt.Errorf("bench: the child daemon exited at start (%v):\n%s", err, p.log.tail())
	case <-time.After(childStartTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return "", fmt.Errorf("bench: the child daemon did not start listening within %s:\n%s", childStartTimeout, p.log.tail())
	}
}

// take ends the current life's turn: the caller signals and reaps it.
func (p *childProc) take() *childLife {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.cur
	p.cur = nil
	return l
}

// pid is the running life's process id (0 = not running).
func (p *childProc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.cmd.Process.Pid
}

// kill ends the running life with SIGKILL (kill -9: no shutdown, nothing
// flushed) and waits until it is gone.
func (p *childProc) kill() error {
	l := p.take()
	if l == nil {
		return errors.New("bench: the child daemon is not running")
	}
	if err := l.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("bench: kill -9 of the child daemon: %w", err)
	}
	select {
	case <-l.exited:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("bench: the child daemon did not exit within 30s of SIGKILL")
	}
}

// stop ends the running life gracefully (SIGTERM, then SIGKILL after 30
// s) and closes the daemon log; a daemon that is not running (killed and
// not started again) is already stopped.
func (p *childProc) stop() error {
	defer p.closeLog()
	l := p.take()
	if l == nil {
		return nil
	}
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-l.exited:
		if err != nil {
			return fmt.Errorf("the child daemon exited with %v:\n%s", err, p.log.tail())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = l.cmd.Process.Kill()
		<-l.exited
		return fmt.Errorf("the child daemon did not stop within 30s of SIGTERM; killed")
	}
}

func (p *childProc) closeLog() {
	if p.logFile != nil {
		p.logFile.Close()
		p.logFile = nil
	}
}

// childConfig is the child daemon's config: base (the scenario's daemon
// section or --config), the simulators' config merged over it (their
// vendor endpoints, CA and accounts, and the default push resource), and
// the harness's own settings: the listen address (a random loopback port
// for the first start, that port once it is known), dataDir, JSON logs at
// warn or more verbose (the harness reads the "listening" line).
func childConfig(base, simYAML []byte, dataDir, listen string) ([]byte, error) {
	var root yaml.Node
	if len(bytes.TrimSpace(base)) > 0 {
		if err := yaml.Unmarshal(base, &root); err != nil {
			return nil, fmt.Errorf("bench: daemon config: %w", err)
		}
	}
	doc := docMapping(&root)
	var simRoot yaml.Node
	if err := yaml.Unmarshal(simYAML, &simRoot); err != nil {
		return nil, fmt.Errorf("bench: simulator config: %w", err)
	}
	mergeMapping(doc, docMapping(&simRoot))
	setScalar(doc, "listen", listen)
	setScalar(doc, "data_dir", dataDir)
	logm := childMapping(doc, "log")
	setScalar(logm, "format", "json")
	if lv := scalarOf(logm, "level"); lv == "" || strings.EqualFold(lv, "error") {
		setScalar(logm, "level", "warn")
	}
	return yaml.Marshal(doc)
}

// docMapping returns the top-level mapping of a parsed document, making an
// empty one when there is none.
func docMapping(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return n
}

func findKey(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// mergeMapping puts every key of src into dst: mappings merge key by key,
// anything else from src replaces dst's.
func mergeMapping(dst, src *yaml.Node) {
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		j := findKey(dst, k.Value)
		switch {
		case j < 0:
			dst.Content = append(dst.Content, k, v)
		case dst.Content[j+1].Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			mergeMapping(dst.Content[j+1], v)
		default:
			dst.Content[j+1] = v
		}
	}
}

func setScalar(m *yaml.Node, key, value string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	if j := findKey(m, key); j >= 0 {
		m.Content[j+1] = v
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func scalarOf(m *yaml.Node, key string) string {
	if j := findKey(m, key); j >= 0 && m.Content[j+1].Kind == yaml.ScalarNode {
		return m.Content[j+1].Value
	}
	return ""
}

func childMapping(m *yaml.Node, key string) *yaml.Node {
	if j := findKey(m, key); j >= 0 {
		if c := m.Content[j+1]; c.Kind == yaml.MappingNode {
			return c
		}
		m.Content[j+1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		return m.Content[j+1]
	}
	c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, c)
	return c
}

// childLog reads the child daemon's JSON log (its stderr): it copies every
// line to out (--daemon-log), passes error records to errs, keeps the last
// lines for error messages, and reports the "listening" record's addr.
type childLog struct {
	out  io.Writer
	errs io.Writer

	mu   sync.Mutex
	last []string
}

func (c *childLog) read(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		if c.out != nil {
			_, _ = c.out.Write(append(line, '\n'))
		}
		c.mu.Lock()
		c.last = append(c.last, string(line))
		if len(c.last) > 40 {
			c.last = c.last[1:]
		}
		c.mu.Unlock()
		var rec struct {
			Level, Msg, Addr string
		}
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		if !sent && strings.HasPrefix(rec.Msg, "listening") && rec.Addr != "" {
			addr <- rec.Addr
			sent = true
		}
		if rec.Level == "ERROR" && c.errs != nil && c.out == nil {
			fmt.Fprintf(c.errs, "herald serve: %s\n", line)
		}
	}
}

func (c *childLog) tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.last, "\n")
}
