package xiaomi

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/docshape"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// Xiaomi's own parameter documentation (testdata/docexample_xiaomi.txt)
// against the /v3/message/regid form herald builds (issue 13). Xiaomi shows
// no example body, only a table of parameters: the quoted rows and the
// transcribed ones together give the keys a form may use.

func xiaomiDoc(t *testing.T) (*docshape.File, string) {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_xiaomi.txt"))
	if err != nil {
		t.Fatal(err)
	}
	api, err := f.Example("api")
	if err != nil {
		t.Fatal(err)
	}
	return f, api
}

// quotedRows reads the "| type | name | description |" rows of the quoted
// table 1-1: String is a string, long and int are numbers.
func quotedRows(t *testing.T, api string) []docshape.Entry {
	t.Helper()
	var rows []docshape.Entry
	for _, line := range strings.Split(api, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		typ, name := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		var k docshape.Kind
		switch typ {
		case "String":
			k = docshape.String
		case "long", "int":
			k = docshape.Number
		case "类型": // the header row
			continue
		default:
			t.Fatalf("unknown parameter type %q in %q", typ, line)
		}
		rows = append(rows, docshape.Entry{Path: name, Kind: k})
	}
	if len(rows) == 0 {
		t.Fatal("no parameter rows in the quoted table")
	}
	return rows
}

func parameterRows(t *testing.T) []docshape.Entry {
	t.Helper()
	f, api := xiaomiDoc(t)
	extra, err := f.Table("parameters")
	if err != nil {
		t.Fatal(err)
	}
	return append(quotedRows(t, api), extra...)
}

// formRequired is what table 1-1 marks 必填 for this message: title and
// description for a notification message (通知栏消息必填); the targets.
func formRequired(t *testing.T, body string) {
	t.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	need := []string{"registration_id", "restricted_package_name", "pass_through"}
	if form.Get("pass_through") == "0" {
		need = append(need, "title", "description")
	}
	for _, k := range need {
		if strings.TrimSpace(form.Get(k)) == "" {
			t.Errorf("%s: missing", k)
		}
	}
}

func TestFormMatchesXiaomiParameters(t *testing.T) {
	doc := &docshape.Shape{}
	doc.AddKeys(parameterRows(t))
	enc := encoder{pkg: "com.example.chat", channel: "fallback-public"}
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			body := string(enc.appendForm(nil, n, []string{"regid-1", "regid/2+x="}))
			for _, p := range docshape.CheckForm(body, doc) {
				t.Errorf("%s\nbody: %s", p, body)
			}
			formRequired(t, body)
		})
	}
}

// The multi_messages message objects nest the same parameters, extras in
// "extra" (see the testdata header: no Xiaomi example of that body).
func TestMessageObjectMatchesXiaomiParameters(t *testing.T) {
	doc := &docshape.Shape{}
	doc.AddEntries(parameterRows(t)) // "extra.*" nests: extra → any key
	enc := encoder{pkg: "com.example.chat", channel: "fallback-public"}
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			body := enc.appendMessage(nil, n)
			for _, p := range docshape.Check(body, doc) {
				t.Errorf("%s\nbody: %s", p, body)
			}
		})
	}
}

// The real client's request, captured in front of the simulator.
func TestWireRequestMatchesXiaomiDoc(t *testing.T) {
	_, api := xiaomiDoc(t)
	// "注意:字符key必须小写,例如:Authorization: key=YOUR_APP_SECRET"
	_, sample, _ := strings.Cut(api, "Authorization: ")
	scheme, _, _ := strings.Cut(sample, "=")
	doc := &docshape.Shape{}
	doc.AddKeys(parameterRows(t))

	var wire docshape.Wire
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	base, ca := simtest.TestServer(t, wire.Wrap(http.StripPrefix("/xiaomi", sim)))
	cfg := sim.ClientConfig(base+"/xiaomi", ca.ClientTLS())
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for _, n := range []*vendors.Notification{msg("m-doc"), {MessageID: "m-pass", Passthrough: true, Data: map[string]string{"k": "v"}}} {
		res, err := c.Send(t.Context(), n, targets("doc-regid-1", "doc-regid-2"))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Verdict != vendors.Delivered {
				t.Fatalf("result %d: simulator refused the message: %+v", i, r)
			}
		}
		req, ok := wire.Last("/v3/message/regid")
		if !ok {
			t.Fatal("no /v3/message/regid request captured")
		}
		if req.Method != http.MethodPost {
			t.Errorf("method %s, want POST", req.Method)
		}
		if got, want := req.Header.Get("Authorization"), scheme+"="+cfg.AppSecret; got != want {
			t.Errorf("Authorization = %q, want %q", got, want)
		}
		if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Errorf("Content-Type = %q, want a form", ct)
		}
		for _, p := range docshape.CheckForm(string(req.Body), doc) {
			t.Errorf("%s\nbody: %s", p, req.Body)
		}
		formRequired(t, string(req.Body))
	}
}
