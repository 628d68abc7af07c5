package wire

import (
	"encoding/json"
	"net/url"
	"testing"
)

var samples = []string{"", "plain", "\"\\/\b\f\n\r\t", "\x00\x1f\x7f", "<>&", "<a&b>", "\u2028\u2029", "\xff\xfe", "é中🎉",
	"a\xc3", "\xed\xa0\x80", "bad\xffutf8", "abc-_.~", "a b", "&=+%/?#", `{"k":"v"}`}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range samples {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	want, _ := json.Marshal(s)
	if got := AppendJSONString(nil, s); string(got) != string(want) {
		t.Errorf("%q: got %s, want %s", s, got, want)
	}
	if got := AppendJSONString(nil, []byte(s)); string(got) != string(want) {
		t.Errorf("%q as bytes: got %s, want %s", s, got, want)
	}
}

func TestAppendQueryEscapedMatchesQueryEscape(t *testing.T) {
	for _, s := range samples {
		checkQueryEscaped(t, s)
	}
}

func FuzzAppendQueryEscaped(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(checkQueryEscaped)
}

func checkQueryEscaped(t *testing.T, s string) {
	want := url.QueryEscape(s)
	if got := string(AppendQueryEscaped(nil, s)); got != want {
		t.Errorf("%q: got %q, want %q", s, got, want)
	}
	if got := string(AppendQueryEscaped(nil, []byte(s))); got != want {
		t.Errorf("%q as bytes: got %q, want %q", s, got, want)
	}
}
