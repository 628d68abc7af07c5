// Package docshape checks a vendor payload herald encodes against the shape
// of the vendor's own documented example: every member the payload has
// must be in the documented shape, nested the same way and of the same
// JSON type; values may differ. It is for tests (issue 13): a golden file
// written by herald's encoder, checked by a simulator by the same author,
// cannot catch a field name both got wrong, a vendor's example can.
//
// A Shape is built from one or more quoted examples (Parse, lenient about
// the comments, ellipses and trailing commas vendors leave in them) and
// from fields a vendor's parameter table documents but no example shows
// (Add, or a "--- table" section of a docexample file, see Load). Check
// compares a JSON payload with it, CheckForm a form body, Missing reports
// required fields a payload lacks. Wire captures the requests a client
// sends, so a test can check the real headers and body.
package docshape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Kind is a set of JSON value types.
type Kind uint8

// The JSON value types.
const (
	Null Kind = 1 << iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = []struct {
	k    Kind
	name string
}{
	{Null, "null"}, {Bool, "boolean"}, {Number, "number"}, {String, "string"},
	{Array, "array"}, {Object, "object"},
}

func (k Kind) String() string {
	var names []string
	for _, kn := range kindNames {
		if k&kn.k != 0 {
			names = append(names, kn.name)
		}
	}
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, "|")
}

// ParseKind reads a kind as a docexample table writes it: type names
// joined by "|"; "integer" and "int" are number, "bool" is boolean.
func ParseKind(s string) (Kind, error) {
	var k Kind
	for _, name := range strings.Split(s, "|") {
		switch strings.TrimSpace(name) {
		case "null":
			k |= Null
		case "boolean", "bool":
			k |= Bool
		case "number", "integer", "int":
			k |= Number
		case "string":
			k |= String
		case "array":
			k |= Array
		case "object":
			k |= Object
		default:
			return 0, fmt.Errorf("docshape: unknown kind %q", name)
		}
	}
	return k, nil
}

// Shape is the documented shape of a JSON value.
type Shape struct {
	// Kinds are the JSON types the value may have.
	Kinds Kind
	// Fields are an object's documented members. A name ending in "*"
	// matches every member starting with what precedes it ("*" alone: any
	// member, as in a map of custom data); an exact name wins over a
	// pattern, a longer pattern over a shorter one.
	Fields map[string]*Shape
	// Elem is an array's element.
	Elem *Shape
	// Open marks a value the vendor documents as free-form: anything in it
	// is accepted.
	Open bool
	// A value whose Kinds are only Null is one an example shows as null: a
	// documented member whose type the example does not give, so any value
	// is accepted for it until a table adds a type.
}

// Parse returns the shape of a quoted example, after Clean.
func Parse(example string) (*Shape, error) {
	clean := Clean(example)
	dec := json.NewDecoder(strings.NewReader(clean))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("docshape: example is not JSON even leniently: %w\n%s", err, clean)
	}
	if dec.More() {
		return nil, fmt.Errorf("docshape: example has more than one JSON value:\n%s", clean)
	}
	return of(v), nil
}

// MustParse is Parse for examples a test quotes: it panics on error.
func MustParse(example string) *Shape {
	s, err := Parse(example)
	if err != nil {
		panic(err)
	}
	return s
}

// of returns the shape of a decoded JSON value.
func of(v any) *Shape {
	switch v := v.(type) {
	case nil:
		return &Shape{Kinds: Null}
	case bool:
		return &Shape{Kinds: Bool}
	case json.Number, float64:
		return &Shape{Kinds: Number}
	case string:
		return &Shape{Kinds: String}
	case []any:
		s := &Shape{Kinds: Array}
		for _, e := range v {
			s.Elem = merge(s.Elem, of(e))
		}
		return s
	case map[string]any:
		s := &Shape{Kinds: Object, Fields: make(map[string]*Shape, len(v))}
		for k, e := range v {
			s.Fields[k] = of(e)
		}
		return s
	}
	panic(fmt.Sprintf("docshape: unexpected decoded value %T", v))
}

// Merge adds o's kinds, members and elements to s: the shape of either.
func (s *Shape) Merge(o *Shape) *Shape { return merge(s, o) }

func merge(a, b *Shape) *Shape {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	a.Kinds |= b.Kinds
	a.Open = a.Open || b.Open
	a.Elem = merge(a.Elem, b.Elem)
	for k, f := range b.Fields {
		if a.Fields == nil {
			a.Fields = make(map[string]*Shape)
		}
		a.Fields[k] = merge(a.Fields[k], f)
	}
	return a
}

