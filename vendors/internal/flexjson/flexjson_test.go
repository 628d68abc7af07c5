package flexjson

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// fields is an answer with one field of each type, as a vendor's answer
// struct holds them.
type fields struct {
	I  Int       `json:"i"`
	S  String    `json:"s"`
	L  List      `json:"l"`
	LI LaxInt    `json:"li"`
	LS LaxString `json:"ls"`
	LL LaxList   `json:"ll"`
}

func TestInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Int
		err  bool
	}{
		{`7`, Int{7, true}, false},
		{`-7`, Int{-7, true}, false},
		{`0`, Int{0, true}, false},
		{`-0`, Int{0, true}, false},
		{`"7"`, Int{7, true}, false},
		{`"-7"`, Int{-7, true}, false},
		{`"+7"`, Int{7, true}, false},
		{`"007"`, Int{7, true}, false},
		{`"\u0037"`, Int{7, true}, false},
		{`null`, Int{}, false},
		{`9223372036854775807`, Int{math.MaxInt64, true}, false},
		{`-9223372036854775808`, Int{math.MinInt64, true}, false},
		{`"-9223372036854775808"`, Int{math.MinInt64, true}, false},
		{`9223372036854775808`, Int{}, true},
		{`-9223372036854775809`, Int{}, true},
		{`"99999999999999999999"`, Int{}, true},
		{`7.5`, Int{}, true},
		{`7.0`, Int{}, true},
		{`7e2`, Int{}, true},
		{`""`, Int{}, true},
		{`" 7"`, Int{}, true},
		{`"7 "`, Int{}, true},
		{`"seven"`, Int{}, true},
		{`"null"`, Int{}, true},
		{`"-"`, Int{}, true},
		{`true`, Int{}, true},
		{`{}`, Int{}, true},
		{`[7]`, Int{}, true},
	} {
		decodes[Int, LaxInt](t, tc.in, tc.want, tc.err)
		fj, ferr := IntOf(fastjson.MustParse(tc.in))
		if (ferr != nil) != tc.err || fj != tc.want {
			t.Errorf("IntOf %s = %+v, %v; want %+v, error %v", tc.in, fj, ferr, tc.want, tc.err)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want String
		err  bool
	}{
		{`"abc"`, "abc", false},
		{`""`, "", false},
		{`"a\"b\u00e9"`, `a"bé`, false},
		{`12345`, "12345", false},
		{`-1.5e3`, "-1.5e3", false},
		{`null`, "", false},
		{`true`, "", true},
		{`false`, "", true},
		{`{"a":1}`, "", true},
		{`["a"]`, "", true},
	} {
		decodes[String, LaxString](t, tc.in, tc.want, tc.err)
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want List
		err  bool
	}{
		{`"a,b"`, List{"a", "b"}, false},
		{`" a , ,b ,"`, List{"a", "b"}, false},
		{`"a"`, List{"a"}, false},
		{`""`, nil, false},
		{`","`, nil, false},
		{`["a","b"]`, List{"a", "b"}, false},
		{`[" a ","",null,"b"]`, List{"a", "b"}, false},
		{`["a,b"]`, List{"a,b"}, false}, // an array's items are not split
		{`[]`, nil, false},
		{`null`, nil, false},
		{`7`, nil, true},
		{`true`, nil, true},
		{`{"a":"b"}`, nil, true},
		{`["a",7]`, nil, true},
		{`[["a"]]`, nil, true},
	} {
		decodes[List, LaxList](t, tc.in, tc.want, tc.err)
	}
}

// decodes checks that in decodes into a T as want, failing when fails
// says, and into L, T's Lax form, as want without ever failing.
func decodes[T, L any](t *testing.T, in string, want T, fails bool) {
	t.Helper()
	var got T
	err := json.Unmarshal([]byte(in), &got)
	if (err != nil) != fails || !reflect.DeepEqual(got, want) {
		t.Errorf("%T %s = %#v, %v; want %#v, error %v", got, in, got, err, want, fails)
	}
	var lax L
	err = json.Unmarshal([]byte(in), &lax)
	if asT := reflect.ValueOf(lax).Convert(reflect.TypeFor[T]()).Interface(); err != nil || !reflect.DeepEqual(asT, want) {
		t.Errorf("%T %s = %#v, %v; want %#v and no error", lax, in, lax, err, want)
	}
}

