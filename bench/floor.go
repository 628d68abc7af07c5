//lint:file-ignore SA1019 the floor client is golang.org/x/net/http2.Transport on purpose: it is the transport under apns2 (and herald's APNs client), so the floor measures the same HTTP/2 client herald uses.

package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/net/http2"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/fcm"
	"github.com/herald-push/herald/vendors/sim"
	"github.com/herald-push/herald/vendors/simkit"
)

// Floor modes (--floor).
const (
	FloorAuto   = "auto"   // before, for fanout with one vendor kind and the harness's own simulators; else off
	FloorOff    = "off"    // no floor
	FloorBefore = "before" // after the warm-up, before herald's measured phase
	FloorAfter  = "after"  // after herald's measured phase
)

// Floor clients.
const (
	FloorHTTP2       = "http2"              // the bare replaying client
	FloorFirebaseSDK = "firebase-admin-sdk" // messaging.Client.Send from N goroutines (fcm, web)
)

// floorMode resolves --floor for a run.
func floorMode(flag string, sc Scenario, loc *Local) (string, error) {
	kinds := 0
	for _, w := range sc.VendorShares {
		if w > 0 {
			kinds++
		}
	}
	switch flag {
	case "", FloorAuto:
		if sc.Name == "fanout" && loc != nil && kinds == 1 {
			return FloorBefore, nil
		}
		return FloorOff, nil
	case FloorOff:
		return FloorOff, nil
	case FloorBefore, FloorAfter:
		if sc.Name != "fanout" {
			return "", fmt.Errorf("bench: --floor %s: the floor is measured in the fanout scenario only", flag)
		}
		if loc == nil {
			return "", fmt.Errorf("bench: --floor %s: the floor needs the harness's own simulators (not --target)", flag)
		}
		return flag, nil
	}
	return "", fmt.Errorf("bench: --floor %q: want %s, %s, %s or %s", flag, FloorAuto, FloorOff, FloorBefore, FloorAfter)
}

// floorSpec is one kind's floor: how many notifications, how many requests
// in flight, how many tokens per request.
type floorSpec struct {
	kind        vendors.Kind
	n           int
	concurrency int
	batch       int
}

// perToken are the vendors with one token per request (HTTP/2 streams).
func perToken(k vendors.Kind) bool { return k == vendors.APNs || k == vendors.FCM || k == vendors.Web }

// floorSpecs lists the floors for the kinds herald sends to in the
// measured phase (counts: notifications per vendor).
func (e *runEnv) floorSpecs(counts map[string]int64) []floorSpec {
	var out []floorSpec
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	byName := e.cfg.Vendors.ByName()
	for _, name := range names {
		k, ok := vendors.ParseKind(name)
		if !ok || counts[name] <= 0 {
			continue
		}
		sp := floorSpec{kind: k, n: int(counts[name]), concurrency: 1, batch: 1}
		if e.floorN > 0 {
			sp.n = e.floorN
		}
		if v := byName[name]; v != nil {
			sp.concurrency = max(v.Limits.MaxInFlight, 1)
			if !perToken(k) {
				sp.batch = v.Limits.BatchSize
			}
		}
		if !perToken(k) && (sp.batch < 1 || sp.batch > 1000) {
			sp.batch = 1000
		}
		out = append(out, sp)
	}
	return out
}

// runFloors measures every kind's floor, one after the other, and puts
// the results into the report (the ratios are filled in later by
// fillFloorRatios).
func (e *runEnv) runFloors(ctx context.Context, counts map[string]int64) error {
	specs := e.floorSpecs(counts)
	if len(specs) == 0 {
		return nil
	}
	e.prog.phase("floor")
	res, err := e.floorResource()
	if err != nil {
		e.rep.note("floor: %v; the floor sends with no push resource", err)
	}
	fl, err := newFloor(e.loc.Sims, e.loc.SimURL, e.run, res)
	if err != nil {
		return err
	}
	defer fl.close()
	for _, sp := range specs {
		clients := []string{FloorHTTP2}
		if sp.kind == vendors.FCM || sp.kind == vendors.Web {
			clients = append(clients, FloorFirebaseSDK)
		}
		for _, c := range clients {
			r, err := fl.measure(ctx, e.sims, sp, c)
			if err != nil {
				return fmt.Errorf("bench: floor %s/%s: %w", sp.kind, c, err)
			}
			e.logf("floor %s/%s: %d notifications in %.2fs (%.0f/s), %d errors", r.Vendor, r.Client, r.Accepted, r.Seconds, r.PerSecond, r.Errors)
			if r.Accepted < r.Sent {
				e.rep.note("floor %s/%s: the simulator accepted %d of %d notifications", r.Vendor, r.Client, r.Accepted, r.Sent)
			}
			e.rep.Floor = append(e.rep.Floor, r)
		}
	}
	return nil
}

