package xiaomi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// The JSON types below accept what MiPush and the SDKs in the wild have
// been seen to send for one field (a number or a numeric string, a string
// or an array) so that a shape change never turns an answer unreadable.

// flexInt is an integer sent as a JSON number or a numeric string.
type flexInt struct {
	N   int
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(bytes.TrimSpace(b), `"`)
	if string(b) == "null" || len(b) == 0 {
		return nil
	}
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil // not a number: leave unset
	}
	f.N, f.Set = int(n), true
	return nil
}

// flexString is a string, or any other JSON scalar as its text.
type flexString struct{ S string }

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.S)
	}
	if s := string(bytes.TrimSpace(b)); s != "null" && len(s) > 0 && s[0] != '{' && s[0] != '[' {
		f.S = s
	}
	return nil
}

// flexList is a comma-separated string or an array of strings.
type flexList struct{ items []string }

func (f *flexList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				f.items = append(f.items, item)
			}
		}
		return nil
	}
	var list []string
	if json.Unmarshal(b, &list) == nil {
		f.items = list
	}
	return nil
}

// set returns the items as a set; nil when there are none.
func (f flexList) set() map[string]struct{} {
	if len(f.items) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(f.items))
	for _, item := range f.items {
		m[item] = struct{}{}
	}
	return m
}
