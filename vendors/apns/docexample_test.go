package apns

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/docshape"
)

// Apple's own examples (testdata/docexample_apns.txt) against what herald
// encodes and sends (issue 13): the golden files and the simulator are
// herald's own, and agree with each other whatever the spelling.

func appleDoc(t *testing.T) *docshape.File {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_apns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func example(t *testing.T, f *docshape.File, name string) string {
	t.Helper()
	s, err := f.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func table(t *testing.T, f *docshape.File, name string) []docshape.Entry {
	t.Helper()
	rows, err := f.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// http2Sample splits Apple's HEADERS/DATA listing into its header fields
// (name → value, continuation lines joined) and its DATA payload.
func http2Sample(t *testing.T, listing string) (map[string]string, string) {
	t.Helper()
	headers := map[string]string{}
	var data []string
	last, inData := "", false
	for _, line := range strings.Split(listing, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "HEADERS" || strings.HasPrefix(trimmed, "- END_") || strings.HasPrefix(trimmed, "+ END_"):
		case trimmed == "DATA":
			inData = true
		case inData:
			data = append(data, line)
		case strings.HasPrefix(line, "\t") && last != "":
			headers[last] += trimmed
		default:
			name, value, ok := strings.Cut(trimmed, " = ")
			if !ok {
				t.Fatalf("unreadable header line %q", line)
			}
			headers[name], last = value, name
		}
	}
	if len(headers) == 0 || len(data) == 0 {
		t.Fatalf("no headers or no DATA in the sample request:\n%s", listing)
	}
	return headers, strings.Join(data, "\n")
}

// applePayloadShape is the payload shape of Apple's examples plus the aps
// keys Table 1 documents.
func applePayloadShape(t *testing.T, f *docshape.File) *docshape.Shape {
	t.Helper()
	_, data := http2Sample(t, example(t, f, "token-request"))
	doc := docshape.MustParse(data)
	doc.Merge(docshape.MustParse(example(t, f, "listing-1")))
	doc.Merge(docshape.MustParse(example(t, f, "listing-2")))
	doc.AddEntries(table(t, f, "payload-keys"))
	return doc
}

func TestPayloadMatchesAppleExamples(t *testing.T) {
	doc := applePayloadShape(t, appleDoc(t))
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			w, err := encode(n, "com.example.chat", goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range docshape.Check(w.Payload, doc) {
				t.Errorf("%s\npayload: %s", p, w.Payload)
			}
			for _, p := range docshape.Missing(w.Payload, "aps") {
				t.Error(p)
			}
		})
	}
}

// The headers apns2 puts on the wire for herald's pushes, captured in
// front of the simulator, against Apple's sample request and header table.
func TestWireHeadersMatchAppleDoc(t *testing.T) {
	f := appleDoc(t)
	sample, _ := http2Sample(t, example(t, f, "token-request"))
	documented := map[string]bool{}
	for name := range sample {
		documented[name] = true
	}
	for _, row := range table(t, f, "header-fields") {
		documented[row.Path] = true
	}
	payloadDoc := applePayloadShape(t, f)

	var wire docshape.Wire
	e := startSim(t, SimOptions{}, wire.Wrap)
	c := newClient(t, e.cfg)
	cases := []struct {
		name     string
		n        *vendors.Notification
		pushType string
		topic    string
	}{
		{"alert", &vendors.Notification{MessageID: "m-alert", Title: "Ann", Body: "hi", Priority: vendors.PriorityHigh, CollapseID: "c1", Badge: new(2)}, "alert", e.cfg.Topic},
		{"voip", &vendors.Notification{MessageID: "m-voip", Title: "Bob", Body: "Incoming call", VoIP: true}, "voip", e.cfg.Topic + voipTopicSuffix},
		{"background", &vendors.Notification{MessageID: "m-bg", Passthrough: true, Data: map[string]string{"k": "v"}}, "background", e.cfg.Topic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := "tok-doc-" + tc.name
			if r := send(t, c, tc.n, prod(token)...)[0]; r.Verdict != vendors.Delivered {
				t.Fatalf("simulator refused the push: %+v", r)
			}
			req, ok := wire.Last("/3/device/" + token)
			if !ok {
				t.Fatal("no request captured for " + token)
			}
			for name := range req.Header {
				lower := strings.ToLower(name)
				if (strings.HasPrefix(lower, "apns-") || lower == "authorization") && !documented[lower] {
					t.Errorf("header %s is not an APNs request header field", lower)
				}
			}
			if got := req.Header.Get("apns-push-type"); got != tc.pushType {
				t.Errorf("apns-push-type = %q, want %q", got, tc.pushType)
			}
			if got := req.Header.Get("apns-topic"); got != tc.topic {
				t.Errorf("apns-topic = %q, want %q", got, tc.topic)
			}
			// The sample's scheme: "authorization = bearer <provider token>".
			scheme, _, _ := strings.Cut(sample["authorization"], " ")
			if got := req.Header.Get("authorization"); !strings.HasPrefix(got, scheme+" ") || len(got) <= len(scheme)+1 {
				t.Errorf("authorization = %q, want %q and a provider token", got, scheme+" …")
			}
			if !strings.HasSuffix(req.Path, "/3/device/"+token) {
				t.Errorf(":path %q does not end in /3/device/<token>", req.Path)
			}
			for _, p := range docshape.Check(req.Body, payloadDoc) {
				t.Errorf("%s\npayload: %s", p, req.Body)
			}
		})
	}
}