// floorResource is the push resource herald uses for the bench's
// messages: the "default" resource of the daemon's config, or, when that
// config leaves it to simulator mode, the one the simulator config has.
func (e *runEnv) floorResource() (configs.Resource, error) {
	if r, ok := e.cfg.Resources["default"]; ok {
		return r, nil
	}
	if e.writeSimCfg == nil {
		return configs.Resource{}, errors.New("no default push resource known")
	}
	dir, err := os.MkdirTemp("", "herald-floor-")
	if err != nil {
		return configs.Resource{}, err
	}
	defer os.RemoveAll(dir)
	path, err := e.writeSimCfg(e.loc.Sims, e.loc.SimURL, dir)
	if err != nil {
		return configs.Resource{}, err
	}
	cfg, err := configs.Load(path)
	if err != nil {
		return configs.Resource{}, err
	}
	return cfg.Resources["default"], nil
}

// floor captures herald's own vendor clients' requests and replays them
// at the simulators.
type floor struct {
	sims    *sim.Sims
	simURL  string
	run     string
	res     configs.Resource
	proxy   *captureProxy
	senders map[vendors.Kind]vendors.Sender
}

func newFloor(s *sim.Sims, simURL, run string, res configs.Resource) (*floor, error) {
	p, err := startCaptureProxy(s.CA, simURL)
	if err != nil {
		return nil, err
	}
	return &floor{sims: s, simURL: simURL, run: run, res: res, proxy: p, senders: map[vendors.Kind]vendors.Sender{}}, nil
}

// sender is herald's real client for k, pointed at the capture proxy.
func (f *floor) sender(k vendors.Kind) (vendors.Sender, error) {
	if s := f.senders[k]; s != nil {
		return s, nil
	}
	s, err := f.sims.ClientConfigs(f.proxy.url).Sender(k)
	if err != nil {
		return nil, err
	}
	f.senders[k] = s
	return s, nil
}

func (f *floor) close() {
	for _, s := range f.senders {
		if c, ok := s.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
	f.proxy.close()
}

// notification is what herald sends for the bench's group message, with
// the floor's own message id.
func (f *floor) notification(k vendors.Kind, messageID string) *vendors.Notification {
	n := vendors.Compose(vendors.Content{MessageID: messageID, Title: "herald bench",
		Body: "message " + messageID}, push.VendorResource(f.res, k))
	return &n
}

// placeholders are the template tokens: fixed width, so none is a prefix
// of another.
func (f *floor) placeholders(k vendors.Kind, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("floorph-%s-%s-%06d", f.run, k, i)
	}
	return out
}

// capture sends n through herald's client for k to placeholder tokens and
// returns the requests it made, compiled into a template.
func (f *floor) capture(ctx context.Context, k vendors.Kind, n *vendors.Notification, size int) (*reqTemplate, error) {
	snd, err := f.sender(k)
	if err != nil {
		return nil, err
	}
	ph := f.placeholders(k, size)
	targets := make([]vendors.Target, size)
	for i, t := range ph {
		targets[i] = vendors.Target{Token: t}
	}
	f.proxy.record(true)
	rs, err := snd.Send(ctx, n, targets)
	recs := f.proxy.record(false)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Verdict != vendors.Delivered {
			return nil, fmt.Errorf("the template send was not delivered: %s %s", r.Code, r.Reason)
		}
	}
	if len(recs) == 0 {
		return nil, errors.New("the client made no request")
	}
	return compileTemplate(recs, ph, n.MessageID)
}