// Add documents a value at path with kind k, creating the objects and
// arrays on the way. Path segments are separated by "."; a segment ending
// in "[]" is an array whose element the rest of the path is in; "*" is a
// member pattern (see Shape.Fields). An empty path is s itself.
func (s *Shape) Add(path string, k Kind) {
	s.at(path).Kinds |= k
}

// SetOpen documents the value at path as free-form (see Shape.Open).
func (s *Shape) SetOpen(path string, k Kind) {
	t := s.at(path)
	t.Kinds |= k
	t.Open = true
}

// AsMap turns the object at path into a map: the documented members
// become one pattern "*" with the shape of any of them, so a payload may
// use keys of its own. It is for custom data the vendor shows with made-up
// keys ({"key1":"value1"}).
func (s *Shape) AsMap(path string) {
	t := s.at(path)
	var member *Shape
	for _, f := range t.Fields {
		member = merge(member, f)
	}
	t.Kinds |= Object
	t.Fields = map[string]*Shape{"*": member}
}

// at returns the shape at path, creating what is missing.
func (s *Shape) at(path string) *Shape {
	cur := s
	for _, seg := range splitPath(path) {
		arrays := 0
		for strings.HasSuffix(seg, "[]") {
			seg = strings.TrimSuffix(seg, "[]")
			arrays++
		}
		if seg != "" {
			cur.Kinds |= Object
			if cur.Fields == nil {
				cur.Fields = make(map[string]*Shape)
			}
			next := cur.Fields[seg]
			if next == nil {
				next = &Shape{}
				cur.Fields[seg] = next
			}
			cur = next
		}
		for range arrays {
			cur.Kinds |= Array
			if cur.Elem == nil {
				cur.Elem = &Shape{}
			}
			cur = cur.Elem
		}
	}
	return cur
}

func splitPath(path string) []string {
	if path == "" {
		return nil
	}
	return strings.Split(path, ".")
}

// field returns the shape documenting member name of s (see Shape.Fields),
// after fold.
func (s *Shape) field(name string, fold func(string) string) *Shape {
	if f, ok := s.Fields[name]; ok {
		return f
	}
	if fold != nil {
		for k, f := range s.Fields {
			if !strings.HasSuffix(k, "*") && fold(k) == fold(name) {
				return f
			}
		}
	}
	best, bestLen := (*Shape)(nil), -1
	for k, f := range s.Fields {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(name, p) && len(p) > bestLen {
			best, bestLen = f, len(p)
		}
	}
	return best
}

// String renders s as the sorted list of its documented paths and kinds,
// for failure messages.
func (s *Shape) String() string {
	var b strings.Builder
	s.dump(&b, "")
	return b.String()
}

func (s *Shape) dump(b *strings.Builder, path string) {
	open := ""
	if s.Open {
		open = " (free-form)"
	}
	fmt.Fprintf(b, "%s %s%s\n", cmpPath(path), s.Kinds, open)
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s.Fields[k].dump(b, join(path, k))
	}
	if s.Elem != nil {
		s.Elem.dump(b, path+"[]")
	}
}

func cmpPath(path string) string {
	if path == "" {
		return "(top)"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Clean makes a vendor's quoted example parseable JSON without changing
// its structure: it drops // comments and lines or tokens that are only an
// ellipsis ("…" or "...") outside strings, and commas before a closing
// brace or bracket. Strings keep their text; only the raw control
// characters JSON forbids in them (a vendor's stray tabs) become spaces.
func Clean(example string) string {
	var out bytes.Buffer
	src := example
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			if c < 0x20 {
				c = ' ' // a raw tab or newline a vendor left in a string
			}
			out.WriteByte(c)
			switch c {
			case '\\':
				if i+1 < len(src) {
					i++
					out.WriteByte(src[i])
				}
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out.WriteByte(c)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out.WriteByte('\n')
			}
		case strings.HasPrefix(src[i:], "…"):
			i += len("…") - 1
		case strings.HasPrefix(src[i:], "..."):
			i += 2
		default:
			out.WriteByte(c)
		}
	}
	return dropTrailingCommas(out.String())
}

// dropTrailingCommas removes a comma followed (after white space) by a
// closing brace or bracket, outside strings.
func dropTrailingCommas(s string) string {
	var out strings.Builder
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				out.WriteByte(s[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		}
		if c == ',' {
			j := i + 1
			for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
				j++
			}
			if j < len(s) && (s[j] == '}' || s[j] == ']') {
				continue
			}
		}
		out.WriteByte(c)
	}
	return out.String()
}
