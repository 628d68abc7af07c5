package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// testVerdict is one target's result and what the handler does next.
type testVerdict struct {
	PushTestResult
	resolvedEnv string // APNs: the environment that accepted an automatic token
	invalid     bool   // the verdict was TokenInvalid
}

// PushTestTimeout bounds one test push end to end.
const PushTestTimeout = 15 * time.Second

// maxTextBytes bounds title and content of a push.
const maxTextBytes = 4096

// parsePushID splits "<vendor>:<token>".
func (s *Server) parsePushID(field, pushID string) (vendors.Kind, string, *apiError) {
	v, tok, ok := strings.Cut(pushID, ":")
	if !ok {
		return "", "", invalid(field, field+` must look like "<vendor>:<token>"`)
	}
	kind, ok := vendors.ParseKind(v)
	if !ok {
		return "", "", invalid(field, fmt.Sprintf("unknown vendor %q in %s: must be one of %s", v, field, vendors.KindList()))
	}
	if e := checkToken(field, tok, s.Config.Limits.MaxTokenBytes); e != nil {
		return "", "", e
	}
	return kind, tok, nil
}

func (s *Server) resource(field, id string) (configs.Resource, *apiError) {
	if id == "" {
		return configs.Resource{}, nil
	}
	r, ok := s.resources()[id]
	if !ok {
		return r, invalid(field, fmt.Sprintf("unknown %s %q: not in the config's resources", field, id))
	}
	return r, nil
}

// resources are the push resources as the last reload left them.
func (s *Server) resources() map[string]configs.Resource { return s.Composer.Resources() }

func (s *Server) pushTest(rc *fasthttp.RequestCtx, _ params) *apiError {
	var req PushTestRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if (req.PushID == "") == (req.UserID == "") {
		return invalid("push_id", "give exactly one of push_id and user_id")
	}
	if len(req.Title) > maxTextBytes || len(req.Content) > maxTextBytes || len(req.Payload) > maxTextBytes {
		return invalid("content", fmt.Sprintf("title, content and payload must be at most %d bytes each", maxTextBytes))
	}
	if _, e := s.resource("resources_id", req.ResourcesID); e != nil {
		return e
	}
	res := push.ResourceFor(s.resources(), req.ResourcesID)
	ctx, cancel := context.WithTimeout(context.Background(), PushTestTimeout)
	defer cancel()
	var targets []push.Target
	if req.PushID != "" {
		kind, tok, e := s.parsePushID("push_id", req.PushID)
		if e != nil {
			return e
		}
		targets = []push.Target{push.TokenTarget(kind, tok, req.VoIP)}
	} else {
		if e := checkID("user_id", req.UserID, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
		devs, err := s.Users.Devices(ctx, req.UserID)
		if err != nil {
			return s.actorError("push_test", err)
		}
		if len(devs) == 0 {
			return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "user_id",
				Message: fmt.Sprintf("user %q has no bound devices", req.UserID)}
		}
		for _, dv := range devs {
			targets = append(targets, push.DeviceTarget(dv.DeviceID, dv.Device, req.VoIP))
		}
	}
	msgID := "test-" + randomHex(8)
	content := vendors.Content{MessageID: msgID, Title: req.Title, Body: req.Content, Payload: req.Payload, Priority: vendors.PriorityHigh}
	verdicts := s.sendTest(ctx, content, res, targets)
	for i, t := range targets {
		// Remember which environment an automatic APNs token belongs to.
		if env := verdicts[i].resolvedEnv; req.UserID != "" && env != "" && !t.VoIP && t.Device.APNsEnv == "automatic" {
			if err := s.Users.RememberAPNsEnv(ctx, req.UserID, t.DeviceID, t.Device.Token, env); err != nil {
				s.Log.Warn("remembering APNs environment failed", "user_id", req.UserID, "device_id", t.DeviceID, "err", err)
			}
		}
	}
	for i, t := range targets {
		// A VoIP push to a bare push_id may have been sent on an ordinary
		// token (APNs then answers DeviceTokenNotForTopic, an invalid
		// verdict): that says nothing about the binding, which stays.
		if verdicts[i].invalid && (req.UserID != "" || !t.VoIP) {
			verdicts[i].Unbound = s.unbindTested(req.UserID, t)
		}
	}
	out := PushTestResponse{MessageID: msgID, Results: make([]PushTestResult, len(verdicts))}
	for i, v := range verdicts {
		out.Results[i] = v.PushTestResult
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}

// unbindTested removes the binding of a token a test push found invalid:
// the user's device, or for a push_id the binding that holds it, if any.
// It reports whether a binding was removed.
func (s *Server) unbindTested(userID string, t push.Target) bool {
	// Its own deadline: the sends may have used up the test push's.
	ctx, cancel := s.reqContext()
	defer cancel()
	deviceID := t.DeviceID
	if userID == "" {
		b, ok, err := s.Store.LookupPushID(string(t.Kind), t.Target.Token)
		if err != nil {
			s.Log.Warn("test push: looking up an invalid token's binding failed", "vendor", t.Kind, "err", err)
			return false
		}
		if !ok {
			return false
		}
		userID, deviceID = b.UserID, b.DeviceID
	}
	removed, err := s.Users.UnbindToken(ctx, userID, deviceID, string(t.Kind), t.Target.Token)
	if err != nil {
		s.Log.Warn("test push: unbinding an invalid token failed", "user_id", userID, "device_id", deviceID, "err", err)
		return false
	}
	if removed {
		s.Log.Info("test push: invalid token unbound", "vendor", t.Kind, "user_id", userID, "device_id", deviceID)
	}
	return removed
}

// sendTest sends to every target at once and reports each verdict.
func (s *Server) sendTest(ctx context.Context, c vendors.Content, res configs.Resource, targets []push.Target) []testVerdict {
	outcomes := push.SendDirect(ctx, s.Vendors, c, res, targets)
	out := make([]testVerdict, len(targets))
	for i, t := range targets {
		o := outcomes[i]
		out[i] = testVerdict{PushTestResult: PushTestResult{PushID: string(t.Kind) + ":" + t.Target.Token, DeviceID: t.DeviceID, Vendor: string(t.Kind),
			LatencyMS: o.Latency.Milliseconds()}}
		r := o.Result
		switch {
		case errors.Is(o.Err, push.ErrNoClient): // no sender either: nothing to count
		case o.Err != nil:
			s.Senders.CountTest(t.Kind, vendors.Result{Verdict: vendors.Retry})
		default:
			s.Senders.CountTest(t.Kind, r)
		}
		switch {
		case errors.Is(o.Err, push.ErrNoClient):
			out[i].Code, out[i].Reason = "vendor_not_configured", "no account is configured for vendor "+string(t.Kind)
		case o.Err != nil:
			out[i].Code, out[i].Reason = "send_failed", o.Err.Error()
		case r.OK():
			out[i].OK, out[i].Code, out[i].Reason, out[i].resolvedEnv = true, "ok", r.Reason, r.ResolvedEnv
			if r.ResolvedEnv != "" {
				out[i].Reason = "accepted by the APNs " + r.ResolvedEnv + " environment"
			}
		default:
			out[i].Code, out[i].Reason, out[i].resolvedEnv = r.Code, r.Reason, r.ResolvedEnv
			out[i].invalid = r.Verdict == vendors.TokenInvalid
			if out[i].Code == "" {
				out[i].Code = r.Verdict.String()
			}
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
