package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/webhooks"
)

// webhookEndpoint is a configured endpoint with its secrets resolved
// and its CA file read.
type webhookEndpoint struct {
	webhooks.Endpoint
	caPEM []byte // ca_file's certificates; nil = none
}

// webhookEndpoints resolves the configured endpoints' secrets and reads
// their CA files (at New, so an unset variable or a bad file stops the
// start with its name).
func webhookEndpoints(cfg configs.Webhooks, getenv func(string) string, readFile func(string) ([]byte, error)) ([]webhookEndpoint, error) {
	var out []webhookEndpoint
	for _, e := range cfg.Endpoints {
		secrets, err := e.Secrets(getenv)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		ep := webhookEndpoint{Endpoint: webhooks.Endpoint{Name: e.Name, URL: e.URL, Events: e.EventsOrAll(), Timeout: e.Timeout.Std()}}
		for _, s := range secrets {
			k, err := webhooks.ParseSecret(s)
			if err != nil {
				return nil, fmt.Errorf("daemon: webhook endpoint %q: %w", e.Name, err)
			}
			ep.Keys = append(ep.Keys, k)
		}
		if e.CAFile != "" {
			pem, err := readFile(e.CAFile)
			if err != nil {
				return nil, fmt.Errorf("daemon: webhook endpoint %q: ca_file: %w", e.Name, err)
			}
			if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("daemon: webhook endpoint %q: ca_file %q holds no PEM certificate", e.Name, e.CAFile)
			}
			ep.caPEM = pem
		}
		out = append(out, ep)
	}
	return out, nil
}

// systemRoots is a copy of the system's roots (an empty pool where there
// are none).
func systemRoots() *x509.CertPool {
	if p, err := x509.SystemCertPool(); err == nil {
		return p
	}
	return x509.NewCertPool()
}

// webhookClient posts deliveries trusting roots.
func webhookClient(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return webhooks.NoRedirects(tr)
}

// webhookKeys are every endpoint's keys: in simulator mode the test
// receiver (/sim/webhooks) verifies with them.
func webhookKeys(eps []webhookEndpoint) [][]byte {
	var out [][]byte
	for _, e := range eps {
		out = append(out, e.Keys...)
	}
	return out
}

// startWebhooks starts delivering the store's events when endpoints are
// configured (nil and a no-op stop otherwise). It runs before any work
// resumes, so the events of resumed work are written. simCA (PEM), when
// not nil, is trusted too (simulator mode: the test receiver is on the
// simulators' listener).
func (d *Daemon) startWebhooks(st *store.Store, simCA []byte) (*webhooks.Dispatcher, func(), error) {
	if len(d.hooks) == 0 {
		return nil, func() {}, nil
	}
	var names []string
	for _, k := range vendors.Kinds() {
		names = append(names, string(k))
	}
	eps := make([]webhooks.Endpoint, len(d.hooks))
	for i, e := range d.hooks {
		eps[i] = e.Endpoint
		if e.caPEM != nil || simCA != nil {
			roots := systemRoots()
			roots.AppendCertsFromPEM(e.caPEM)
			roots.AppendCertsFromPEM(simCA)
			eps[i].Client = webhookClient(roots)
		}
	}
	w := d.cfg.Webhooks
	disp, err := webhooks.New(webhooks.Options{Store: st, Clock: d.clock, Log: d.log.With("component", "webhooks"), Endpoints: eps,
		Vendors: names, BatchMax: w.BatchMax, MaxAttempts: w.MaxAttempts, MinBackoff: w.MinBackoff.Std(),
		MaxBackoff: w.MaxBackoff.Std(), ReceiptDelay: w.ReceiptDelay.Std()})
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
