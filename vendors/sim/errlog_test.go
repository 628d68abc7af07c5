package sim

import (
	"bytes"
	"testing"
)

// The simulators' error log drops the lines of clients that went away and
// keeps every other line whole.
func TestErrorLogDropsOnlyClientsGoingAway(t *testing.T) {
	var out bytes.Buffer
	q := quietErrors{next: &out}
	gone := []string{
		"2026/12/03 12:00:00 http: TLS handshake error from 127.0.0.1:5000: EOF\n",
		"2026/12/03 12:00:00 http: TLS handshake error from 127.0.0.1:5000: read tcp 127.0.0.1:8090->127.0.0.1:5000: read: connection reset by peer\n",
		"2026/12/03 12:00:00 http2: server: error reading preface from client 127.0.0.1:5000: EOF\n",
	}
	kept := []string{
		"2026/12/03 12:00:00 http: TLS handshake error from 127.0.0.1:5000: remote error: tls: bad certificate\n",
		"2026/12/03 12:00:00 http: panic serving 127.0.0.1:5000: boom\n",
		"2026/12/03 12:00:00 http2: server: error reading preface from client 127.0.0.1:5000: bogus greeting\n",
	}
	for _, l := range append(append([]string{}, gone...), kept...) {
		if n, err := q.Write([]byte(l)); err != nil || n != len(l) {
			t.Fatalf("Write(%q) = %d, %v", l, n, err)
		}
	}
	want := kept[0] + kept[1] + kept[2]
	if out.String() != want {
		t.Fatalf("passed on:\n%s\nwant:\n%s", out.String(), want)
	}
}
