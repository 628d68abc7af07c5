package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"reflect"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/vendors"
)

// Reload re-reads the configuration (Env.LoadConfig) and applies what can
// change at run time: vendor limits and retry policy (to running senders,
// keeping their queues), push resources, the API listener's TLS files
// (read again for new connections; turning TLS on or off needs a restart)
// and every running vendor client's ca_file (read again; what it trusts
// applies to requests started after the reload, over new connections).
// Other changed keys are named in the log as needing a restart. An
// invalid configuration is refused and the running one stays.
func (d *Daemon) Reload() (api.ReloadResult, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	var refused error
	switch {
	case !d.ready.Load():
		refused = errors.New("not serving yet; reload after start-up")
	case d.env.LoadConfig == nil:
		refused = errors.New("this daemon was started without a reloadable configuration")
	}
	if refused != nil {
		d.log.Error("config reload refused; keeping the running configuration", "err", refused)
		return api.ReloadResult{}, refused
	}
	next, err := d.env.LoadConfig()
	if err == nil {
		err = next.Validate()
	}
	if err != nil {
		d.log.Error("config reload refused; keeping the running configuration", "err", err)
		return api.ReloadResult{}, err
	}
	next = withSimulatorDefaults(next)
	// The TLS files are read again even when their names did not change
	// (a renewed certificate is why an operator reloads); a file that
	// cannot be used refuses the whole reload, before anything is applied.
	var nextTLS *tls.Config
	var tlsAt tlsInfo
	if d.tls != nil && next.TLS.Enabled() {
		if nextTLS, tlsAt, err = d.tls.read(next.TLS); err != nil {
			d.log.Error("config reload refused; keeping the running configuration", "err", err)
			return api.ReloadResult{}, err
		}
	}
	cur := d.live
	curV, nextV := cur.Vendors.ByName(), next.Vendors.ByName()
	// Likewise every running vendor client's ca_file (a rotated CA).
	cas, err := d.push.rereadCAFiles(nextV, d.env)
	if err != nil {
		d.log.Error("config reload refused; keeping the running configuration", "err", err)
		return api.ReloadResult{}, err
	}
	var applied []string
	for _, k := range d.senders.Kinds() {
		a, b := curV[string(k)], nextV[string(k)]
		if reflect.DeepEqual(a.Limits, b.Limits) && reflect.DeepEqual(a.Retry, b.Retry) {
			continue
		}
		d.senders.SetConfig(k, senderConfig(b))
		applied = append(applied, fmt.Sprintf("vendors.%s.limits/retry", k))
	}
	if !reflect.DeepEqual(cur.Resources, next.Resources) {
		d.composer.SetResources(next.Resources)
		applied = append(applied, "resources")
	}
	if nextTLS != nil {
		d.tls.cur.Store(nextTLS)
		applied = append(applied, "tls")
		cur.TLS = next.TLS
		d.log.Info("tls: certificate reloaded", tlsAt.attrs()...)
	}
	for _, c := range cas {
		d.push.setCA(c)
		applied = append(applied, fmt.Sprintf("vendors.%s.ca_file", c.kind))
		d.log.Info("vendor ca_file reloaded: new connections verify against it", "vendor", c.kind, "ca_file", caFileName(c.ca.name))
	}
	// Keep the applied parts; everything else needs a restart.
	for _, k := range vendors.Kinds() {
		*curV[string(k)] = withLimits(*curV[string(k)], *nextV[string(k)])
		if d.push.trust[k] != nil { // a ca_file applies to a running client only
			curV[string(k)].CAFile = nextV[string(k)].CAFile
		}
	}
	cur.Resources = next.Resources
	restart := restartOnly(cur, next)
	d.live = cur
	res := api.ReloadResult{Applied: applied, NeedsRestart: restart}
	if res.Applied == nil {
		res.Applied = []string{}
	}
	if res.NeedsRestart == nil {
		res.NeedsRestart = []string{}
	}
	d.log.Info("configuration reloaded", "applied", res.Applied, "needs_restart", res.NeedsRestart)
	return res, nil
}

// caFileName is name for the log, "" spelled out.
func caFileName(name string) string {
	if name == "" {
		return "none (system roots only)"
	}
	return name
}

func withLimits(cur, next configs.Vendor) configs.Vendor {
	cur.Limits, cur.Retry = next.Limits, next.Retry
	return cur
}

// restartOnly names top-level sections that differ and are not reloadable.
func restartOnly(cur, next configs.Config) []string {
	var out []string
	a, b := reflect.ValueOf(cur), reflect.ValueOf(next)
	t := a.Type()
	for i := range t.NumField() {
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			out = append(out, t.Field(i).Tag.Get("yaml"))
		}
	}
	return out
}
