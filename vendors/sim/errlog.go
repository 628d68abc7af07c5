package sim

import (
	"io"
	"log"
	"strings"
)

// quietErrors is the simulators' http.Server ErrorLog writer: it drops
// what every client that goes away mid-connection makes net/http log (a
// herald killed by the crash scenario, a benchmark's connections closed
// at its end: a TLS handshake cut off, an HTTP/2 preface read that ended
// in EOF or a reset) and passes every other line to next.
type quietErrors struct{ next io.Writer }

func (q quietErrors) Write(p []byte) (int, error) {
	if line := string(p); containsAny(line, "TLS handshake error", "error reading preface from client") &&
		containsAny(line, "EOF", "connection reset by peer", "broken pipe", "use of closed network connection", "i/o timeout") {
		return len(p), nil
	}
	return q.next.Write(p)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// errorLog is the ErrorLog the simulators' servers use.
func errorLog() *log.Logger {
	return log.New(quietErrors{next: log.Writer()}, "", log.LstdFlags)
}
