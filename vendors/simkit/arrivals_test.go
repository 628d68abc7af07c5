package simkit

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/internal/testutil"
)

// receiver records the receipt bodies it is posted, refusing the first
// `refuse` requests with a 503.
type receiver struct {
	mu     sync.Mutex
	refuse int
	bodies []string
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.refuse > 0 {
		rv.refuse--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rv.bodies = append(rv.bodies, string(b))
}

func (rv *receiver) got() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.bodies...)
}

func buildTo(url string) BuildReceipt {
	return func(tokens []string) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, url, strings.NewReader(strings.Join(tokens, ",")))
	}
}

func waitSettled(t *testing.T, a *Arrivals, vendor string) ArrivalStats {
	t.Helper()
	var st ArrivalStats
	testutil.CheckFor(t, 20*time.Second, func() error {
		st = a.Stats()[vendor]
		if st.Pending > 0 {
			return fmt.Errorf("pending %+v", st)
		}
		return nil
	})
	return st
}

// Every token is posted once, perRequest at a time, also when the
// receiver refuses the first try (retried).
func TestArrivalsPostAndRetry(t *testing.T) {
	rv := &receiver{refuse: 1}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	a := NewArrivals(ArrivalOptions{})
	defer a.Close()
	a.Post("oppo", []string{"a", "b", "c"}, 2, buildTo(srv.URL))
	st := waitSettled(t, a, "oppo")
	if st != (ArrivalStats{Posted: 3}) {
		t.Fatalf("stats %+v, want 3 posted", st)
	}
	if got := rv.got(); fmt.Sprint(got) != "[a,b c]" {
		t.Fatalf("receiver got %q, want [a,b c]", got)
	}
}

// At loss 1 nothing is posted and every token is counted lost; a nil
// Arrivals posts nothing and counts nothing.
func TestArrivalsLoss(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	a := NewArrivals(ArrivalOptions{Loss: 1})
	defer a.Close()
	a.Post("vivo", []string{"a", "b"}, 0, buildTo(srv.URL))
	if st := a.Stats()["vivo"]; st != (ArrivalStats{Lost: 2}) {
		t.Fatalf("stats %+v, want 2 lost", st)
	}
	var none *Arrivals
	none.Post("vivo", []string{"a"}, 0, buildTo(srv.URL))
	if len(none.Stats()) != 0 || len(rv.got()) != 0 {
		t.Fatal("nil Arrivals posted")
	}
}

// Close counts the receipts still waiting for their delay as failed, and
// later posts too.
func TestArrivalsClose(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	a := NewArrivals(ArrivalOptions{Delay: time.Hour})
	a.Post("huawei", []string{"a", "b"}, 0, buildTo(srv.URL))
	if st := a.Stats()["huawei"]; st.Pending != 2 {
		t.Fatalf("stats %+v, want 2 pending", st)
	}
	a.Close()
	a.Post("huawei", []string{"c"}, 0, buildTo(srv.URL))
	if st := a.Stats()["huawei"]; st != (ArrivalStats{Failed: 3}) {
		t.Fatalf("stats %+v, want 3 failed", st)
	}
	if len(rv.got()) != 0 {
		t.Fatal("a receipt was posted")
	}
}

// POST /sim/arrivals changes delay and loss (a field left out keeps its
// value); a bad body gets 400.
func TestArrivalsHandler(t *testing.T) {
	a := NewArrivals(ArrivalOptions{Delay: time.Second})
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	post := func(body string) int {
		r, err := http.Post(srv.URL+"/sim/arrivals", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
		return r.StatusCode
	}
	if c := post(`{"loss":0.5}`); c != 204 {
		t.Fatalf("POST loss: %d", c)
	}
	if a.delay != time.Second || a.loss != 0.5 {
		t.Fatalf("delay %v loss %v, want 1s 0.5", a.delay, a.loss)
	}
	for _, bad := range []string{`{"loss":2}`, `{"delay_ms":-1}`, `nope`} {
		if c := post(bad); c != 400 {
			t.Fatalf("POST %s: %d, want 400", bad, c)
		}
	}
}
