package docshape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Option changes how Check and CheckForm compare member names.
type Option func(*checker)

// Fold compares member names after f, for a vendor that documents one
// field under two spellings (f maps both to the same string). Patterns are
// not folded.
func Fold(f func(string) string) Option { return func(c *checker) { c.fold = f } }

// SnakeCamel folds snake_case and lowerCamelCase spellings together:
// underscores dropped, lower case.
func SnakeCamel(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", ""))
}

type checker struct {
	fold     func(string) string
	problems []string
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// Check reports where payload leaves doc: a member doc does not document,
// or a value whose JSON type doc does not give it. No problems is nil.
func Check(payload []byte, doc *Shape, opts ...Option) []string {
	c := &checker{}
	for _, o := range opts {
		o(c)
	}
	v, err := decode(payload)
	if err != nil {
		return []string{err.Error()}
	}
	c.walk(v, doc, "")
	return c.problems
}

func (c *checker) walk(v any, s *Shape, path string) {
	if s.Open {
		if kindOf(v)&s.Kinds == 0 && s.Kinds != 0 {
			c.addf("%s: %s, documented %s", cmpPath(path), kindOf(v), s.Kinds)
		}
		return
	}
	if s.Kinds == Null {
		return // shown as null: documented, type not given
	}
	k := kindOf(v)
	if s.Kinds&k == 0 {
		c.addf("%s: %s, documented %s", cmpPath(path), k, s.Kinds)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for key := range v {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			f := s.field(key, c.fold)
			if f == nil {
				c.addf("%s: not in the documented shape", join(path, key))
				continue
			}
			c.walk(v[key], f, join(path, key))
		}
	case []any:
		if len(v) > 0 && s.Elem == nil {
			c.addf("%s[]: the documented array shows no element", cmpPath(path))
			return
		}
		for _, e := range v {
			c.walk(e, s.Elem, path+"[]")
		}
	}
}

// Missing reports the paths (Shape.Add syntax, no patterns) payload does
// not have; a "[]" segment requires the rest of the path in every element.
func Missing(payload []byte, paths ...string) []string {
	v, err := decode(payload)
	if err != nil {
		return []string{err.Error()}
	}
	var missing []string
	for _, p := range paths {
		if !has(v, splitPath(p)) {
			missing = append(missing, p+": missing")
		}
	}
	return missing
}

func has(v any, segs []string) bool {
	if len(segs) == 0 {
		return true
	}
	seg := segs[0]
	name, isArray := strings.CutSuffix(seg, "[]")
	if name != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[name]; !ok {
			return false
		}
	}
	if !isArray {
		return has(v, segs[1:])
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return false
	}
	for _, e := range arr {
		if !has(e, segs[1:]) {
			return false
		}
	}
	return true
}

// CheckForm reports where an application/x-www-form-urlencoded body
// leaves doc, a flat object whose members are form keys (patterns such as
// "extra.*" allowed): a key doc does not document, a key sent more than
// once, or a value that cannot be what doc says. A form value is text, so
// a documented string accepts any value; a documented number (alone)
// needs an integer or decimal literal, a documented boolean true or false.
func CheckForm(body string, doc *Shape, opts ...Option) []string {
	c := &checker{}
	for _, o := range opts {
		o(c)
	}
	form, err := url.ParseQuery(body)
	if err != nil {
		return []string{"form: " + err.Error()}
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := doc.field(k, c.fold)
		if f == nil {
			c.addf("%s: not a documented form key", k)
			continue
		}
		if n := len(form[k]); n > 1 {
			c.addf("%s: sent %d times", k, n)
		}
		for _, v := range form[k] {
			if !formValueFits(v, f.Kinds) {
				c.addf("%s: %q is not a %s", k, v, f.Kinds)
			}
		}
	}
	return c.problems
}

func formValueFits(v string, k Kind) bool {
	switch {
	case k&String != 0:
		return true
	case k&Number != 0 && isNumber(v):
		return true
	case k&Bool != 0 && (v == "true" || v == "false"):
		return true
	}
	return false
}

func isNumber(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return err == nil && strings.TrimSpace(v) == v && v != "" &&
		!strings.ContainsAny(v, "xXpP_") && !strings.EqualFold(v, "inf") && !strings.EqualFold(v, "nan") &&
		!strings.EqualFold(strings.TrimLeft(v, "+-"), "infinity")
}

func decode(payload []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("payload is not JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("payload has more than one JSON value")
	}
	return v, nil
}

func kindOf(v any) Kind {
	switch v.(type) {
	case nil:
		return Null
	case bool:
		return Bool
	case json.Number, float64:
		return Number
	case string:
		return String
	case []any:
		return Array
	case map[string]any:
		return Object
	}
	return 0
}