// TestInStruct: through encoding/json a null and a missing key leave every
// field at its zero value, a refused value fails the decode, and a Lax
// field's refused value does not.
func TestInStruct(t *testing.T) {
	var f fields
	if err := json.Unmarshal([]byte(`{"i":null,"s":null,"l":null,"li":null,"ls":null,"ll":null}`), &f); err != nil || !reflect.DeepEqual(f, fields{}) {
		t.Errorf("nulls: %+v, %v", f, err)
	}
	f = fields{I: Int{1, true}, S: "x", L: List{"x"}}
	if err := json.Unmarshal([]byte(`{}`), &f); err != nil || f.I != (Int{1, true}) {
		t.Errorf("missing keys: %+v, %v (encoding/json leaves a missing field as it was)", f, err)
	}
	f = fields{}
	if err := json.Unmarshal([]byte(`{"li":{"x":1},"ls":[1],"ll":5,"i":"42","s":7}`), &f); err != nil {
		t.Fatalf("lax fields failed the decode: %v", err)
	}
	if want := (fields{I: Int{42, true}, S: "7"}); !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v, want %+v", f, want)
	}
	for _, in := range []string{`{"i":1.5}`, `{"s":true}`, `{"l":{}}`} {
		if err := json.Unmarshal([]byte(in), &f); err == nil {
			t.Errorf("%s decoded", in)
		}
	}
}

func TestFastjsonMissing(t *testing.T) {
	if n, err := IntOf(nil); err != nil || n.Set {
		t.Errorf("IntOf(nil) = %+v, %v", n, err)
	}
}

func TestAtoi(t *testing.T) {
	for _, s := range []string{"0", "-0", "+0", "1", "-1", "+1", "", "+", "-", "--1", "1-", "a",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551616", "000000000000000000000000009", " 1", "1 "} {
		want, err := strconv.Atoi(s)
		got, ok := atoi([]byte(s))
		if ok != (err == nil) || got != want && ok {
			t.Errorf("atoi(%q) = %d, %v; strconv.Atoi: %d, %v", s, got, ok, want, err)
		}
	}
}

// FuzzDecode: no value panics a decoder; the encoding/json and fastjson
// readers of an Int agree on every valid JSON value; an Int is what strconv.Atoi
// makes of the number or the string; a List's items are trimmed and never
// empty; a Lax type never fails.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`7`, `"7"`, `-7`, `"+7"`, `7.5`, `1e3`, `null`, `true`, `""`, `"a,b"`,
		`["a",null," b "]`, `{"a":1}`, `"\u0037"`, `9223372036854775808`, `"x`, ``, `[1,"a"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l List
		_ = l.UnmarshalJSON(b)
		for _, item := range l {
			if item == "" || item != strings.TrimSpace(item) {
				t.Fatalf("List %q has item %q", b, item)
			}
		}
		var (
			li LaxInt
			ls LaxString
			ll LaxList
		)
		if li.UnmarshalJSON(b) != nil || ls.UnmarshalJSON(b) != nil || ll.UnmarshalJSON(b) != nil {
			t.Fatalf("a Lax type failed on %q", b)
		}
		// encoding/json hands a decoder one valid value, white space cut.
		b = bytes.TrimSpace(b)
		v, err := fastjson.ParseBytes(b)
		if !json.Valid(b) || err != nil {
			return
		}
		var i Int
		ierr := i.UnmarshalJSON(b)
		if fi, err := IntOf(v); (err == nil) != (ierr == nil) || fi != i {
			t.Fatalf("%q: IntOf %+v, %v; Int %+v, %v", b, fi, err, i, ierr)
		}
		var x any
		if err := json.Unmarshal(b, &x); err != nil {
			return
		}
		var text string
		switch x := x.(type) {
		case string:
			text = x
		case float64:
			text = string(b)
		default:
			if i.Set || ierr == nil && x != nil {
				t.Fatalf("%q: Int %+v, %v from a %T", b, i, ierr, x)
			}
			return
		}
		n, aerr := strconv.Atoi(text)
		if (aerr == nil) != i.Set || aerr == nil && n != i.N {
			t.Fatalf("%q: Int %+v; strconv.Atoi(%q) = %d, %v", b, i, text, n, aerr)
		}
	})
}
