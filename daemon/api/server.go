package api

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/webhooks"
	"github.com/valyala/fasthttp"
)

// Deps is what the API serves from: the running parts the wiring built.
// Every field is required unless its comment says otherwise.
type Deps struct {
	Config   configs.Config // limits and defaults as at start (reloads change resources and vendor limits only)
	Log      *slog.Logger
	Clock    actors.Clock
	Auth     *Auth
	Store    *store.Store
	Users    *actors.Users
	Calls    *actors.Calls
	Dispatch *actors.Dispatcher
	Senders  *actors.Senders
	Yield    *actors.Yield
	Composer *push.Composer
	Vendors  map[vendors.Kind]vendors.Sender // the vendor clients, for the test push
	// Receipts are the vendors whose arrival receipts
	// POST /v1/receipts/{vendor} takes; nil = receipts are off.
	Receipts map[vendors.Kind]ReceiptVendor
	// Webhooks delivers the webhook events; nil = no endpoints configured.
	Webhooks *webhooks.Dispatcher

	Limits         func() map[vendors.Kind]configs.VendorLimits            // each vendor's limits in force (GET /v1/stats); nil = Config's
	Reload         func() (ReloadResult, error)                            // POST /v1/admin/reload
	Metrics        fasthttp.RequestHandler                                 // GET /metrics
	Ready          func() bool                                             // GET /readyz
	ObserveRequest func(method, route string, status int, d time.Duration) // nil = not measured
}

// Server is herald's HTTP API: routes, authentication, JSON decoding and
// error answers over Deps.
type Server struct {
	Deps
	router router
}

// New returns the API over deps; a missing required dependency is an
// error naming it.
func New(deps Deps) (*Server, error) {
	for _, d := range []struct {
		name    string
		missing bool
	}{
		{"Log", deps.Log == nil}, {"Clock", deps.Clock == nil}, {"Auth", deps.Auth == nil}, {"Store", deps.Store == nil},
		{"Users", deps.Users == nil}, {"Calls", deps.Calls == nil}, {"Dispatch", deps.Dispatch == nil},
		{"Senders", deps.Senders == nil}, {"Yield", deps.Yield == nil}, {"Composer", deps.Composer == nil},
		{"Reload", deps.Reload == nil}, {"Metrics", deps.Metrics == nil}, {"Ready", deps.Ready == nil},
	} {
		if d.missing {
			return nil, fmt.Errorf("api: Deps.%s is required", d.name)
		}
	}
	s := &Server{Deps: deps}
	s.routes()
	return s, nil
}

// observe records a request under its route's method and path template;
// one that matched no route is method "other" (a client's arbitrary
// methods must not make label values without bound).
func (s *Server) observe(method, route string, status int, d time.Duration) {
	if s.ObserveRequest != nil {
		s.ObserveRequest(method, route, status, d)
	}
}

func (s *Server) routes() {
	r := &s.router
	r.add("GET", "/healthz", scopeNone, s.healthz)
	r.add("GET", "/readyz", scopeNone, s.readyz)
	r.add("GET", "/metrics", scopeNone, s.metrics)
	r.add("PUT", "/v1/users/:user_id/devices/:device_id", scopeIngest, s.putDevice)
	r.add("POST", "/v1/devices/batch", scopeIngest, s.postDeviceBatch)
	r.add("DELETE", "/v1/users/:user_id/devices/:device_id", scopeIngest, s.deleteDevice)
	r.add("POST", "/v1/users/:user_id/logout", scopeIngest, s.logout)
	r.add("PUT", "/v1/users/:user_id/badge", scopeIngest, s.putBadge)
	r.add("GET", "/v1/users/:user_id", scopeIngest, s.getUser)
	r.add("POST", "/v1/presence", scopeIngest, s.postPresence)
	r.add("POST", "/v1/push/test", scopeAdmin, s.pushTest)
	r.add("PUT", "/v1/groups/:group_id/members", scopeIngest, s.putGroupMembers)
	r.add("GET", "/v1/groups/:group_id/members", scopeIngest, s.getGroupMembers)
	r.add("DELETE", "/v1/groups/:group_id", scopeIngest, s.deleteGroup)
	r.add("POST", "/v1/messages", scopeIngest, s.postMessage)
	r.add("GET", "/v1/messages/:message_id", scopeIngest, s.getMessageStatus)
	r.add("GET", "/v1/messages/:message_id/failures", scopeIngest, s.getMessageFailures)
	r.add("GET", "/v1/users/:user_id/inbox", scopeIngest, s.getInbox)
	r.add("POST", "/v1/users/:user_id/inbox/ack", scopeIngest, s.ackInbox)
	r.add("GET", "/v1/stats", scopeRead, s.getStats)
	r.add("POST", "/v1/calls", scopeIngest, s.postCall)
	r.add("GET", "/v1/calls/:call_id", scopeIngest, s.getCall)
	r.add("POST", "/v1/calls/:call_id/cancel", scopeIngest, s.callAction(actors.ActionCancel))
	r.add("POST", "/v1/calls/:call_id/accept", scopeIngest, s.callAction(actors.ActionAccept))
	r.add("POST", "/v1/calls/:call_id/reject", scopeIngest, s.callAction(actors.ActionReject))
	r.add("POST", "/v1/calls/:call_id/end", scopeIngest, s.callAction(actors.ActionEnd))
	r.add("GET", "/v1/users/:user_id/calls", scopeIngest, s.getUserCalls)
	r.add("GET", "/v1/admin/dead-letters", scopeAdmin, s.getDeadLetters)
	r.add("POST", "/v1/admin/dead-letters/replay", scopeAdmin, s.replayDeadLetters)
	r.add("POST", "/v1/admin/reload", scopeAdmin, s.postReload)
	r.add("GET", "/v1/admin/webhooks", scopeAdmin, s.getWebhooks)
	r.add("GET", "/v1/admin/webhooks/:endpoint/dead-letters", scopeAdmin, s.getWebhookDead)
	r.add("POST", "/v1/admin/webhooks/:endpoint/replay", scopeAdmin, s.replayWebhooks)
	// The vendors post receipts without an API key (see postReceipt).
	r.add("POST", "/v1/receipts/:vendor", scopeNone, s.postReceipt)
}

