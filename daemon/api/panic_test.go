package api

import (
	"log/slog"
	"testing"

	"github.com/herald-push/herald/configs"
	"github.com/valyala/fasthttp"
)

// A handler that panics costs its request a 500, not the daemon.
func TestHandlerPanicIsA500(t *testing.T) {
	d := &Server{Deps: Deps{Config: configs.Default(), Log: slog.New(slog.DiscardHandler), Auth: &Auth{}, Ready: func() bool { return true }}}
	d.routes()
	d.router.add("GET", "/test/panic", scopeNone, func(*fasthttp.RequestCtx, params) *apiError { panic("boom") })
	var rc fasthttp.RequestCtx
	rc.Request.Header.SetMethod("GET")
	rc.Request.SetRequestURI("/test/panic")
	d.handle(&rc)
	if rc.Response.StatusCode() != 500 {
		t.Fatalf("status %d, body %s; want 500", rc.Response.StatusCode(), rc.Response.Body())
	}
	var again fasthttp.RequestCtx
	again.Request.Header.SetMethod("GET")
	again.Request.SetRequestURI("/healthz")
	d.handle(&again)
	if again.Response.StatusCode() != 200 {
		t.Fatalf("after the panic /healthz = %d", again.Response.StatusCode())
	}
}