// measure runs one floor and returns its result.
func (f *floor) measure(ctx context.Context, sims Sims, sp floorSpec, client string) (FloorResult, error) {
	msgID := "floor-" + f.run + "-" + string(sp.kind) + "-" + client
	n := f.notification(sp.kind, msgID)
	// Prime: the client authenticates (OAuth, auth tokens) on its first
	// send; the template must hold only the send requests.
	snd, err := f.sender(sp.kind)
	if err != nil {
		return FloorResult{}, err
	}
	if _, err := snd.Send(ctx, f.notification(sp.kind, msgID+"-prime"),
		[]vendors.Target{{Token: "floor-" + f.run + "-" + string(sp.kind) + "-prime"}}); err != nil {
		return FloorResult{}, err
	}
	batch := sp.batch
	if client == FloorFirebaseSDK {
		batch = 1
	}
	full, err := f.capture(ctx, sp.kind, n, min(batch, sp.n))
	if err != nil {
		return FloorResult{}, err
	}
	var rest *reqTemplate
	if r := sp.n % batch; r != 0 && sp.n > batch {
		if rest, err = f.capture(ctx, sp.kind, n, r); err != nil {
			return FloorResult{}, err
		}
	}
	prefix := "floor-" + f.run + "-" + string(sp.kind) + "-" + client + "-"
	tokens := func(i int) string { return prefix + strconv.Itoa(i) }
	var run func(ctx context.Context) (int64, error)
	switch client {
	case FloorHTTP2:
		hc, tr := f.httpClient()
		defer tr.CloseIdleConnections()
		// Warm up: one request opens the connection (TLS, HTTP/2
		// settings) before the clock starts, as herald's warm-up does.
		warm := "floor-" + f.run + "-" + string(sp.kind) + "-" + client + "-warm-"
		if _, err := full.send(ctx, hc, f.simURL, placeholderTokens(warm, len(full.placeholders)), nil); err != nil {
			return FloorResult{}, fmt.Errorf("warm-up: %w", err)
		}
		run = func(ctx context.Context) (int64, error) {
			return replay(ctx, hc, f.simURL, full, rest, sp, tokens), nil
		}
	case FloorFirebaseSDK:
		mc, tr, err := f.firebase(ctx, sp.kind)
		if err != nil {
			return FloorResult{}, err
		}
		defer tr.CloseIdleConnections()
		msg, err := full.firebaseMessage()
		if err != nil {
			return FloorResult{}, err
		}
		warm := *msg
		warm.Token = "floor-" + f.run + "-" + string(sp.kind) + "-" + client + "-warm"
		if _, err := mc.Send(ctx, &warm); err != nil {
			return FloorResult{}, fmt.Errorf("warm-up: %w", err)
		}
		run = func(ctx context.Context) (int64, error) {
			return sdkSend(ctx, mc, msg, sp, tokens), nil
		}
	default:
		return FloorResult{}, fmt.Errorf("unknown floor client %q", client)
	}
	before, err := sims.Stats(ctx)
	if err != nil {
		return FloorResult{}, err
	}
	self := newProc(0)
	cpu0, cerr := self.cpu()
	start := time.Now()
	errs, err := run(ctx)
	secs := time.Since(start).Seconds()
	cpu1, cerr1 := self.cpu()
	if err != nil {
		return FloorResult{}, err
	}
	after, err := sims.Stats(ctx)
	if err != nil {
		return FloorResult{}, err
	}
	d := diffStats(after, before)[string(sp.kind)]
	r := FloorResult{Vendor: string(sp.kind), Client: client, Concurrency: sp.concurrency, BatchSize: batch,
		Sent: int64(sp.n), Accepted: d.Unique, Requests: d.Requests, Errors: errs, Seconds: round3(secs)}
	if secs > 0 {
		r.PerSecond = round3(float64(d.Unique) / secs)
	}
	if cerr == nil && cerr1 == nil && d.Unique > 0 {
		r.CPUMicrosPerNotification = round3((cpu1.total() - cpu0.total()).Seconds() * 1e6 / float64(d.Unique))
	}
	return r, nil
}

// httpClient is the floor's minimal HTTP client: one HTTP/2 transport over
// TLS to the simulators, trusting their CA (golang.org/x/net/http2, as
// under apns2: it dials one connection at a time and opens another only
// when the server's stream limit is reached).
func (f *floor) httpClient() (*http.Client, *http2.Transport) {
	tr := &http2.Transport{TLSClientConfig: f.sims.CA.ClientTLS()}
	return &http.Client{Transport: tr, Timeout: time.Minute}, tr
}

