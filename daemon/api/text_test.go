package api

import (
	"runtime"
	"strings"
	"testing"
)

// Malformed bodies that reach the text checks' error paths get a 400,
// never a panic.
func TestTextChecksOnMalformedBodies(t *testing.T) {
	for _, body := range []string{`{["\udc00"]}`, `{[{"a":1,"a":2}]}`, `[{"\ud800`, `{"a":{"b":"\udc00"`, `]]}}"\udc00"`, `{"a":1,"a"`} {
		_ = checkText([]byte(body)) // must not panic
	}
	// A body limit's worth of '[': the scan stops at the decoder's depth
	// limit instead of a frame per bracket (tens of MiB).
	deep := []byte(strings.Repeat("[", 1<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_ = checkText(deep)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("a million '[' allocated %d bytes; the scan must stop at maxJSONDepth", got)
	}
	if e := checkText([]byte(`{"a":{"b":"\udc00"}}`)); e == nil || e.Field != "a.b" {
		t.Fatalf("nested lone surrogate: %+v; want a 400 naming a.b", e)
	}
}
