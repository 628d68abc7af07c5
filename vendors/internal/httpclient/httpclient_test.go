package httpclient

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// TestTransportSettings: the timeouts, pool sizes and HTTP/2 settings of
// the transport New builds.
func TestTransportSettings(t *testing.T) {
	h2 := &http.HTTP2Config{SendPingTimeout: 15 * time.Second, PingTimeout: 10 * time.Second}
	for _, tc := range []struct {
		name          string
		o             Options
		idle, perHost int
	}{
		{"defaults", Options{Timeout: 3 * time.Second}, DefaultMaxIdleConns, DefaultMaxIdleConnsPerHost},
		{"sized", Options{Timeout: 3 * time.Second, MaxIdleConns: 256, MaxIdleConnsPerHost: 32, HTTP2: h2}, 256, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := &tls.Config{ServerName: "vendor.example"}
			tr := tc.o.transport(conf, nil)
			switch {
			case tr.TLSClientConfig != conf:
				t.Error("the TLS config is not the one given")
			case tr.TLSHandshakeTimeout != tc.o.Timeout:
				t.Errorf("TLS handshake timeout %v, want %v", tr.TLSHandshakeTimeout, tc.o.Timeout)
			case !tr.ForceAttemptHTTP2:
				t.Error("HTTP/2 is not attempted")
			case tr.MaxIdleConns != tc.idle || tr.MaxIdleConnsPerHost != tc.perHost:
				t.Errorf("idle connections %d, %d per host; want %d, %d", tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tc.idle, tc.perHost)
			case tr.IdleConnTimeout != IdleConnTimeout || tr.ExpectContinueTimeout != ExpectContinueTimeout:
				t.Errorf("idle %v, expect-continue %v", tr.IdleConnTimeout, tr.ExpectContinueTimeout)
			case tr.Proxy == nil:
				t.Error("no proxy from the environment")
			}
			if tc.o.HTTP2 == nil {
				if tr.HTTP2 != nil {
					t.Errorf("HTTP/2 config %+v, want net/http's defaults", tr.HTTP2)
				}
			} else if tr.HTTP2 == tc.o.HTTP2 || !reflect.DeepEqual(*tr.HTTP2, *tc.o.HTTP2) {
				t.Errorf("HTTP/2 config %+v: not a copy of %+v", tr.HTTP2, tc.o.HTTP2)
			}
		})
	}
	hc, _ := New(Options{Timeout: 3 * time.Second})
	if hc.Timeout != Backstop(3*time.Second) || hc.Timeout <= 3*time.Second {
		t.Errorf("client timeout %v, want the backstop %v", hc.Timeout, Backstop(3*time.Second))
	}
}

// redirecting serves a 307 to a second server that counts what reaches
// it; both over TLS from one CA.
func redirecting(t *testing.T) (url string, tlsConf *tls.Config, reached *atomic.Int64) {
	t.Helper()
	reached = new(atomic.Int64)
	other, ca := simtest.TestServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	url = simtest.ServeTLS(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	return url, ca.ClientTLS(), reached
}

func post(t *testing.T, hc *http.Client, url string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("secret=1"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// TestRedirectRefused: New's client, NewOr's copy of a given client and
// Client's wrapper each hand back the 3xx, and the host in Location gets
// nothing; the given client is left following redirects. Over TLS from
// the configured roots, New's client speaks HTTP/2.
func TestRedirectRefused(t *testing.T) {
	url, tlsConf, reached := redirecting(t)
	own, tr := New(Options{TLS: tlsConf, Timeout: 5 * time.Second})
	t.Cleanup(tr.CloseIdleConnections)
	given := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	t.Cleanup(given.CloseIdleConnections)
	copied, none := NewOr(given, Options{Timeout: 5 * time.Second})
	if none != nil {
		t.Error("NewOr built a transport beside the given client")
	}
	if copied == given || given.CheckRedirect != nil || copied.Transport != given.Transport {
		t.Error("NewOr changed the given client instead of copying it")
	}
	wrapped := Client(tr, 0)
	if wrapped.Timeout != 0 {
		t.Errorf("Client(rt, 0) has timeout %v", wrapped.Timeout)
	}
	for name, hc := range map[string]*http.Client{"New": own, "NewOr": copied, "Client": wrapped} {
		resp := post(t, hc, url)
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Errorf("%s: HTTP %d, want the 307 itself", name, resp.StatusCode)
		}
		if name == "New" && resp.ProtoMajor != 2 {
			t.Errorf("%s: HTTP/%d, want HTTP/2 over ALPN", name, resp.ProtoMajor)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
	// The control: the given client itself follows the redirect.
	if resp := post(t, given, url); resp.StatusCode != http.StatusOK || reached.Load() != 1 {
		t.Fatalf("the given client: HTTP %d, target reached %d times; want it followed once", resp.StatusCode, reached.Load())
	}
	if copied, tr := NewOr(nil, Options{TLS: tlsConf, Timeout: 5 * time.Second}); tr == nil || copied.CheckRedirect == nil {
		t.Error("NewOr without a given client is not New")
	} else {
		tr.CloseIdleConnections()
	}
}

// TestHandshakeBounded: a server that accepts the connection and never
// answers the TLS handshake fails the request after Timeout, though the
// request's own deadline is far later; Dial's dialer is used.
func TestHandshakeBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn // open and silent
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range held {
			_ = c.Close()
		}
	})
	var dials atomic.Int64
	hc, tr := New(Options{Timeout: 100 * time.Millisecond, Dial: func(d *net.Dialer) func(context.Context, string, string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		}
	}})
	t.Cleanup(tr.CloseIdleConnections)
	hc.Timeout = 0 // only the handshake timeout can end it before the request's deadline
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+ln.Addr().String()+"/", nil)
	_, err = hc.Do(req)
	if err == nil || !strings.Contains(err.Error(), "TLS handshake timeout") {
		t.Fatalf("error %v, want a TLS handshake timeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the request's own deadline ended it")
	}
	if dials.Load() != 1 {
		t.Errorf("Dial's dialer dialed %d times, want 1", dials.Load())
	}
}