// firebase builds a Firebase Admin SDK messaging client pointed at the
// simulator the way vendors/fcm's client is: the service-account key the
// simulator hands out (OAuth token from its token endpoint), its endpoint,
// TLS trusting the simulators' CA.
func (f *floor) firebase(ctx context.Context, k vendors.Kind) (*messaging.Client, *http2.Transport, error) {
	cc := f.sims.ClientConfigs(f.simURL)
	c := cc.FCM
	if k == vendors.Web {
		c = cc.Web
	}
	// The token fetch goes over its own client; the messaging requests
	// over the same HTTP/2 transport as the bare floor, so the two floors
	// differ by the SDK alone.
	tokTr := &http.Transport{TLSClientConfig: f.sims.CA.ClientTLS(), ForceAttemptHTTP2: true}
	base := &http.Client{Transport: tokTr, Timeout: time.Minute}
	tctx := context.WithValue(ctx, oauth2.HTTPClient, base)
	creds, err := google.CredentialsFromJSONWithType(tctx, c.CredentialsJSON, google.ServiceAccount, fcm.Scope)
	if err != nil {
		return nil, nil, err
	}
	_, tr := f.httpClient()
	hc := &http.Client{Transport: &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, creds.TokenSource), Base: tr}}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: c.ProjectID}, option.WithHTTPClient(hc), option.WithEndpoint(c.Endpoint))
	if err != nil {
		return nil, nil, err
	}
	mc, err := app.Messaging(ctx)
	return mc, tr, err
}

