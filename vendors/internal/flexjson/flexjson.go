// Package flexjson decodes the fields of vendor answers whose JSON type
// the vendors are loose about (a code sent as 7 or as "7", an id as a
// string or a number, a list as an array or as one comma-separated
// string), by one set of rules for every vendor client:
//
//   - Int: a JSON number or a string holding one, read as strconv.Atoi
//     reads it (an optional sign, decimal digits, within int's range).
//   - String: a JSON string, or a JSON number as the text it is written
//     in (7 is "7", 1e3 is "1e3").
//   - List: an array of strings, or one string holding a comma-separated
//     list; either way each item is trimmed of white space and empty items
//     are dropped.
//   - null, like a missing key, leaves a field at its zero value (an Int
//     unset, a String empty, a List empty); it is never an error.
//   - Anything else is refused with an error that fails the whole decode:
//     for an Int a fraction or an exponent (7.5, 7e2), a string that is not
//     an integer ("", " 7", "seven") and any non-number; for a String
//     true, false, an object or an array; for a List a number, true, false,
//     an object, or an array holding anything but strings (null items
//     aside, which are dropped).
//
// The Lax types apply the same rules but never fail: a refused value
// leaves the field at its zero value and the decode goes on, for a vendor
// whose answers must stay readable whatever the shape of one field.
//
// The types decode with encoding/json; IntOf reads a fastjson.Value (for
// answers decoded with fastjson) by Int's rules.
package flexjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Int is an integer field (see the package doc for what it accepts). Set
// reports whether the answer held one: false for null or a missing key.
type Int struct {
	N   int
	Set bool
}

// String is a string field (see the package doc); null is "".
type String string

// List is a list-of-strings field (see the package doc); null is empty.
type List []string

// LaxInt is an Int that is left unset instead of failing the decode.
type LaxInt Int

// LaxString is a String that is left empty instead of failing the decode.
type LaxString String

// LaxList is a List that is left empty instead of failing the decode.
type LaxList List

// errClip bounds how much of a refused value an error quotes.
const errClip = 32

func refused(b []byte, want string) error {
	if len(b) > errClip {
		b = b[:errClip]
	}
	return fmt.Errorf("flexjson: %q is not %s", b, want)
}

// kind is what one JSON value is, as far as these types care.
type kind int

const (
	null kind = iota
	str
	number
	other // true, false, an object or an array
)

// scalar is what the JSON value b is, and for a string its content (each
// byte that is not UTF-8 read as U+FFFD, as encoding/json reads a string)
// or for a number its literal.
func scalar(b []byte) (kind, []byte, error) {
	switch {
	case string(b) == "null":
		return null, nil, nil
	case len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0:
		return str, validUTF8(b[1 : len(b)-1]), nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return other, nil, errors.New("flexjson: bad JSON string")
		}
		return str, []byte(s), nil
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		// encoding/json has checked the rest of the literal.
		return number, b, nil
	}
	return other, nil, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Int) UnmarshalJSON(b []byte) error {
	*f = Int{}
	k, text, err := scalar(b)
	switch {
	case err != nil || k == null:
		return err
	case k == str || k == number:
		return f.set(text)
	}
	return refused(b, "an integer")
}

func (f *Int) set(text []byte) error {
	n, ok := atoi(text)
	if !ok {
		return refused(text, "an integer")
	}
	*f = Int{N: n, Set: true}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *String) UnmarshalJSON(b []byte) error {
	*f = ""
	k, text, err := scalar(b)
	switch {
	case err != nil || k == null:
		return err
	case k == str || k == number:
		*f = String(text)
		return nil
	}
	return refused(b, "a string or a number")
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *List) UnmarshalJSON(b []byte) error {
	*f = nil
	k, text, err := scalar(b)
	switch {
	case err != nil || k == null:
		return err
	case k == str:
		for item := range strings.SplitSeq(string(text), ",") {
			f.add(item)
		}
		return nil
	case len(b) > 0 && b[0] == '[':
		var items []*string // a null item is a nil pointer
		if err := json.Unmarshal(b, &items); err != nil {
			return refused(b, "a list of strings")
		}
		for _, item := range items {
			if item != nil {
				f.add(*item)
			}
		}
		return nil
	}
	return refused(b, "a list of strings")
}

func (f *List) add(item string) {
	if item = strings.TrimSpace(item); item != "" {
		*f = append(*f, item)
	}
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *LaxInt) UnmarshalJSON(b []byte) error { return lax((*Int)(f), b) }

// UnmarshalJSON implements json.Unmarshaler.
func (f *LaxString) UnmarshalJSON(b []byte) error { return lax((*String)(f), b) }

// UnmarshalJSON implements json.Unmarshaler.
func (f *LaxList) UnmarshalJSON(b []byte) error { return lax((*List)(f), b) }

// lax decodes b into p, leaving it at its zero value when b is refused.
func lax[T any, P interface {
	*T
	json.Unmarshaler
}](p P, b []byte) error {
	if p.UnmarshalJSON(b) != nil {
		var zero T
		*p = zero
	}
	return nil
}

// IntOf is the Int v holds, by Int's rules; a nil v is a missing key.
func IntOf(v *fastjson.Value) (Int, error) {
	var f Int
	switch typeOf(v) {
	case fastjson.TypeNull:
		return f, nil
	case fastjson.TypeString:
		err := f.set(v.GetStringBytes())
		return f, err
	case fastjson.TypeNumber:
		// fastjson's Int reads a JSON number as atoi does (the fuzz test
		// holds them to it), without copying the literal out.
		n, err := v.Int()
		if err != nil {
			return f, refused(v.MarshalTo(nil), "an integer")
		}
		return Int{N: n, Set: true}, nil
	}
	return f, refused(v.MarshalTo(nil), "an integer")
}

// typeOf is v's type; a missing key (nil) is null.
func typeOf(v *fastjson.Value) fastjson.Type {
	if v == nil {
		return fastjson.TypeNull
	}
	return v.Type()
}

// validUTF8 is b with each byte that is not UTF-8 replaced by U+FFFD; b
// itself when it is all UTF-8.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r) // RuneError for a byte that is not UTF-8
		b = b[size:]
	}
	return out
}

// atoi reads s as strconv.Atoi does (an optional sign, then decimal
// digits, within int's range), without allocating.
func atoi(s []byte) (int, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	const cutoff = uint64(math.MaxInt) + 1 // the magnitude of math.MinInt
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (cutoff-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > cutoff {
			return 0, false
		}
		return int(-n), true
	}
	if n > cutoff-1 {
		return 0, false
	}
	return int(n), true
}
