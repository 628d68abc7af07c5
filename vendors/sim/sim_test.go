package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

// env is every simulator served on one TLS listener, the real clients
// pointed at it, and an HTTPS client for the /sim control endpoints that
// trusts only the simulators' CA.
type env struct {
	sims    *sim.Sims
	url     string
	senders map[vendors.Kind]vendors.Sender
	client  *http.Client
}

func start(t *testing.T) *env {
	t.Helper()
	sims, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sims.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("server URL %q", srv.URL)
	}
	senders, err := sims.Senders(srv.URL, 0)
	if err != nil {
		t.Fatalf("Senders: %v", err)
	}
	for _, k := range vendors.Kinds() {
		s, ok := senders[k]
		if !ok {
			t.Fatalf("Senders built no client for %s (got %d clients)", k, len(senders))
		}
		if s.Kind() != k {
			t.Fatalf("client for %s says it is %s", k, s.Kind())
		}
	}
	if len(senders) != len(vendors.Kinds()) {
		t.Fatalf("Senders built %d clients, want %d", len(senders), len(vendors.Kinds()))
	}
	tr := &http.Transport{TLSClientConfig: sims.CA.ClientTLS(), ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{sims: sims, url: srv.URL, senders: senders, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// note is a notification every simulator accepts: OPPO and Xiaomi need an
// Android channel, vivo a title and a body.
func note(id string) *vendors.Notification {
	return &vendors.Notification{MessageID: id, Title: "hello", Body: "from the sim test", Channel: "im"}
}

func (e *env) send(t *testing.T, k vendors.Kind, n *vendors.Notification, tokens ...string) []vendors.Result {
	t.Helper()
	targets := make([]vendors.Target, len(tokens))
	for i, tok := range tokens {
		targets[i] = vendors.Target{Token: tok, APNsEnv: "production"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.senders[k].Send(ctx, n, targets)
	if err != nil {
		t.Fatalf("%s: Send: %v", k, err)
	}
	if len(res) != len(tokens) {
		t.Fatalf("%s: %d results for %d targets", k, len(res), len(tokens))
	}
	return res
}

func (e *env) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	r, err := e.client.Post(e.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// stats reads GET /sim/stats over HTTPS.
func (e *env) stats(t *testing.T) map[string]simkit.Stats {
	t.Helper()
	r, err := e.client.Get(e.url + "/sim/stats")
	if err != nil {
		t.Fatalf("GET /sim/stats: %v", err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("GET /sim/stats: %d %s", r.StatusCode, b)
	}
	var out simkit.StatsResponse
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("GET /sim/stats: %v", err)
	}
	return out.Vendors
}

func wantStats(t *testing.T, st map[string]simkit.Stats, k vendors.Kind, want simkit.Stats) {
	t.Helper()
	if got := st[string(k)]; got != want {
		t.Errorf("%s stats %+v, want %+v", k, got, want)
	}
}

// TestEveryVendorThroughRealClients sends one notification per vendor
// through the real clients and reads the receipts back from /sim/stats.
func TestEveryVendorThroughRealClients(t *testing.T) {
	e := start(t)
	st := e.stats(t)
	for _, k := range vendors.Kinds() {
		// Every vendor is listed before any traffic.
		if _, ok := st[string(k)]; !ok {
			t.Errorf("/sim/stats does not list %s before traffic: %+v", k, st)
		}
		wantStats(t, st, k, simkit.Stats{})
	}
	for _, k := range vendors.Kinds() {
		res := e.send(t, k, note("m-1"), "tok-"+string(k))
		if !res[0].OK() {
			t.Errorf("%s: not delivered: %+v", k, res[0])
		}
	}
	st = e.stats(t)
	for _, k := range vendors.Kinds() {
		wantStats(t, st, k, simkit.Stats{Requests: 1, Notifications: 1, Unique: 1})
	}

	// The same (message, token) again is a duplicate; another message to
	// the same token is unique.
	for _, k := range vendors.Kinds() {
		if res := e.send(t, k, note("m-1"), "tok-"+string(k)); !res[0].OK() {
			t.Errorf("%s: repeat not delivered: %+v", k, res[0])
		}
		if res := e.send(t, k, note("m-2"), "tok-"+string(k)); !res[0].OK() {
			t.Errorf("%s: second message not delivered: %+v", k, res[0])
		}
	}
	st = e.stats(t)
	for _, k := range vendors.Kinds() {
		wantStats(t, st, k, simkit.Stats{Requests: 3, Notifications: 3, Unique: 2, Duplicates: 1})
	}

	// A batch: each client splits it as its vendor requires (one request per
	// token for APNs and FCM, one batch request for the others); every
	// token counts once.
	for _, k := range vendors.Kinds() {
		tokens := []string{"b1-" + string(k), "b2-" + string(k), "b3-" + string(k)}
		for i, r := range e.send(t, k, note("m-batch"), tokens...) {
			if !r.OK() {
				t.Errorf("%s: batch target %d not delivered: %+v", k, i, r)
			}
		}
	}
	st = e.stats(t)
	for _, k := range vendors.Kinds() {
		s := st[string(k)]
		if s.Unique != 5 || s.Notifications != 6 || s.Duplicates != 1 || s.Rejected != 0 || s.Requests < 4 {
			t.Errorf("%s after a batch of 3: %+v", k, s)
		}
	}
	t.Logf("stats after the batch: %+v", st)
}

// TestLimitsEndpoint: POST /sim/limits validates its body, and a QPS limit
// makes a burst of requests get the vendor's flow-control answer, which
// the real clients report as Retry.
func TestLimitsEndpoint(t *testing.T) {
	e := start(t)
	for _, c := range []struct{ name, body string }{
		{"unknown vendor", `{"vendor":"nokia","qps":10}`},
		{"empty vendor", `{"qps":10}`},
		{"negative qps", `{"vendor":"apns","qps":-1}`},
		{"negative quota", `{"vendor":"huawei","daily_quota":-5}`},
		{"unknown field", `{"vendor":"apns","qps":1,"burst":2}`},
		{"not JSON", `qps=1`},
	} {
		if code, body := e.post(t, "/sim/limits", c.body); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", c.name, code, body)
		}
	}
	if r, err := e.client.Get(e.url + "/sim/limits"); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /sim/limits: %d, want 405", r.StatusCode)
		}
	}
	// Refused requests changed nothing: everything is still delivered.
	for _, k := range vendors.Kinds() {
		if res := e.send(t, k, note("before"), "tok-0"); !res[0].OK() {
			t.Errorf("%s before any limit: %+v", k, res[0])
		}
	}

	// QPS 1: the bucket holds one request, refilled at one per second; a
	// burst of sequential requests gets mostly throttled.
	const burst = 12
	for _, k := range vendors.Kinds() {
		if code, body := e.post(t, "/sim/limits", fmt.Sprintf(`{"vendor":%q,"qps":1}`, k)); code != http.StatusNoContent {
			t.Fatalf("%s: set qps: %d %s", k, code, body)
		}
	}
	before := e.stats(t)
	for _, k := range vendors.Kinds() {
		delivered, retry := 0, 0
		for i := range burst {
			r := e.send(t, k, note(fmt.Sprint("burst-", i)), "tok-0")[0]
			switch r.Verdict {
			case vendors.Delivered:
				delivered++
			case vendors.Retry:
				retry++
			default:
				t.Errorf("%s: burst request %d: verdict %v (%s %s), want delivered or retry", k, i, r.Verdict, r.Code, r.Reason)
			}
		}
		t.Logf("%s at qps 1: %d delivered, %d throttled (retry) of %d", k, delivered, retry, burst)
		if retry == 0 {
			t.Errorf("%s: qps 1 throttled none of %d back-to-back requests", k, burst)
		}
		if delivered == 0 {
			t.Errorf("%s: qps 1 let none of %d requests through", k, burst)
		}
		s := e.stats(t)[string(k)]
		b := before[string(k)]
		if got := s.Rejected - b.Rejected; got != int64(retry) {
			t.Errorf("%s: simulator counted %d rejected, the client saw %d retries", k, got, retry)
		}
		if got := s.Unique - b.Unique; got != int64(delivered) {
			t.Errorf("%s: simulator counted %d unique, the client saw %d delivered", k, got, delivered)
		}
	}

	// Lifting the limit (qps 0 = unlimited) lets everything through again.
	for _, k := range vendors.Kinds() {
		if code, body := e.post(t, "/sim/limits", fmt.Sprintf(`{"vendor":%q,"qps":0,"daily_quota":0}`, k)); code != http.StatusNoContent {
			t.Fatalf("%s: lift limits: %d %s", k, code, body)
		}
		for i := range 3 {
			if r := e.send(t, k, note(fmt.Sprint("after-", i)), "tok-0")[0]; !r.OK() {
				t.Errorf("%s after lifting the limit: %+v", k, r)
			}
		}
	}
}

// TestDailyQuota: a daily quota set through /sim/limits refuses sends
// beyond it (also reported as Retry: the quota resets the next day).
func TestDailyQuota(t *testing.T) {
	e := start(t)
	if code, body := e.post(t, "/sim/limits", `{"vendor":"huawei","daily_quota":3}`); code != http.StatusNoContent {
		t.Fatalf("set quota: %d %s", code, body)
	}
	ok, refused := 0, 0
	for i := range 6 {
		r := e.send(t, vendors.Huawei, note(fmt.Sprint("q-", i)), "tok-q")[0]
		if r.OK() {
			ok++
		} else {
			refused++
			if r.Verdict == vendors.TokenInvalid || r.Verdict == vendors.CredentialsBroken {
				t.Errorf("quota answer became %v (%s)", r.Verdict, r.Code)
			}
		}
	}
	if ok != 3 || refused != 3 {
		t.Fatalf("daily quota 3: %d delivered, %d refused", ok, refused)
	}
	if s := e.stats(t)["huawei"]; s.Unique != 3 || s.Rejected != 3 {
		t.Fatalf("huawei stats %+v", s)
	}
}

// TestResetEndpoint: POST /sim/reset zeroes every counter and forgets
// which pairs were seen.
func TestResetEndpoint(t *testing.T) {
	e := start(t)
	for _, k := range vendors.Kinds() {
		e.send(t, k, note("m-r"), "tok-r")
		e.send(t, k, note("m-r"), "tok-r")
	}
	st := e.stats(t)
	for _, k := range vendors.Kinds() {
		wantStats(t, st, k, simkit.Stats{Requests: 2, Notifications: 2, Unique: 1, Duplicates: 1})
	}
	if r, err := e.client.Get(e.url + "/sim/reset"); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /sim/reset: %d, want 405", r.StatusCode)
		}
	}
	if code, body := e.post(t, "/sim/reset", ""); code != http.StatusNoContent {
		t.Fatalf("reset: %d %s", code, body)
	}
	st = e.stats(t)
	for _, k := range vendors.Kinds() {
		// A vendor missing from the answer reads as zero too.
		wantStats(t, st, k, simkit.Stats{})
	}
	// The pair seen before the reset is unique again.
	for _, k := range vendors.Kinds() {
		if r := e.send(t, k, note("m-r"), "tok-r")[0]; !r.OK() {
			t.Errorf("%s after reset: %+v", k, r)
		}
	}
	st = e.stats(t)
	for _, k := range vendors.Kinds() {
		wantStats(t, st, k, simkit.Stats{Requests: 1, Notifications: 1, Unique: 1})
	}
}