func placeholderTokens(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// replay sends sp.n notifications as the template's requests, batch tokens
// each, sp.concurrency batches in flight, and returns how many requests
// failed (transport errors or a status other than 200).
func replay(ctx context.Context, hc *http.Client, base string, full, rest *reqTemplate, sp floorSpec, token func(int) string) int64 {
	size := len(full.placeholders)
	batches := (sp.n + size - 1) / size
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for range min(sp.concurrency, batches) {
		wg.Go(func() {
			toks := make([]string, 0, size)
			var buf []byte
			for b := int(next.Add(1) - 1); b < batches && ctx.Err() == nil; b = int(next.Add(1) - 1) {
				t := full
				lo, hi := b*size, min((b+1)*size, sp.n)
				if hi-lo != size {
					t = rest
				}
				toks = toks[:0]
				for i := lo; i < hi; i++ {
					toks = append(toks, token(i))
				}
				var err error
				if buf, err = t.send(ctx, hc, base, toks, buf); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return errs.Load()
}

// sdkSend calls the SDK's Send for sp.n tokens from sp.concurrency
// goroutines and returns how many calls failed.
func sdkSend(ctx context.Context, mc *messaging.Client, tmpl *messaging.Message, sp floorSpec, token func(int) string) int64 {
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for range min(sp.concurrency, sp.n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < sp.n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				m := *tmpl
				m.Token = token(i)
				if _, err := mc.Send(ctx, &m); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return errs.Load()
}

// captured is one request a vendor client made, and the answer.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
	status       int
	answer       []byte
}

// captureProxy is a TLS (HTTP/2) reverse proxy in front of the simulators
// that can record the requests passing through.
type captureProxy struct {
	url  string
	srv  *http.Server
	ln   net.Listener
	hc   *http.Client
	sim  string
	mu   sync.Mutex
	on   bool
	recs []captured
}

func startCaptureProxy(ca *simkit.CA, simURL string) (*captureProxy, error) {
	tc, err := ca.ServerTLS("127.0.0.1")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &captureProxy{url: "https://" + ln.Addr().String(), ln: ln, sim: simURL,
		hc: &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS(), ForceAttemptHTTP2: true}, Timeout: time.Minute}}
	p.srv = &http.Server{Handler: p, TLSConfig: tc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.ServeTLS(ln, "", "") }()
	return p, nil
}

func (p *captureProxy) close() {
	_ = p.srv.Close()
	p.hc.CloseIdleConnections()
}

// record turns recording on or off; turning it off returns what was
// recorded since it was turned on.
func (p *captureProxy) record(on bool) []captured {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.on = on
	out := p.recs
	p.recs = nil
	return out
}

func (p *captureProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.sim+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.hc.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	p.mu.Lock()
	if p.on {
		p.recs = append(p.recs, captured{method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), body: body, status: resp.StatusCode, answer: answer})
	}
	p.mu.Unlock()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// Slots of a template: what is written between its fixed segments.
const (
	slotToken     = iota // the batch's token idx
	slotOPPOID           // OPPO's app_message_id for the batch's token idx
	slotRequestID        // a fresh request id (vivo's requestId)
	slotAnswer           // a value from an earlier answer of the same send (vivo's taskId)
)

type slot struct {
	kind int
	idx  int    // slotToken, slotOPPOID: the token; slotAnswer: the earlier request
	key  string // slotAnswer: the answer's JSON key
}

// piece is a byte string with holes: segs[0] slot[0] segs[1] … segs[n].
type piece struct {
	segs  [][]byte
	slots []slot
}

// tmplRequest is one request of a template.
type tmplRequest struct {
	method string
	path   piece
	header http.Header
	body   piece
	keys   []string // JSON keys of this request's answer that later requests use
}

// reqTemplate is the requests one Send made for len(placeholders) tokens,
// with the tokens (and what derives from them) as holes.
type reqTemplate struct {
	placeholders []string
	messageID    string
	reqs         []tmplRequest
	raw          []captured
}

// answerKeys are the answer fields a later request of the same send
// carries (vivo: saveListPayload's taskId goes into pushToList), and
// freshKeys the request fields that must be new for every request (vivo's
// requestId).
var (
	answerKeys = []string{"taskId"}
	freshKeys  = []string{"requestId"}
)

// compileTemplate finds the placeholders (and the values derived from
// them or from earlier answers) in the captured requests.
func compileTemplate(recs []captured, ph []string, messageID string) (*reqTemplate, error) {
	t := &reqTemplate{placeholders: ph, messageID: messageID, raw: recs}
	var base []needle
	for i, p := range ph {
		base = append(base, needle{p, slot{kind: slotToken, idx: i}})
		base = append(base, needle{oppoAppMessageID(messageID, p), slot{kind: slotOPPOID, idx: i}})
	}
	answers := make([]map[string]string, len(recs))
	for i, rc := range recs {
		if rc.status != http.StatusOK {
			return nil, fmt.Errorf("captured %s %s answered %d: %s", rc.method, rc.path, rc.status, rc.answer)
		}
		needles := slices.Clone(base)
		fields := topLevelStrings(rc.body)
		for _, k := range freshKeys {
			if v := fields[k]; v != "" {
				needles = append(needles, needle{v, slot{kind: slotRequestID, key: k}})
			}
		}
		for j := range i {
			for k, v := range answers[j] {
				if v != "" && bytes.Contains(rc.body, []byte(v)) {
					needles = append(needles, needle{v, slot{kind: slotAnswer, idx: j, key: k}})
					t.reqs[j].keys = appendUnique(t.reqs[j].keys, k)
				}
			}
		}
		all := topLevelStrings(rc.answer)
		answers[i] = map[string]string{}
		for _, k := range answerKeys {
			answers[i][k] = all[k]
		}
		h := rc.header.Clone()
		for _, k := range []string{"Content-Length", "Accept-Encoding", "Host"} {
			h.Del(k)
		}
		tr := tmplRequest{method: rc.method, header: h}
		var err error
		if tr.path, err = makePiece([]byte(rc.path), needles); err != nil {
			return nil, err
		}
		if tr.body, err = makePiece(rc.body, needles); err != nil {
			return nil, err
		}
		t.reqs = append(t.reqs, tr)
	}
	found := 0
	for _, r := range t.reqs {
		for _, s := range append(r.path.slots, r.body.slots...) {
			if s.kind == slotToken {
				found++
			}
		}
	}
	if found < len(ph) {
		return nil, fmt.Errorf("found %d of %d tokens in the captured requests", found, len(ph))
	}
	return t, nil
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// needle is a string of a captured request that becomes a slot.
type needle struct {
	s string
	slot
}

// makePiece cuts b at every occurrence of every needle.
func makePiece(b []byte, needles []needle) (piece, error) {
	type hit struct {
		at, n int
		slot
	}
	var hits []hit
	for _, nd := range needles {
		if nd.s == "" {
			continue
		}
		for off := 0; ; {
			i := bytes.Index(b[off:], []byte(nd.s))
			if i < 0 {
				break
			}
			hits = append(hits, hit{off + i, len(nd.s), nd.slot})
			off += i + len(nd.s)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].at < hits[j].at })
	var p piece
	pos := 0
	for _, h := range hits {
		if h.at < pos {
			return p, errors.New("template: overlapping substitutions")
		}
		p.segs = append(p.segs, b[pos:h.at])
		p.slots = append(p.slots, h.slot)
		pos = h.at + h.n
	}
	p.segs = append(p.segs, b[pos:])
	return p, nil
}

// fill writes the piece with its holes filled for this batch.
func (p *piece) fill(dst []byte, t *reqTemplate, toks []string, answers []map[string]string) []byte {
	for i, s := range p.slots {
		dst = append(dst, p.segs[i]...)
		switch s.kind {
		case slotToken:
			dst = append(dst, toks[s.idx]...)
		case slotOPPOID:
			dst = append(dst, oppoAppMessageID(t.messageID, toks[s.idx])...)
		case slotRequestID:
			var b [16]byte
			_, _ = rand.Read(b[:])
			dst = hex.AppendEncode(dst, b[:])
		case slotAnswer:
			dst = append(dst, answers[s.idx][s.key]...)
		}
	}
	return append(dst, p.segs[len(p.segs)-1]...)
}

// send makes the template's requests for one batch of tokens. buf is
// scratch for the bodies (returned for reuse).
func (t *reqTemplate) send(ctx context.Context, hc *http.Client, base string, toks []string, buf []byte) ([]byte, error) {
	answers := make([]map[string]string, len(t.reqs))
	for i := range t.reqs {
		r := &t.reqs[i]
		path := r.path.fill(nil, t, toks, answers)
		buf = r.body.fill(buf[:0], t, toks, answers)
		req, err := http.NewRequestWithContext(ctx, r.method, base+string(path), bytes.NewReader(buf))
		if err != nil {
			return buf, err
		}
		req.Header = r.header.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			return buf, err
		}
		var answer []byte
		if len(r.keys) > 0 {
			answer, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		if err != nil {
			return buf, err
		}
		if resp.StatusCode != http.StatusOK {
			return buf, fmt.Errorf("%s %s: HTTP %d", r.method, path, resp.StatusCode)
		}
		if len(r.keys) > 0 {
			all := topLevelStrings(answer)
			answers[i] = map[string]string{}
			for _, k := range r.keys {
				if all[k] == "" {
					return buf, fmt.Errorf("%s %s: the answer has no %s", r.method, path, k)
				}
				answers[i][k] = all[k]
			}
		}
	}
	return buf, nil
}

// firebaseMessage is the captured FCM request's message, for the SDK.
func (t *reqTemplate) firebaseMessage() (*messaging.Message, error) {
	if len(t.raw) != 1 {
		return nil, fmt.Errorf("want one captured FCM request, have %d", len(t.raw))
	}
	var body struct {
		Message *messaging.Message `json:"message"`
	}
	if err := json.Unmarshal(t.raw[0].body, &body); err != nil || body.Message == nil {
		return nil, fmt.Errorf("the captured FCM request holds no message: %v", err)
	}
	body.Message.Token = ""
	return body.Message, nil
}

// topLevelStrings returns the string fields of a JSON object (nil when b
// is not one).
func topLevelStrings(b []byte) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return out
}

// oppoAppMessageID is OPPO's per-target dedup id as vendors/oppo writes
// it (documented in vendors/oppo/doc.go): the first 128 bits of
// SHA-256(messageID NUL regID), hex.
func oppoAppMessageID(messageID, regID string) string {
	sum := sha256.Sum256([]byte(messageID + "\x00" + regID))
	return hex.EncodeToString(sum[:16])
}

// fillFloorRatios puts herald's per-vendor rate beside each floor and the
// ratios into the report.
func (r *Report) fillFloorRatios() {
	herald := map[string]float64{}
	for _, v := range r.Vendors {
		herald[v.Vendor] = v.PerSecond
	}
	for i := range r.Floor {
		f := &r.Floor[i]
		f.HeraldPerSecond = herald[f.Vendor]
		if f.PerSecond > 0 {
			f.Ratio = roundSig(f.HeraldPerSecond/f.PerSecond, 4)
		}
	}
	for i := range r.Vendors {
		v := &r.Vendors[i]
		for _, f := range r.Floor {
			if f.Vendor == v.Vendor && f.Client == FloorHTTP2 {
				v.FloorPerSecond, v.FloorRatio = f.PerSecond, f.Ratio
			}
		}
	}
}

// roundSig rounds v to n significant digits (ratios far below 1 keep
// their digits).
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow10(n - 1 - int(math.Floor(math.Log10(math.Abs(v)))))
	return math.Round(v*p) / p
}
