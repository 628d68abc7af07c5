package docshape

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Request is one request a Wire saw.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Wire records every request passing through it to the handler it wraps,
// so a test can check what a real client put on the wire.
type Wire struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns h, recording each request before h serves it.
func (w *Wire) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.mu.Lock()
		w.reqs = append(w.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		w.mu.Unlock()
		h.ServeHTTP(rw, r)
	})
}

// Last returns the last request whose path ends in suffix.
func (w *Wire) Last(suffix string) (Request, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.reqs) - 1; i >= 0; i-- {
		if strings.HasSuffix(w.reqs[i].Path, suffix) {
			return w.reqs[i], true
		}
	}
	return Request{}, false
}
