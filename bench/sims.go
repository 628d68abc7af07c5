package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

// ErrNoReceipts means the simulators cannot report individual receipts
// (an external simulator without GET /sim/receipts): counts still work,
// latencies measured at the simulators do not.
var ErrNoReceipts = errors.New("bench: the simulators do not report receipts (no GET /sim/receipts)")

// Sims is how the harness sees the vendor simulators: their counters and,
// where possible, every accepted notification with its arrival time.
type Sims interface {
	// Stats returns every vendor's receipt counters.
	Stats(ctx context.Context) (map[string]simkit.Stats, error)
	// Watch calls fn for every notification accepted from now on (from
	// any goroutine; fn must be quick) until stop, which delivers what is
	// still pending before it returns. It returns ErrNoReceipts when the
	// simulators cannot do that.
	Watch(fn func(vendor string, r simkit.Receipt)) (stop func(), err error)
	// SetOutage takes a vendor's simulator down (every request answered
	// with the vendor's transient failure) or up again (POST /sim/outage).
	SetOutage(ctx context.Context, vendor string, down bool) error
	// Outages returns every vendor's switch and the requests it refused
	// while down (GET /sim/outage).
	Outages(ctx context.Context) (map[string]simkit.OutageStatus, error)
	// URL is where the simulators are served.
	URL() string
}

// LocalSims are simulators in this process.
type LocalSims struct {
	S   *sim.Sims
	Loc string
}

// Stats implements Sims.
func (l LocalSims) Stats(context.Context) (map[string]simkit.Stats, error) {
	return l.S.Recorder.Snapshot(), nil
}

// Watch implements Sims through the recorder's receipt hook.
func (l LocalSims) Watch(fn func(string, simkit.Receipt)) (func(), error) {
	l.S.Recorder.OnReceipt(fn)
	return func() { l.S.Recorder.OnReceipt(nil) }, nil
}

// SetOutage implements Sims.
func (l LocalSims) SetOutage(_ context.Context, vendor string, down bool) error {
	return l.S.Outage.Set(vendor, down)
}

// Outages implements Sims.
func (l LocalSims) Outages(context.Context) (map[string]simkit.OutageStatus, error) {
	return l.S.Outage.Status(), nil
}

// URL implements Sims.
func (l LocalSims) URL() string { return l.Loc }

// RemoteSims are simulators reached over HTTPS (herald sim, or a daemon in
// simulator mode): GET /sim/stats, and GET /sim/receipts when served.
type RemoteSims struct {
	base string
	hc   *http.Client
}

// NewRemoteSims talks to the simulators at base (https://host:port),
// trusting the CA certificate in caFile ("" = the system roots).
func NewRemoteSims(base, caFile string) (*RemoteSims, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("bench: --sim %q must be https://host:port", base)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("bench: --sim-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bench: --sim-ca %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 4}
	return &RemoteSims{base: u.Scheme + "://" + u.Host, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}, nil
}

// URL implements Sims.
func (r *RemoteSims) URL() string { return r.base }

func (r *RemoteSims) get(ctx context.Context, path string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", r.base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: simulators: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.StatusCode, fmt.Errorf("bench: simulators: GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("bench: simulators: GET %s: %w", path, err)
	}
	return resp.StatusCode, nil
}

// Stats implements Sims with GET /sim/stats.
func (r *RemoteSims) Stats(ctx context.Context) (map[string]simkit.Stats, error) {
	var out simkit.StatsResponse
	if _, err := r.get(ctx, "/sim/stats", &out); err != nil {
		return nil, err
	}
	return out.Vendors, nil
}

// SetOutage implements Sims with POST /sim/outage.
func (r *RemoteSims) SetOutage(ctx context.Context, vendor string, down bool) error {
	body, err := json.Marshal(simkit.OutageRequest{Vendor: vendor, Down: down})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", r.base+"/sim/outage", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench: simulators: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("bench: simulators: POST /sim/outage: %s %s", resp.Status, b)
	}
	return nil
}

// Outages implements Sims with GET /sim/outage.
func (r *RemoteSims) Outages(ctx context.Context) (map[string]simkit.OutageStatus, error) {
	var out simkit.OutageResponse
	if _, err := r.get(ctx, "/sim/outage", &out); err != nil {
		return nil, err
	}
	return out.Vendors, nil
}

// Watch implements Sims by polling GET /sim/receipts.
func (r *RemoteSims) Watch(fn func(string, simkit.Receipt)) (func(), error) {
	ctx := context.Background()
	var first simkit.ReceiptsResponse
	code, err := r.get(ctx, "/sim/receipts?limit=1&after=0", &first)
	if code == http.StatusNotFound {
		return nil, ErrNoReceipts
	}
	if err != nil {
		return nil, err
	}
	w := &receiptPoller{r: r, fn: fn, cursor: first.Last, quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w.stop, nil
}

type receiptPoller struct {
	r       *RemoteSims
	fn      func(string, simkit.Receipt)
	cursor  uint64
	dropped atomic.Uint64
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// poll fetches everything after the cursor.
func (w *receiptPoller) poll() error {
	for {
		var page simkit.ReceiptsResponse
		q := "/sim/receipts?limit=" + strconv.Itoa(simkit.MaxReceiptsPerRequest) + "&after=" + strconv.FormatUint(w.cursor, 10)
		if _, err := w.r.get(context.Background(), q, &page); err != nil {
			return err
		}
		w.dropped.Add(page.Dropped)
		for _, lr := range page.Receipts {
			w.fn(lr.Vendor, simkit.Receipt{MessageID: lr.MessageID, Token: lr.Token, At: time.Unix(0, lr.AtUnixNano)})
		}
		w.cursor = page.Next
		if len(page.Receipts) < simkit.MaxReceiptsPerRequest {
			return nil
		}
	}
}

func (w *receiptPoller) loop() {
	defer close(w.done)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			_ = w.poll()
			return
		case <-t.C:
			_ = w.poll()
		}
	}
}

func (w *receiptPoller) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

// sumStats adds up counters over vendors.
func sumStats(m map[string]simkit.Stats) simkit.Stats {
	var t simkit.Stats
	for _, s := range m {
		t.Requests += s.Requests
		t.Notifications += s.Notifications
		t.Unique += s.Unique
		t.Duplicates += s.Duplicates
		t.Rejected += s.Rejected
	}
	return t
}

// diffStats is after − before, per vendor.
func diffStats(after, before map[string]simkit.Stats) map[string]simkit.Stats {
	out := make(map[string]simkit.Stats, len(after))
	for k, a := range after {
		b := before[k]
		out[k] = simkit.Stats{Requests: a.Requests - b.Requests, Notifications: a.Notifications - b.Notifications,
			Unique: a.Unique - b.Unique, Duplicates: a.Duplicates - b.Duplicates, Rejected: a.Rejected - b.Rejected}
	}
	return out
}
