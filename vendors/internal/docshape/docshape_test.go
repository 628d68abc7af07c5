package docshape

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCleanKeepsStructureAndStrings(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"line comment":           {"{\n \"a\": 1, // one\n \"b\": 2\n}", "{\n \"a\": 1, \n \"b\": 2\n}"},
		"comment in string kept": {`{"u":"http://x//y"}`, `{"u":"http://x//y"}`},
		"ellipsis lines":         {"{\n\"m\": {\n…\n\"t\": 1\n}\n}", "{\n\"m\": {\n\n\"t\": 1\n}\n}"},
		"dots in string kept":    {`{"t":"bk3R..."}`, `{"t":"bk3R..."}`},
		"trailing comma":         {`{"a": [1, 2, ], "b": {"c": 1,}, }`, `{"a": [1, 2 ], "b": {"c": 1} }`},
		"raw tab in string":      {"{\"a\":\"x\ty\"}", `{"a":"x y"}`},
		"escaped quote":          {`{"a":"x\"//y", // c` + "\n}", `{"a":"x\"//y" ` + "\n}"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Clean(c.in); got != c.want {
				t.Errorf("Clean(%q)\n= %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestParseMergesArrayElements(t *testing.T) {
	s := MustParse(`{"list": [{"a": 1}, {"b": "x"}], "n": null}`)
	want := "(top) object\nlist array\nlist[] object\nlist[].a number\nlist[].b string\nn null\n"
	if got := s.String(); got != want {
		t.Errorf("shape:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse(`{"a": 1} {"b": 2}`); err == nil {
		t.Error("two values parsed")
	}
	if _, err := Parse(`{"a": }`); err == nil {
		t.Error("broken JSON parsed")
	}
}

func TestCheck(t *testing.T) {
	doc := MustParse(`{"message": {"token": "t", "data": {"k": "v"}, "android": {"ttl": "3s", "tags": ["a"]}}}`)
	doc.AsMap("message.data")
	doc.Add("message.android.notification.notification_count", Number)
	doc.SetOpen("message.webpush.notification", Object)
	cases := map[string]struct {
		payload string
		want    []string
	}{
		"matches":        {`{"message":{"token":"x","data":{"any":"thing","other":"y"},"android":{"ttl":"1s","notification":{"notification_count":3}}}}`, nil},
		"typo":           {`{"message":{"tokn":"x"}}`, []string{"message.tokn: not in the documented shape"}},
		"wrong type":     {`{"message":{"android":{"ttl":3600}}}`, []string{"message.android.ttl: number, documented string"}},
		"wrong nesting":  {`{"message":{"ttl":"1s"}}`, []string{"message.ttl: not in the documented shape"}},
		"map value type": {`{"message":{"data":{"n":1}}}`, []string{"message.data.n: number, documented string"}},
		"array element":  {`{"message":{"android":{"tags":["a",1]}}}`, []string{"message.android.tags[]: number, documented string"}},
		"free-form":      {`{"message":{"webpush":{"notification":{"whatever":[1,{"x":true}]}}}}`, nil},
		"free-form kind": {`{"message":{"webpush":{"notification":"text"}}}`, []string{"message.webpush.notification: string, documented object"}},
		"not json":       {`{"message":`, []string{"payload is not JSON: unexpected EOF"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Check([]byte(c.payload), doc); !slices.Equal(got, c.want) {
				t.Errorf("Check = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPatternsAndFold(t *testing.T) {
	doc := &Shape{}
	doc.Add("aps", Object)
	doc.Add("aps.alert", String)
	doc.Add("*", String)
	doc.Add("x_*", Number)
	doc.Add("x_exact", Bool)
	if got := Check([]byte(`{"aps":{"alert":"a"},"custom":"c","x_n":1,"x_exact":true}`), doc); got != nil {
		t.Errorf("patterns: %q", got)
	}
	// A misspelled aps falls to the custom-key pattern, and is caught by its type.
	if got := Check([]byte(`{"apss":{"alert":"a"}}`), doc); !slices.Equal(got, []string{"apss: object, documented string"}) {
		t.Errorf("misspelled aps: %q", got)
	}
	nulls := MustParse(`{"appMessageId": null, "n": {"x": null}}`)
	if got := Check([]byte(`{"appMessageId":"id","n":{"x":{"deep":1}}}`), nulls); got != nil {
		t.Errorf("null placeholders: %q", got)
	}
	nulls.Add("appMessageId", String)
	if got := Check([]byte(`{"appMessageId":1}`), nulls); !slices.Equal(got, []string{"appMessageId: number, documented null|string"}) {
		t.Errorf("null refined by a table: %q", got)
	}
	camel := MustParse(`{"clickActionType": 4, "offLineTtl": 1}`)
	payload := []byte(`{"click_action_type":0,"off_line_ttl":3600}`)
	if got := Check(payload, camel); len(got) != 2 {
		t.Errorf("without fold: %q", got)
	}
	if got := Check(payload, camel, Fold(SnakeCamel)); got != nil {
		t.Errorf("with fold: %q", got)
	}
}

func TestMissing(t *testing.T) {
	p := []byte(`{"message":{"token":["a"]},"list":[{"a":1},{"b":2}]}`)
	got := Missing(p, "message.token", "message.topic", "list[].a", "message.token[]")
	want := []string{"message.topic: missing", "list[].a: missing"}
	if !slices.Equal(got, want) {
		t.Errorf("Missing = %q, want %q", got, want)
	}
}

func TestCheckForm(t *testing.T) {
	doc := &Shape{}
	doc.AddKeys([]Entry{{"title", String}, {"pass_through", Number}, {"extra.*", String}, {"flag", Bool}})
	got := CheckForm("title=123&pass_through=1&extra.channel_id=c&flag=true", doc)
	if got != nil {
		t.Errorf("valid form: %q", got)
	}
	got = CheckForm("titel=x&pass_through=one&pass_through=1&flag=yes", doc)
	want := []string{
		"flag: \"yes\" is not a boolean",
		"pass_through: sent 2 times",
		"pass_through: \"one\" is not a number",
		"titel: not a documented form key",
	}
	if !slices.Equal(got, want) {
		t.Errorf("CheckForm = %q, want %q", got, want)
	}
	for _, v := range []string{"0x10", "Inf", "NaN", " 1", "", "1_000"} {
		if formValueFits(v, Number) {
			t.Errorf("%q accepted as a number", v)
		}
	}
	for _, v := range []string{"-1", "0", "3600000", "1.5"} {
		if !formValueFits(v, Number) {
			t.Errorf("%q refused as a number", v)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	text := "# Source: https://example.com/doc\n# quoted\n\n--- example body\n\n{\"a\": 1}\n\n--- table extra\n# transcribed\nmessage.b string\nmessage.c integer|null note\n"
	path := filepath.Join(dir, "docexample_x.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Header, []string{"Source: https://example.com/doc", "quoted"}) {
		t.Errorf("header %q", f.Header)
	}
	ex, err := f.Example("body")
	if err != nil || ex != `{"a": 1}` {
		t.Errorf("example %q, %v", ex, err)
	}
	rows, err := f.Table("extra")
	if err != nil || len(rows) != 2 || rows[1] != (Entry{"message.c", Number | Null}) {
		t.Errorf("table %v, %v", rows, err)
	}
	if _, err := f.Example("nope"); err == nil {
		t.Error("missing example found")
	}
	for name, bad := range map[string]string{
		"no header":   "--- example a\n{}\n",
		"bare header": "Source: x\n--- example a\n{}\n",
		"bad section": "# s\n--- quote a\n",
	} {
		if _, err := parseFile(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestWireRecordsAndPassesBody(t *testing.T) {
	var w Wire
	srv := httptest.NewServer(w.Wrap(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = rw.Write(b)
	})))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/x:send", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	echo, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(echo) != `{"a":1}` {
		t.Errorf("handler saw %q", echo)
	}
	r, ok := w.Last(":send")
	if !ok || r.Method != http.MethodPost || string(r.Body) != `{"a":1}` || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("recorded %+v, %v", r, ok)
	}
	if _, ok := w.Last("/other"); ok {
		t.Error("found a request that was not sent")
	}
}
