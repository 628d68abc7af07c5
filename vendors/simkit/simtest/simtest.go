// Package simtest runs a vendor simulator (or any handler) on a TLS + HTTP/2
// loopback server for tests, with a settable Clock and a send that rides
// out a simulator restart.
package simtest

import (
	"net"
	"net/http"
	"testing"

	"github.com/herald-push/herald/vendors/simkit"
)

// TestServer serves h over TLS with HTTP/2 on a random loopback port,
// certified by a fresh CA, and stops it when t ends. It is what each vendor
// package's tests run its simulator on.
func TestServer(t testing.TB, h http.Handler) (url string, ca *simkit.CA) {
	t.Helper()
	ca, err := simkit.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ServeTLS(t, ca, h), ca
}

// ServeTLS serves h over TLS with HTTP/2 on a random loopback port with a
// certificate from ca, and stops it when t ends. Servers sharing a CA are
// all trusted by one ca.ClientTLS().
func ServeTLS(t testing.TB, ca *simkit.CA, h http.Handler) (url string) {
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
