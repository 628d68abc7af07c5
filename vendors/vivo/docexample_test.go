package vivo

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/docshape"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// vivo's own examples and parameter rows (testdata/docexample_vivo.txt)
// against the /message/send and /message/saveListPayload bodies herald
// sends (issue 13).

type vivoDoc struct {
	file       *docshape.File
	send, list *docshape.Shape // confirmed: examples and quoted rows
	laxSend    *docshape.Shape // plus the unconfirmed rows
	laxList    *docshape.Shape
	required   []string // rows marked Y
}

// quotedRows reads "name | type | Y/N | description" rows.
func quotedRows(t *testing.T, text string) (rows []docshape.Entry, required []string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 4 {
			continue
		}
		k, err := docshape.ParseKind(strings.TrimSpace(cells[1]))
		if err != nil {
			t.Fatalf("row %q: %v", line, err)
		}
		name := strings.TrimSpace(cells[0])
		rows = append(rows, docshape.Entry{Path: name, Kind: k})
		if strings.TrimSpace(cells[2]) == "Y" {
			required = append(required, name)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no parameter rows in %q", text)
	}
	return rows, required
}

func loadVivoDoc(t *testing.T) vivoDoc {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_vivo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) string {
		s, err := f.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	table := func(name string) []docshape.Entry {
		rows, err := f.Table(name)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	d := vivoDoc{file: f}
	sendRows, _ := quotedRows(t, get("send-rows"))
	allRows, required := quotedRows(t, get("all-rows"))
	d.required = required
	build := func(examples []string, rows []docshape.Entry, unconfirmed bool) *docshape.Shape {
		s := &docshape.Shape{}
		for _, ex := range examples {
			s.Merge(docshape.MustParse(get(ex)))
		}
		s.AsMap("clientCustomMap")
		s.AddEntries(rows)
		s.AddEntries(table("clientcustommap"))
		if unconfirmed {
			s.AddEntries(table("unconfirmed"))
		}
		return s
	}
	d.send = build([]string{"send-body", "all-body"}, append(slices.Clone(sendRows), allRows...), false)
	d.laxSend = build([]string{"send-body", "all-body"}, append(slices.Clone(sendRows), allRows...), true)
	d.list = build([]string{"all-body"}, allRows, false)
	d.laxList = build([]string{"all-body"}, allRows, true)
	return d
}

// check fails on what even the unconfirmed rows leave out and logs what
// only they document.
func check(t *testing.T, body []byte, strictDoc, laxDoc *docshape.Shape, required ...string) {
	t.Helper()
	lax := docshape.Check(body, laxDoc)
	for _, p := range lax {
		t.Errorf("%s\nbody: %s", p, body)
	}
	for _, p := range docshape.Check(body, strictDoc) {
		if !slices.Contains(lax, p) {
			t.Logf("documented only by unconfirmed notes: %s", p)
		}
	}
	for _, p := range docshape.Missing(body, required...) {
		t.Error(p)
	}
}

func TestGoldenBodiesMatchVivoExamples(t *testing.T) {
	d := loadVivoDoc(t)
	for _, name := range []string{"send_chat", "send_call", "send_overflow", "savelist_news"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(name, "send_") {
				// regId and alias: "两者需一个不为空"; herald sends regIds.
				check(t, body, d.send, d.laxSend, append(slices.Clone(d.required), "regId")...)
			} else {
				check(t, body, d.list, d.laxList, d.required...)
			}
		})
	}
}

// The real client's requests, captured in front of the simulator: the
// curl example's headers and the documented bodies.
func TestWireRequestsMatchVivoDoc(t *testing.T) {
	d := loadVivoDoc(t)
	curl, err := d.file.Example("send-curl")
	if err != nil {
		t.Fatal(err)
	}
	// curl -X POST -H 'authToken:${your_auth_token}' -H 'Content-Type:application/json' ...
	var tokenHeader, contentType string
	for _, part := range strings.Split(curl, "-H '")[1:] {
		name, value, _ := strings.Cut(part[:strings.Index(part, "'")], ":")
		if name == "Content-Type" {
			contentType = value
		} else {
			tokenHeader = name
		}
	}
	if tokenHeader == "" || contentType == "" {
		t.Fatalf("no headers in the curl example %q", curl)
	}

	var wire docshape.Wire
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	base, ca := simtest.TestServer(t, wire.Wrap(http.StripPrefix("/vivo", sim)))
	c, err := New(sim.ClientConfig(base+"/vivo", ca.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cases := []struct {
		tokens []string
		path   string
		doc    *docshape.Shape
		lax    *docshape.Shape
		need   []string
	}{
		{[]string{"15638535410301000000011"}, "/message/send", d.send, d.laxSend, append(slices.Clone(d.required), "regId")},
		{[]string{"15638535410301000000012", "15638535410301000000013"}, "/message/saveListPayload", d.list, d.laxList, d.required},
	}
	for _, tc := range cases {
		res, err := c.Send(t.Context(), note("m-doc"), targets(tc.tokens...))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Verdict != vendors.Delivered {
				t.Fatalf("%s result %d: simulator refused the message: %+v", tc.path, i, r)
			}
		}
		req, ok := wire.Last(tc.path)
		if !ok {
			t.Fatalf("no %s request captured", tc.path)
		}
		if req.Header.Get(tokenHeader) == "" {
			t.Errorf("%s: no %s header", tc.path, tokenHeader)
		}
		if got := req.Header.Get("Content-Type"); !strings.HasPrefix(got, contentType) {
			t.Errorf("%s: Content-Type = %q, want %q", tc.path, got, contentType)
		}
		check(t, req.Body, tc.doc, tc.lax, tc.need...)
	}
	// pushToList has no example among the copies read; only its headers are
	// checked.
	if req, ok := wire.Last("/message/pushToList"); !ok || req.Header.Get(tokenHeader) == "" {
		t.Errorf("pushToList request %v without %s header", ok, tokenHeader)
	}
}
