package oppo

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// fakeVendor serves a successful auth and answers every send with send.
func fakeVendor(t *testing.T, send http.HandlerFunc) (*Client, *atomic.Int64) {
	t.Helper()
	var auths atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc(pathAuth, func(w http.ResponseWriter, r *http.Request) {
		auths.Add(1)
		reply(w, 0, "Success", simAuthData{AuthToken: "tok", CreateTime: 1})
	})
	mux.HandleFunc(pathBatch, send)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(Config{AppKey: "k", MasterSecret: "s", Endpoint: srv.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, &auths
}

func sendOne(t *testing.T, c *Client, tokens ...string) []vendors.Result {
	t.Helper()
	res, err := c.Send(context.Background(), chatNotification("m-1"), targets(tokens...))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return res
}

func TestTransportAnswers(t *testing.T) {
	tests := []struct {
		name    string
		send    http.HandlerFunc
		verdict vendors.Verdict
		code    string
		after   time.Duration
	}{
		{"503 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, vendors.Retry, "http_503", 7 * time.Second},
		{"flow control with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			reply(w, -2, "Service in Flow Control", nil)
		}, vendors.Retry, "-2", 3 * time.Second},
		{"404 without envelope", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, vendors.Rejected, "http_404", 0},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>gateway</html>"))
		}, vendors.Retry, "malformed_response", 0},
		{"no code", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"message":"ok"}`))
		}, vendors.Retry, "malformed_response", 0},
		{"data not an array", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"code":0,"data":{"messageId":"x"}}`))
		}, vendors.Retry, "malformed_response", 0},
		{"item missing", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"code":0,"data":[]}`))
		}, vendors.Retry, "missing_item", 0},
		{"string code", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"code":"41","message":"Invalid Arguments"}`))
		}, vendors.Rejected, "41", 0},
		{"302 with code 0", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "https://elsewhere.example"+pathBatch)
			w.WriteHeader(http.StatusFound)
			_, _ = w.Write([]byte(`{"code":0,"data":[{"messageId":"x","registrationId":"CN_a"}]}`))
		}, vendors.Misconfigured, vendors.CodeRedirectRefused, 0},
		{"304 without Location", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}, vendors.Misconfigured, vendors.CodeRedirectRefused, 0},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm() // with the body read, the server sees the client hang up
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, vendors.Retry, "timeout", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := fakeVendor(t, tc.send)
			r := sendOne(t, c, "CN_a")[0]
			if r.Verdict != tc.verdict || r.Code != tc.code || r.RetryAfter != tc.after {
				t.Errorf("got %v %q after %v (%s), want %v %q after %v", r.Verdict, r.Code, r.RetryAfter, r.Reason, tc.verdict, tc.code, tc.after)
			}
		})
	}
}

func TestItemsMatchedByRegistrationID(t *testing.T) {
	c, _ := fakeVendor(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":0,"data":[` +
			`{"messageId":"2","registrationId":"CN_b","errorCode":10000,"errorMessage":"Invalid Registration_id"},` +
			`{"messageId":"1","registrationId":"CN_a"},` +
			`{"messageId":"3","registrationId":"CN_a","errorCode":"0"}]}`))
	})
	res := sendOne(t, c, "CN_a", "CN_b", "CN_a")
	wantVerdicts(t, res, vendors.Delivered, vendors.TokenInvalid, vendors.Delivered)
}

func TestRefusedFreshTokenIsCredentialsBroken(t *testing.T) {
	var sends atomic.Int64
	c, auths := fakeVendor(t, func(w http.ResponseWriter, r *http.Request) {
		sends.Add(1)
		reply(w, codeInvalidAuthToken, "Invalid AuthToken", nil)
	})
	r := sendOne(t, c, "CN_a")[0]
	if r.Verdict != vendors.CredentialsBroken || r.Code != "11" {
		t.Errorf("got %+v", r)
	}
	if auths.Load() != 2 || sends.Load() != 2 {
		t.Errorf("%d auth calls and %d sends, want 2 and 2", auths.Load(), sends.Load())
	}
}

func TestAuthAnswers(t *testing.T) {
	tests := []struct {
		name    string
		auth    http.HandlerFunc
		verdict vendors.Verdict
		code    string
	}{
		{"flow control", func(w http.ResponseWriter, r *http.Request) { reply(w, -2, "", nil) }, vendors.Retry, "-2"},
		{"ip black list", func(w http.ResponseWriter, r *http.Request) { reply(w, 26, "", nil) }, vendors.CredentialsBroken, "26"},
		{"bad arguments", func(w http.ResponseWriter, r *http.Request) { reply(w, 41, "", nil) }, vendors.CredentialsBroken, "41"},
		{"no token", func(w http.ResponseWriter, r *http.Request) { reply(w, 0, "Success", map[string]int{"create_time": 1}) }, vendors.Retry, "malformed_response"},
		{"502", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }, vendors.Retry, "http_502"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.auth)
			t.Cleanup(srv.Close)
			c, err := New(Config{AppKey: "k", MasterSecret: "s", Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			r := sendOne(t, c, "CN_a", "CN_b")[1]
			if r.Verdict != tc.verdict || r.Code != tc.code {
				t.Errorf("got %v %q (%s), want %v %q", r.Verdict, r.Code, r.Reason, tc.verdict, tc.code)
			}
		})
	}
}

func TestConnectionRefusedIsRetry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{AppKey: "k", MasterSecret: "s", Endpoint: "http://" + addr, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := sendOne(t, c, "CN_a")[0]
	if r.Verdict != vendors.Retry || r.Code != "transport" {
		t.Errorf("got %+v", r)
	}
}
