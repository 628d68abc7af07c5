package oppo

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// serveTLS serves h over TLS + HTTP/2 on a loopback port with a
// certificate from ca, until t ends.
func serveTLS(t *testing.T, ca *simkit.CA, h http.Handler) string {
	t.Helper()
	cfg, err := ca.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: cfg}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

// Answers that read as success (code 0), from /server/v1/auth and from
// unicast_batch for targets tok-a and tok-b.
const (
	authOK  = `{"code":0,"message":"Success","data":{"auth_token":"at-123","create_time":1}}`
	batchOK = `{"code":0,"message":"Success","data":[{"messageId":"m-a","registrationId":"tok-a"},{"messageId":"m-b","registrationId":"tok-b"}]}`
)

// answerOK answers r as a successful OPPO would.
func answerOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if r.URL.Path == pathAuth {
		_, _ = w.Write([]byte(authOK))
		return
	}
	_, _ = w.Write([]byte(batchOK))
}

// TestRedirectIsNeverFollowed: a 3xx from /server/v1/auth or from
// unicast_batch, even with a body holding code 0 (which OPPO's table reads
// as success), is Misconfigured with code redirect_refused for every
// target, and the host in Location, trusted by the same CA and answering
// as OPPO does on success, never gets a request (so never the sign or the
// auth_token in the form).
func TestRedirectIsNeverFollowed(t *testing.T) {
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "m4ster-secret"
	for _, tc := range []struct {
		path   string
		status int
	}{
		{pathAuth, http.StatusTemporaryRedirect},
		{pathAuth, http.StatusFound},
		{pathBatch, http.StatusTemporaryRedirect},
		{pathBatch, http.StatusPermanentRedirect},
		{pathBatch, http.StatusMovedPermanently},
		{pathBatch, http.StatusFound},
		{pathBatch, http.StatusSeeOther},
	} {
		t.Run(tc.path[strings.LastIndexByte(tc.path, '/')+1:]+"/"+strconv.Itoa(tc.status), func(t *testing.T) {
			var mu sync.Mutex
			var leaked []http.Header
			other := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				leaked = append(leaked, r.Header.Clone())
				mu.Unlock()
				answerOK(w, r)
			}))
			var redirected atomic.Int64
			url := serveTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.path {
					answerOK(w, r)
					return
				}
				redirected.Add(1)
				w.Header().Set("Location", other+r.URL.Path)
				w.Header().Set("Content-Type", "application/json;charset=UTF-8")
				w.WriteHeader(tc.status)
				if r.URL.Path == pathAuth {
					_, _ = w.Write([]byte(authOK))
				} else {
					_, _ = w.Write([]byte(batchOK))
				}
			}))
			c, err := New(Config{AppKey: "k", MasterSecret: secret, Endpoint: url, TLS: ca.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.Send(ctx, chatNotification("m-1"), targets("tok-a", "tok-b"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 {
				t.Fatalf("%d results for 2 targets", len(res))
			}
			host := strings.TrimPrefix(other, "https://")
			for i, r := range res {
				if r.Verdict != vendors.Misconfigured || r.Code != vendors.CodeRedirectRefused {
					t.Errorf("target %d: %v %q (%s), want misconfigured %s", i, r.Verdict, r.Code, r.Reason, vendors.CodeRedirectRefused)
				}
				if !strings.Contains(r.Reason, strconv.Itoa(tc.status)) || !strings.Contains(r.Reason, host) {
					t.Errorf("target %d: reason %q does not name HTTP %d and host %s", i, r.Reason, tc.status, host)
				}
				if tc.path == pathAuth && !strings.HasPrefix(r.Reason, "auth: ") {
					t.Errorf("target %d: reason %q does not say the auth call failed", i, r.Reason)
				}
				if strings.Contains(r.Reason, secret) || strings.Contains(r.Reason, "at-123") {
					t.Errorf("target %d: reason %q holds a credential", i, r.Reason)
				}
			}
			if redirected.Load() == 0 {
				t.Error("the redirecting endpoint was never requested")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(leaked) != 0 {
				t.Fatalf("the redirect target got %d requests (headers %v): a redirect was followed", len(leaked), leaked)
			}
		})
	}
}
