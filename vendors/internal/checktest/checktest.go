// Package checktest is the test of a vendor client's Check against its
// simulator: for each notification, Check must refuse exactly what the
// simulator (which applies the vendor's documented limits to the request
// on the wire) refuses, and say which part is at fault.
package checktest

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
)

// Case is one notification and what the vendor makes of it: Refused
// (Check returns a *vendors.LimitError about Part and the vendor's answer
// is not Delivered) or not (Check returns nil and the vendor delivers).
type Case struct {
	Name    string
	N       *vendors.Notification
	Refused bool
	Part    vendors.Part
}

// Run checks every case: check is the client's Check, send sends n to one
// token through the client and returns the vendor's verdict.
func Run(t *testing.T, kind vendors.Kind, cases []Case, check func(*vendors.Notification) error, send func(*testing.T, *vendors.Notification) vendors.Result) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			err := check(c.N)
			var le *vendors.LimitError
			switch {
			case err == nil && c.Refused:
				t.Fatalf("Check passed a notification %s refuses", kind)
			case err != nil && !c.Refused:
				t.Fatalf("Check refused a notification %s accepts: %v", kind, err)
			case err != nil && !errors.As(err, &le):
				t.Fatalf("Check: %v is not a *vendors.LimitError", err)
			case le != nil && (le.Vendor != kind || le.Part != c.Part || le.Limit == ""):
				t.Fatalf("Check: %+v, want vendor %s, part %s and the limit named", le, kind, c.Part)
			}
			r := send(t, c.N)
			if delivered := r.Verdict == vendors.Delivered; delivered == c.Refused {
				t.Fatalf("the simulator answered %s (%s %s); Check says refused=%v", r.Verdict, r.Code, r.Reason, c.Refused)
			}
		})
	}
}

// Sized returns the notification make(pad) for the largest pad (in
// [0, hi]) that check passes, and that pad plus one (which check refuses):
// the two sides of the vendor's limit for the notification's shape.
func Sized(t *testing.T, check func(*vendors.Notification) error, hi int, make func(pad int) *vendors.Notification) (fits, over *vendors.Notification) {
	t.Helper()
	if check(make(0)) != nil {
		t.Fatalf("the smallest notification is refused: %v", check(make(0)))
	}
	if check(make(hi)) == nil {
		t.Fatalf("a pad of %d still passes Check", hi)
	}
	lo := 0 // passes
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if check(make(mid)) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return make(lo), make(hi)
}

// Pad is n with Data["pad"] set to pad bytes.
func Pad(n vendors.Notification, pad int) *vendors.Notification {
	d := make(map[string]string, len(n.Data)+1)
	for k, v := range n.Data {
		d[k] = v
	}
	d["pad"] = strings.Repeat("x", pad)
	n.Data = d
	return &n
}