// HTTPServer is the fasthttp server that serves the API.
func (s *Server) HTTPServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                       s.handle,
		ErrorHandler:                  s.handleParseError,
		Name:                          "herald",
		MaxRequestBodySize:            int(s.Config.Limits.MaxBodyBytes),
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  30 * time.Second,
		IdleTimeout:                   2 * time.Minute,
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         false,
		DisableHeaderNamesNormalizing: false,
		// Without it fasthttp logs the bytes of a request it cannot parse,
		// Authorization header included.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{s.Log.With("component", "fasthttp")},
	}
}

// handle is the single fasthttp handler: refuse ambiguous framing, route,
// authenticate, dispatch, record metrics.
func (s *Server) handle(rc *fasthttp.RequestCtx) {
	if e := checkFraming(&rc.Request.Header); e != nil {
		writeError(rc, e)
		rc.SetConnectionClose() // what follows on the connection is not to be trusted
		s.observe(otherMethod, "unparsed", e.Status, 0)
		return
	}
	start := time.Now()
	name, method := "unmatched", otherMethod
	defer func() {
		// A bug in one handler must cost one request, not the daemon
		// (fasthttp does not recover): 500, and the stack in the log.
		if p := recover(); p != nil {
			s.Log.Error("handler panicked; answered 500", "method", method, "route", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(rc, internalError())
			s.observe(method, name, fasthttp.StatusInternalServerError, time.Since(start))
		}
	}()
	rt, p, e := s.router.match(string(rc.Method()), rc.URI().PathOriginal())
	if e == nil {
		name, method = rt.name, rt.method
		if _, e = s.Auth.check(rc, rt.scope); e == nil {
			e = rt.handler(rc, p)
		}
	}
	if e != nil {
		writeError(rc, e)
	}
	s.observe(method, name, rc.Response.StatusCode(), time.Since(start))
}

// handleParseError answers requests fasthttp could not read: an oversize
// body gets 413, anything else 400, both as API error bodies.
func (s *Server) handleParseError(rc *fasthttp.RequestCtx, err error) {
	var e *apiError
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = &apiError{Status: fasthttp.StatusRequestEntityTooLarge, Code: codePayloadTooLarge,
			Message: fmt.Sprintf("request body exceeds %s", s.Config.Limits.MaxBodyBytes)}
	case errors.As(err, &small):
		e = &apiError{Status: fasthttp.StatusRequestHeaderFieldsTooLarge, Code: codeHeadersTooLarge,
			Message: "request headers are too large"}
	default:
		e = invalid("", "malformed HTTP request")
	}
	writeError(rc, e)
	s.observe(otherMethod, "unparsed", e.Status, 0)
}

// otherMethod is the method label of a request that matched no route.
const otherMethod = "other"

func (s *Server) healthz(rc *fasthttp.RequestCtx, _ params) *apiError {
	writeJSON(rc, fasthttp.StatusOK, HealthResponse{Status: "ok"})
	return nil
}

func (s *Server) readyz(rc *fasthttp.RequestCtx, _ params) *apiError {
	if !s.Ready() {
		return &apiError{Status: fasthttp.StatusServiceUnavailable, Code: codeOverloaded, Message: "not ready", RetryAfter: 1}
	}
	writeJSON(rc, fasthttp.StatusOK, HealthResponse{Status: "ready"})
	return nil
}

func (s *Server) metrics(rc *fasthttp.RequestCtx, _ params) *apiError {
	s.Metrics(rc)
	return nil
}

type fasthttpLogger struct{ log *slog.Logger }

// Printf logs what fasthttp reports. A request refused as too large was
// answered (413, 431) and counted under route "unparsed": fasthttp's line
// for it, with the peer's address, is only Debug, not a WARN per request.
func (l fasthttpLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if answeredTooLarge(msg) {
		l.log.Debug(msg)
		return
	}
	l.log.Warn(msg)
}

// answeredTooLarge reports whether a fasthttp log line is about a body or
// header over the limits, which handleParseError answered.
func answeredTooLarge(msg string) bool {
	return strings.Contains(msg, fasthttp.ErrBodyTooLarge.Error()) || strings.Contains(msg, "small read buffer")
}
