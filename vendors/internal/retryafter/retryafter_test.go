package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"   ", 0},
		{"12", 12 * time.Second},
		{" 3 ", 3 * time.Second},
		{"\t7\t", 7 * time.Second},
		{"0", 0},
		{"007", 7 * time.Second},
		{"-1", 0},
		{"-3", 0},
		{"+5", 0},   // delay-seconds has no sign
		{"1.5", 0},  // nor a fraction
		{"1e3", 0},  // nor an exponent
		{"12 s", 0}, // nor a unit
		{"soon", 0},
		{"0x10", 0},
		{"١٢", 0}, // digits of another script
		{"86399", 86399 * time.Second},
		{"86400", Max},
		{"86401", Max},
		{"9223372036", Max},                 // seconds beyond time.Duration's range
		{"9223372036854775807", Max},        // the largest int64
		{"99999999999999999999999999", Max}, // beyond int64
		{strings.Repeat("9", 5000), Max},
		{"Sun, 01 Jun 2025 10:01:00 GMT", time.Minute},
		{" Sun, 01 Jun 2025 10:01:00 GMT ", time.Minute},
		{"Sunday, 01-Jun-25 10:02:00 GMT", 2 * time.Minute}, // RFC 850
		{"Sun Jun  1 10:03:00 2025", 3 * time.Minute},       // asctime
		{"Sun, 01 Jun 2025 10:00:00 GMT", 0},                // now itself
		{"Sun, 01 Jun 2025 09:00:00 GMT", 0},                // past
		{"Mon, 02 Jun 2025 10:00:00 GMT", Max},              // exactly a day
		{"Tue, 03 Jun 2025 10:00:00 GMT", Max},              // beyond
		{"Fri, 31 Dec 9999 23:59:59 GMT", Max},              // beyond time.Duration from now
		{"Sun, 01 Jun 2025 10:01:00", 0},                    // not an HTTP-date
		{"2025-06-01T10:01:00Z", 0},
	} {
		if got := Parse(tc.value, now); got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestFromHeader(t *testing.T) {
	h := http.Header{}
	if got := FromHeader(h, now); got != 0 {
		t.Errorf("no header: %v", got)
	}
	h.Set("Retry-After", "120")
	if got := FromHeader(h, now); got != 2*time.Minute {
		t.Errorf("120: %v", got)
	}
	h.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
	if got := FromHeader(h, now); got != 90*time.Second {
		t.Errorf("date: %v", got)
	}
	h.Set("Retry-After", "1000000")
	if got := FromHeader(h, now); got != Max {
		t.Errorf("a large value: %v, want the cap %v", got, Max)
	}
}

// FuzzParse: any value is a wait from 0 to Max; delay-seconds within the
// cap are read exactly, and a date in the future is the time until it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "12", " 3 ", "-1", "+5", "1.5", "86400", "9223372036854775807",
		"99999999999999999999", "Sun, 01 Jun 2025 10:01:00 GMT", "Sunday, 01-Jun-25 10:02:00 GMT",
		"Sun Jun  1 10:03:00 2025", "Fri, 31 Dec 9999 23:59:59 GMT", "soon", "\x00"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, value string, shift int64) {
		at := now.Add(time.Duration(shift))
		got := Parse(value, at)
		if got < 0 || got > Max {
			t.Fatalf("Parse(%q) = %v, outside [0, %v]", value, got, Max)
		}
		v := strings.TrimSpace(value)
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			want := Max
			if n < uint64(maxSeconds) {
				want = time.Duration(n) * time.Second
			}
			if got != want {
				t.Fatalf("Parse(%q) = %v, want %v", value, got, want)
			}
		}
		if d, err := http.ParseTime(v); err == nil {
			if _, digits := seconds(v); !digits {
				want := min(max(d.Sub(at), 0), Max)
				if got != want {
					t.Fatalf("Parse(%q) at %v = %v, want %v", value, at, got, want)
				}
			}
		}
	})
}
