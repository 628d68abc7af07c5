// Package receipttest holds what the vendors' arrival-receipt tests
// share: a receiver that decodes what a simulator posts with the vendor's
// own ParseReceipts, and the checks a fuzzed decoder's output must pass.
package receipttest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/simkit"
)

// Receiver is a loopback HTTP server taking receipts: each request body
// goes through parse; a body parse refuses, or one check refuses, is
// answered 400 and kept out of Got.
type Receiver struct {
	URL string

	parse func(contentType string, body []byte) ([]vendors.Receipt, error)
	check func(*http.Request) error

	mu       sync.Mutex
	got      []vendors.Receipt
	requests int
	err      error
}

// NewReceiver starts a Receiver, closed when t ends. check, when not nil,
// vets each request first (a signature, say).
func NewReceiver(t testing.TB, parse func(string, []byte) ([]vendors.Receipt, error), check func(*http.Request) error) *Receiver {
	t.Helper()
	r := &Receiver{parse: parse, check: check}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	var rs []vendors.Receipt
	if err == nil && r.check != nil {
		err = r.check(req)
	}
	if err == nil {
		rs, err = r.parse(req.Header.Get("Content-Type"), body)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err != nil {
		r.err = err
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, rs...)
}

// Got returns the receipts taken so far, sorted by token, the number of
// requests and the last refusal (nil = none).
func (r *Receiver) Got() ([]vendors.Receipt, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.got)
	slices.SortFunc(out, func(a, b vendors.Receipt) int { return strings.Compare(a.Token, b.Token) })
	return out, r.requests, r.err
}

// Want fails t unless the receipts taken are want (sorted by token) and no
// request was refused.
func (r *Receiver) Want(t testing.TB, want []vendors.Receipt) {
	t.Helper()
	got, _, err := r.Got()
	if err != nil {
		t.Fatalf("a receipt request was refused: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("receipts %+v\nwant %+v", got, want)
	}
}

// CheckParsed fails t unless rs, decoded from one body, holds at most
// limit receipts, each naming one token (not empty, no comma).
func CheckParsed(t testing.TB, rs []vendors.Receipt, limit int) {
	t.Helper()
	if len(rs) > limit {
		t.Fatalf("%d receipts from one body, at most %d", len(rs), limit)
	}
	for _, r := range rs {
		if r.Token == "" || strings.Contains(r.Token, ",") {
			t.Fatalf("receipt token %q", r.Token)
		}
	}
}

// Refused fails t for each of bodies that parse takes (sent with
// contentType): none of them is the vendor's receipt.
func Refused(t testing.TB, parse func(string, []byte) ([]vendors.Receipt, error), contentType string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := parse(contentType, []byte(b)); err == nil {
			t.Errorf("ParseReceipts(%q) took it", b)
		}
	}
}

// WaitPosted waits until arr has posted, or given up on, n tokens of
// vendor's receipts and holds none pending.
func WaitPosted(t testing.TB, arr *simkit.Arrivals, vendor string, n int64) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() bool {
		st := arr.Stats()[vendor]
		return st.Pending == 0 && st.Posted+st.Failed == n
	}, "receipts posted")
}
