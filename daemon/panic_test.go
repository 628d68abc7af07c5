package daemon

import (
	"testing"

	"github.com/herald-push/herald/configs"
	"github.com/valyala/fasthttp"
)

// A handler that panics costs its request a 500, not the daemon.
func TestHandlerPanicIsA500(t *testing.T) {
	cfg := configs.Default()
	cfg.DataDir = t.TempDir()
	d, err := New(cfg, Env{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
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
