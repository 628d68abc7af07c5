package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// checkFraming refuses a request that names both Content-Length and
// Transfer-Encoding (RFC 9112 section 6.3): a proxy in front may have framed
// its body by one and herald by the other, which is how a second request is
// smuggled inside the first. The parsed header cannot show it: fasthttp
// reads such a body as chunked and drops Content-Length, or drops
// "Transfer-Encoding: identity" and keeps Content-Length. So the header
// block as received is scanned; fasthttp has already refused malformed
// names and every other transfer coding.
func checkFraming(h *fasthttp.RequestHeader) *apiError {
	var length, encoding bool
	for line := range bytes.Lines(h.RawHeaders()) {
		if line[0] == ' ' || line[0] == '\t' {
			continue // the continuation of a folded value
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		length = length || bytes.EqualFold(name, []byte(fasthttp.HeaderContentLength))
		encoding = encoding || bytes.EqualFold(name, []byte(fasthttp.HeaderTransferEncoding))
	}
	if length && encoding {
		return invalid("", "Content-Length and Transfer-Encoding together: a request may carry only one of them")
	}
	return nil
}

// decodeJSON decodes body into dst (a pointer to a request struct) strictly:
// one JSON object, no unknown fields, no trailing data. Errors name the
// offending field by its JSON path ("updates[3].ttl_s").
func decodeJSON(body []byte, dst any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("", "request body is required (a JSON object)")
	}
	if e := checkText(body); e != nil {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return invalid("", "malformed JSON: unexpected data after the top-level object")
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("", "malformed JSON: "+strings.TrimPrefix(err.Error(), "json: "))
	}
	// Find the field by walking a generic decode against dst's type.
	var generic any
	gd := json.NewDecoder(bytes.NewReader(body))
	gd.UseNumber()
	if gerr := gd.Decode(&generic); gerr != nil {
		return invalid("", "malformed JSON: "+strings.TrimPrefix(gerr.Error(), "json: "))
	}
	if e := diagnose(generic, reflect.TypeOf(dst).Elem(), ""); e != nil {
		return e
	}
	return invalid("", "malformed JSON: "+strings.TrimPrefix(err.Error(), "json: "))
}

// diagnose returns the first place where v does not fit t, or nil.
func diagnose(v any, t reflect.Type, path string) *apiError {
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return nil
		}
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Interface {
		return nil
	}
	if v == nil {
		return nil // null leaves the zero value, as encoding/json does
	}
	where := path
	if where == "" {
		where = "body"
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return invalid(path, where+" must be a JSON object")
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := fieldByJSONName(t, k)
			if !ok {
				return invalid(join(path, k), fmt.Sprintf("unknown field %q", join(path, k)))
			}
			if e := diagnose(obj[k], f.Type, join(path, k)); e != nil {
				return e
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return invalid(path, where+" must be a JSON array")
		}
		for i, item := range arr {
			if e := diagnose(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); e != nil {
				return e
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return invalid(path, where+" must be a JSON object")
		}
		for k, item := range obj {
			if e := diagnose(item, t.Elem(), join(path, k)); e != nil {
				return e
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return invalid(path, where+" must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return invalid(path, where+" must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return invalid(path, where+" must be an integer")
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || i < minInt(t.Bits()) || i > maxInt(t.Bits()) {
			return invalid(path, where+" must be an integer in range")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return invalid(path, where+" must be a non-negative integer")
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return invalid(path, where+" must be a non-negative integer in range")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return invalid(path, where+" must be a number")
		}
	}
	return nil
}

func minInt(bits int) int64 { return -1 << (bits - 1) }
func maxInt(bits int) int64 {
	if bits == 64 {
		return math.MaxInt64
	}
	return 1<<(bits-1) - 1
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldByJSONName finds the struct field encoding/json would fill for key
// (exact tag match first, then case-insensitive, as encoding/json does).
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if ef, ok := fieldByJSONName(f.Type, key); ok {
				return ef, true
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

// checkText refuses, in one pass and without allocating for a well-formed
// body: bytes that are not valid UTF-8, strings holding an escaped lone
// surrogate (\ud800 with no low half), and an object naming a key twice.
// encoding/json would replace the first two with U+FFFD, so two distinct
// ids could arrive as one, and keep the last of duplicate keys silently.
// Errors name the place by its JSON path. Malformed JSON is left to the
// decoder, which reports it.
func checkText(body []byte) *apiError {
	if !utf8.Valid(body) {
		return invalid("", "request body must be valid UTF-8")
	}
	type frame struct {
		obj     bool
		wantKey bool
		index   int      // an array's current element
		keys    [][]byte // an object's keys so far (unescaped)
		set     map[string]struct{}
	}
	var stack []frame
	path := func(last []byte) string {
		var b strings.Builder
		for n, f := range stack {
			switch {
			case f.obj && n == len(stack)-1:
				name := last
				if name == nil && !f.wantKey && len(f.keys) > 0 {
					name = f.keys[len(f.keys)-1] // in the current key's value
				}
				if len(name) > 0 && b.Len() > 0 {
					b.WriteByte('.')
				}
				b.Write(name)
			case f.obj:
				if len(f.keys) == 0 {
					continue // malformed ({[…): no key leads here
				}
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.Write(f.keys[len(f.keys)-1])
			default:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return nil // the decoder refuses it (its own limit is the same)
			}
			stack = append(stack, frame{obj: body[i] == '{', wantKey: body[i] == '{'})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					stack[n-1].wantKey = true
				} else {
					stack[n-1].index++
				}
			}
		case '"':
			start, escaped := i+1, false
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] != '\\' || i+1 >= len(body) {
					continue
				}
				escaped = true
				i++
				if body[i] != 'u' {
					continue
				}
				r, ok := hex4(body, i+1)
				if !ok {
					continue // the decoder reports the bad escape
				}
				i += 4
				lone := r >= 0xDC00 && r <= 0xDFFF
				if r >= 0xD800 && r <= 0xDBFF {
					lo, ok := rune(0), false
					if i+2 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
						lo, ok = hex4(body, i+3)
					}
					lone = !ok || lo < 0xDC00 || lo > 0xDFFF
					if !lone {
						i += 6 // the low half
					}
				}
				if lone {
					return invalid(path(nil), "request body holds a lone surrogate escape (\\u"+string(body[i-3:i+1])+"): strings must be valid Unicode")
				}
			}
			n := len(stack)
			if n == 0 || !stack[n-1].obj || !stack[n-1].wantKey || i >= len(body) {
				continue
			}
			f := &stack[n-1]
			key := body[start:i]
			if escaped {
				var k string
				if json.Unmarshal(body[start-1:i+1], &k) != nil {
					continue // the decoder reports it
				}
				key = []byte(k)
			}
			dup := false
			if f.set != nil {
				_, dup = f.set[string(key)]
			} else {
				for _, k := range f.keys {
					if bytes.Equal(k, key) {
						dup = true
						break
					}
				}
			}
			if dup {
				return invalid(path(key), fmt.Sprintf("duplicate key %q in one JSON object", key))
			}
			f.keys = append(f.keys, key)
			if f.set != nil || len(f.keys) > 32 { // many keys: look them up, not through
				if f.set == nil {
					f.set = make(map[string]struct{}, 64)
					for _, k := range f.keys {
						f.set[string(k)] = struct{}{}
					}
				}
				f.set[string(key)] = struct{}{}
			}
			f.wantKey = false
		}
	}
	return nil
}

// maxJSONDepth is encoding/json's nesting limit: checkText stops there
// instead of growing its stack for a body of a million '['.
const maxJSONDepth = 10000

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
