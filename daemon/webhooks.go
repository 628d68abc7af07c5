package daemon

import (
	"fmt"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/webhooks"
)

// webhookEndpoints resolves the configured endpoints' secrets (at New, so
// an unset variable stops the start with its name).
func webhookEndpoints(cfg configs.Webhooks, getenv func(string) string) ([]webhooks.Endpoint, error) {
	var out []webhooks.Endpoint
	for _, e := range cfg.Endpoints {
		secrets, err := e.Secrets(getenv)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		ep := webhooks.Endpoint{Name: e.Name, URL: e.URL, Events: e.EventsOrAll(), Timeout: e.Timeout.Std()}
		for _, s := range secrets {
			k, err := webhooks.ParseSecret(s)
			if err != nil {
				return nil, fmt.Errorf("daemon: webhook endpoint %q: %w", e.Name, err)
			}
			ep.Keys = append(ep.Keys, k)
		}
		out = append(out, ep)
	}
	return out, nil
}

// startWebhooks starts delivering the store's events when endpoints are
// configured (nil, no-op stop otherwise). The store's routes are set
// before any work resumes, so the events of resumed work are written.
func (d *Daemon) startWebhooks(st *store.Store) (*webhooks.Dispatcher, func(), error) {
	if len(d.hooks) == 0 {
		return nil, func() {}, nil
	}
	var names []string
	for _, k := range vendors.Kinds() {
		names = append(names, string(k))
	}
	w := d.cfg.Webhooks
	disp, err := webhooks.New(webhooks.Options{Store: st, Clock: d.clock, Log: d.log.With("component", "webhooks"), Endpoints: d.hooks,
		Vendors: names, BatchMax: w.BatchMax, MaxAttempts: w.MaxAttempts, MinBackoff: w.MinBackoff.Std(), MaxBackoff: w.MaxBackoff.Std(),
		ReceiptDelay: w.ReceiptDelay.Std()})
	if err != nil {
		return nil, nil, fmt.Errorf("daemon: %w", err)
	}
	disp.Start()
	d.m.reg.MustRegister(disp)
	d.log.Info("webhooks on", "endpoints", disp.Names())
	return disp, func() {
		st.SetWebhookRoutes(nil)
		disp.Stop()
		d.m.reg.Unregister(disp)
	}, nil
}

// webhookKeys are every endpoint's keys: in simulator mode the test
// receiver (/sim/webhooks) verifies with them.
func webhookKeys(eps []webhooks.Endpoint) [][]byte {
	var out [][]byte
	for _, e := range eps {
		out = append(out, e.Keys...)
	}
	return out
}