// outage reads GET /sim/outage over HTTPS.
func (e *env) outage(t *testing.T) map[string]simkit.OutageStatus {
	t.Helper()
	r, err := e.client.Get(e.url + "/sim/outage")
	if err != nil {
		t.Fatalf("GET /sim/outage: %v", err)
	}
	defer r.Body.Close()
	var out simkit.OutageResponse
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/outage: %d %v", r.StatusCode, err)
	}
	return out.Vendors
}

// TestOutageEndpoint: POST /sim/outage takes each vendor down: its real
// client then gets a transient failure (Retry, not a throttling answer:
// herald's circuit breaker counts it) for every target, the simulator
// counts nothing (the outage answers before it does any work) and GET
// /sim/outage counts the refused requests; up again, it delivers.
func TestOutageEndpoint(t *testing.T) {
	e := start(t)
	for _, c := range []struct{ name, body string }{
		{"unknown vendor", `{"vendor":"nokia","down":true}`},
		{"empty vendor", `{"down":true}`},
		{"unknown field", `{"vendor":"apns","down":true,"for":"5m"}`},
		{"not JSON", `down`},
	} {
		if code, body := e.post(t, "/sim/outage", c.body); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", c.name, code, body)
		}
	}
	for k, s := range e.outage(t) {
		if s.Down || s.Refused != 0 {
			t.Errorf("%s before any outage: %+v", k, s)
		}
	}
	for _, k := range vendors.Kinds() {
		if code, body := e.post(t, "/sim/outage", fmt.Sprintf(`{"vendor":%q,"down":true}`, k)); code != http.StatusNoContent {
			t.Fatalf("%s: down: %d %s", k, code, body)
		}
	}
	before := e.stats(t)
	for _, k := range vendors.Kinds() {
		for i, r := range e.send(t, k, note("m-down"), "tok-1", "tok-2") {
			if r.Verdict != vendors.Retry || r.Throttled {
				t.Errorf("%s target %d while down: verdict %v throttled %v (%s %s), want a transient failure that is not throttling",
					k, i, r.Verdict, r.Throttled, r.Code, r.Reason)
			}
		}
	}
	if after := e.stats(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the simulators counted requests while down:\nbefore %+v\nafter  %+v", before, after)
	}
	down := e.outage(t)
	for _, k := range vendors.Kinds() {
		if s := down[string(k)]; !s.Down || s.Refused < 1 {
			t.Errorf("%s while down: %+v, want down with refused requests", k, s)
		}
	}
	for _, k := range vendors.Kinds() {
		if err := e.sims.SetOutage(k, false); err != nil {
			t.Fatal(err)
		}
		if r := e.send(t, k, note("m-up"), "tok-1")[0]; !r.OK() {
			t.Errorf("%s up again: %+v", k, r)
		}
	}
	for k, s := range e.outage(t) {
		if s.Down || s.Refused != down[k].Refused {
			t.Errorf("%s up again: %+v, want up and refused still %d", k, s, down[k].Refused)
		}
	}
	st := e.stats(t)
	for _, k := range vendors.Kinds() {
		if s := st[string(k)]; s.Unique != 1 || s.Rejected != 0 {
			t.Errorf("%s: %+v, want only the notification sent once it was up", k, s)
		}
	}
}
