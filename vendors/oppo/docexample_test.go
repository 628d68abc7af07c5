package oppo

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/docshape"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// OPPO's own examples and parameter tables (testdata/docexample_oppo.txt)
// against the unicast_batch form herald sends (issue 13). OPPO writes the
// notification's fields in lowerCamelCase in its example and in snake_case
// in its field table, so names are compared with the two folded together.

type oppoDoc struct {
	message     *docshape.Shape // one message, confirmed rows only
	lax         *docshape.Shape // plus the unconfirmed rows
	form        *docshape.Shape // the unicast_batch form keys
	formNeed    []string        // form keys marked 必须
	messageNeed []string        // message fields marked 必须
}

// interfaceRow is one "name | type | 必须 | 默认 | 描述" row.
type interfaceRow struct {
	name     string
	kind     docshape.Kind
	required bool
}

func parseInterfaceRows(t *testing.T, text string) (form, message []interfaceRow) {
	t.Helper()
	inMessage := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "message：") {
			inMessage = true
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) != 5 || cells[0] == "名称" {
			continue
		}
		var k docshape.Kind
		switch strings.TrimSpace(cells[1]) {
		case "string", "String":
			k = docshape.String
		case "Short", "Int":
			k = docshape.Number
		case "Boolean":
			k = docshape.Bool
		case "JSON":
			k = docshape.Object
		default:
			t.Fatalf("unknown type in %q", line)
		}
		row := interfaceRow{name: strings.TrimSpace(cells[0]), kind: k, required: strings.TrimSpace(cells[2]) == "是"}
		if inMessage {
			message = append(message, row)
		} else {
			form = append(form, row)
		}
	}
	if len(form) == 0 || len(message) == 0 {
		t.Fatal("no parameter rows in the interface example")
	}
	return form, message
}

func loadOPPODoc(t *testing.T) oppoDoc {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_oppo.txt"))
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
	var d oppoDoc
	d.message = docshape.MustParse(get("unicast-message"))
	// The published batch example lacks its second message's closing brace.
	batch := get("unicast-batch")
	batch = strings.TrimSuffix(strings.TrimSpace(batch), "]") + "}\n]"
	d.message.Merge(docshape.MustParse(batch).Elem)
	formRows, messageRows := parseInterfaceRows(t, get("interface"))
	d.form = &docshape.Shape{}
	for _, r := range formRows {
		d.form.AddKeys([]docshape.Entry{{Path: r.name, Kind: r.kind}})
		if r.required {
			d.formNeed = append(d.formNeed, r.name)
		}
	}
	for _, r := range messageRows {
		d.message.Add(r.name, r.kind)
		if r.required {
			d.messageNeed = append(d.messageNeed, "[]."+r.name)
		}
	}
	rows, err := f.Table("notification")
	if err != nil {
		t.Fatal(err)
	}
	d.message.AddEntries(rows)
	unconfirmed, err := f.Table("unconfirmed")
	if err != nil {
		t.Fatal(err)
	}
	d.lax = docshape.MustParse(get("unicast-message"))
	d.lax.Merge(d.message)
	d.lax.AddEntries(unconfirmed)
	return d
}

// checkMessages checks a messages array: problems the confirmed rows
// report fail unless the unconfirmed rows document them, which is logged.
func (d oppoDoc) checkMessages(t *testing.T, messages []byte) {
	t.Helper()
	array := func(s *docshape.Shape) *docshape.Shape { return &docshape.Shape{Kinds: docshape.Array, Elem: s} }
	strict := docshape.Check(messages, array(d.message), docshape.Fold(docshape.SnakeCamel))
	lax := docshape.Check(messages, array(d.lax), docshape.Fold(docshape.SnakeCamel))
	for _, p := range lax {
		t.Errorf("%s\nmessages: %s", p, messages)
	}
	for _, p := range strict {
		if !slices.Contains(lax, p) {
			t.Logf("documented only by unconfirmed notes: %s", p)
		}
	}
	for _, p := range docshape.Missing(messages, d.messageNeed...) {
		t.Error(p)
	}
}

func TestMessagesMatchOPPOExamples(t *testing.T) {
	d := loadOPPODoc(t)
	for name, tc := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			messages, err := encodeMessages(tc.n, tc.regIDs)
			if err != nil {
				t.Fatal(err)
			}
			d.checkMessages(t, messages)
		})
	}
}

// The real client's unicast_batch request, captured in front of the
// simulator.
func TestWireRequestMatchesOPPODoc(t *testing.T) {
	d := loadOPPODoc(t)
	var wire docshape.Wire
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	base, ca := simtest.TestServer(t, wire.Wrap(http.StripPrefix("/oppo", sim)))
	c, err := New(sim.ClientConfig(base+"/oppo", ca.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	call := chatNotification("m-call")
	call.VoIP = true
	for _, n := range []*vendors.Notification{chatNotification("m-doc"), call} {
		res, err := c.Send(t.Context(), n, targets("CN_doc_1", "CN_doc_2"))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Verdict != vendors.Delivered {
				t.Fatalf("result %d: simulator refused the message: %+v", i, r)
			}
		}
		req, ok := wire.Last("/server/v1/message/notification/unicast_batch")
		if !ok {
			t.Fatal("no unicast_batch request captured")
		}
		if req.Method != http.MethodPost {
			t.Errorf("method %s, want POST", req.Method)
		}
		if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", ct)
		}
		for _, p := range docshape.CheckForm(string(req.Body), d.form) {
			t.Errorf("%s\nbody: %s", p, req.Body)
		}
		form, err := url.ParseQuery(string(req.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range d.formNeed {
			if form.Get(k) == "" {
				t.Errorf("form key %s: missing", k)
			}
		}
		d.checkMessages(t, []byte(form.Get("messages")))
	}
}
