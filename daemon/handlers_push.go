package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// pushTestRequest is the body of POST /v1/push/test.
type pushTestRequest struct {
	PushID      string `json:"push_id"`
	UserID      string `json:"user_id"`
	Title       string `json:"title"`
	Content     string `json:"content"`
	Payload     string `json:"payload"`
	ResourcesID string `json:"resources_id"`
	VoIP        bool   `json:"voip"`
}

type pushTestResult struct {
	PushID    string `json:"push_id"`
	DeviceID  string `json:"device_id,omitempty"`
	Vendor    string `json:"vendor"`
	OK        bool   `json:"ok"`
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	LatencyMS int64  `json:"latency_ms"`

	resolvedEnv string // APNs: the environment that accepted an automatic token
}

type pushTestResponse struct {
	MessageID string           `json:"message_id"`
	Results   []pushTestResult `json:"results"`
}

// pushTestTimeout bounds one test push end to end.
const pushTestTimeout = 15 * time.Second

// maxTextBytes bounds title and content of a push.
const maxTextBytes = 4096

// testTarget is one device a test push goes to.
type testTarget struct {
	deviceID string
	kind     vendors.Kind
	target   vendors.Target
	voip     bool
	device   store.Device
}

// parsePushID splits "<vendor>:<token>".
func (d *Daemon) parsePushID(field, s string) (vendors.Kind, string, *apiError) {
	v, tok, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", invalid(field, field+` must look like "<vendor>:<token>"`)
	}
	kind, ok := vendors.ParseKind(v)
	if !ok {
		return "", "", invalid(field, fmt.Sprintf("unknown vendor %q in %s: must be one of %s", v, field, vendors.KindList()))
	}
	if e := checkToken(field, tok, d.cfg.Limits.MaxTokenBytes); e != nil {
		return "", "", e
	}
	return kind, tok, nil
}

func (d *Daemon) resource(field, id string) (configs.Resource, *apiError) {
	if id == "" {
		return configs.Resource{}, nil
	}
	r, ok := d.resources()[id]
	if !ok {
		return r, invalid(field, fmt.Sprintf("unknown %s %q: not in the config's resources", field, id))
	}
	return r, nil
}

// resources are the push resources as the last reload left them.
func (d *Daemon) resources() map[string]configs.Resource {
	if d.composer == nil {
		return d.cfg.Resources
	}
	return *d.composer.resources.Load()
}

// vendorResource converts a config resource to one vendor's view.
func vendorResource(r configs.Resource, k vendors.Kind) vendors.Resource {
	v := r.For(string(k))
	return vendors.Resource{
		Sound: v.Sound, VoIP: r.VoIP, HighPrio: r.Priority == "high", NormalPrio: r.Priority == "normal",
		ChannelID: v.ChannelID, Category: v.Category, NotifyLevel: v.NotifyLevel, ThreadID: v.ThreadID, Mutable: v.Mutable,
	}
}

func (d *Daemon) pushTest(rc *fasthttp.RequestCtx, _ params) *apiError {
	var req pushTestRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if (req.PushID == "") == (req.UserID == "") {
		return invalid("push_id", "give exactly one of push_id and user_id")
	}
	if len(req.Title) > maxTextBytes || len(req.Content) > maxTextBytes || len(req.Payload) > maxTextBytes {
		return invalid("content", fmt.Sprintf("title, content and payload must be at most %d bytes each", maxTextBytes))
	}
	if _, e := d.resource("resources_id", req.ResourcesID); e != nil {
		return e
	}
	res := resourceFor(d.resources(), req.ResourcesID)
	ctx, cancel := context.WithTimeout(context.Background(), pushTestTimeout)
	defer cancel()
	var targets []testTarget
	if req.PushID != "" {
		kind, tok, e := d.parsePushID("push_id", req.PushID)
		if e != nil {
			return e
		}
		targets = []testTarget{{kind: kind, target: vendors.Target{Token: tok, APNsEnv: "automatic"}, voip: req.VoIP && kind == vendors.APNs}}
	} else {
		if e := checkID("user_id", req.UserID, d.cfg.Limits.MaxIDBytes); e != nil {
			return e
		}
		devs, err := d.users.Devices(ctx, req.UserID)
		if err != nil {
			return d.actorError("push_test", err)
		}
		if len(devs) == 0 {
			return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "user_id",
				Message: fmt.Sprintf("user %q has no bound devices", req.UserID)}
		}
		for _, dv := range devs {
			targets = append(targets, deviceTarget(dv, req.VoIP))
		}
	}
	msgID := "test-" + randomHex(8)
	content := vendors.Content{MessageID: msgID, Title: req.Title, Body: req.Content, Payload: req.Payload, Priority: vendors.PriorityHigh}
	out := pushTestResponse{MessageID: msgID, Results: d.sendTest(ctx, content, res, targets)}
	for i, t := range targets {
		// Remember which environment an automatic APNs token belongs to.
		if env := out.Results[i].resolvedEnv; req.UserID != "" && env != "" && !t.voip && t.device.APNsEnv == "automatic" {
			if err := d.users.RememberAPNsEnv(ctx, req.UserID, t.deviceID, t.device.Token, env); err != nil {
				d.log.Warn("remembering APNs environment failed", "user_id", req.UserID, "device_id", t.deviceID, "err", err)
			}
		}
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}

// deviceTarget picks the token and environment for one bound device.
func deviceTarget(dv actors.DeviceRecord, voip bool) testTarget {
	dev := dv.Device
	t := testTarget{deviceID: dv.DeviceID, kind: vendors.Kind(dev.Vendor), device: dev,
		target: vendors.Target{Token: dev.Token, APNsEnv: dev.APNsEnv}}
	if dev.ResolvedEnv != "" {
		t.target.APNsEnv = dev.ResolvedEnv
	}
	if voip && t.kind == vendors.APNs && dev.VoIPToken != "" {
		t.target.Token, t.voip = dev.VoIPToken, true
	}
	return t
}

// sendTest sends to every target concurrently and reports each verdict.
func (d *Daemon) sendTest(ctx context.Context, c vendors.Content, res configs.Resource, targets []testTarget) []pushTestResult {
	out := make([]pushTestResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		out[i] = pushTestResult{PushID: string(t.kind) + ":" + t.target.Token, DeviceID: t.deviceID, Vendor: string(t.kind)}
		snd, ok := d.push.senders[t.kind]
		if !ok {
			out[i].Code, out[i].Reason = "vendor_not_configured", "no account is configured for vendor "+string(t.kind)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := c
			cc.VoIP = t.voip
			n := vendors.Compose(cc, vendorResource(res, t.kind))
			start := time.Now()
			results, err := snd.Send(ctx, &n, []vendors.Target{t.target})
			out[i].LatencyMS = time.Since(start).Milliseconds()
			switch {
			case err != nil:
				out[i].Code, out[i].Reason = "send_failed", err.Error()
			case len(results) != 1:
				out[i].Code, out[i].Reason = "send_failed", fmt.Sprintf("vendor client returned %d results for 1 target", len(results))
			default:
				r := results[0]
				out[i].OK = r.OK()
				out[i].Code, out[i].Reason = r.Code, r.Reason
				out[i].resolvedEnv = r.ResolvedEnv
				if r.OK() {
					out[i].Code = "ok"
					if r.ResolvedEnv != "" {
						out[i].Reason = "accepted by the APNs " + r.ResolvedEnv + " environment"
					}
				} else if out[i].Code == "" {
					out[i].Code = r.Verdict.String()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
