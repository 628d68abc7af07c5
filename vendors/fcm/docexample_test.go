package fcm

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/docshape"
	"github.com/herald-push/herald/vendors/simkit"
	"github.com/herald-push/herald/vendors/simkit/simtest"
)

// Firebase's own examples and REST reference (testdata/docexample_fcm.txt)
// against the messages:send bodies herald builds, for FCM (Android) and Web
// push (issue 13).

func firebaseDoc(t *testing.T) *docshape.File {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_fcm.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// restRequest splits the REST example into its header lines and its body
// (from the first "{" to the last "}": the page leaves a stray quote).
func restRequest(t *testing.T, f *docshape.File) (http.Header, string) {
	t.Helper()
	text, err := f.Example("rest-request")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(text, "{")
	h := http.Header{}
	for _, line := range strings.Split(head, "\n")[1:] {
		if name, value, ok := strings.Cut(line, ": "); ok {
			h.Set(name, value)
		}
	}
	return h, text[strings.Index(text, "{") : strings.LastIndex(text, "}")+1]
}

// firebaseShape is the shape of Firebase's examples plus the fields the
// REST reference documents.
func firebaseShape(t *testing.T, f *docshape.File) *docshape.Shape {
	t.Helper()
	_, body := restRequest(t, f)
	doc := docshape.MustParse(body)
	for _, name := range []string{"notification-and-data", "priority", "ttl"} {
		ex, err := f.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		doc.Merge(docshape.MustParse(ex))
	}
	doc.AsMap("message.data") // the examples' keys ("Nick", "Room") are made up
	rows, err := f.Table("reference")
	if err != nil {
		t.Fatal(err)
	}
	doc.AddEntries(rows)
	return doc
}

func TestMessageMatchesFirebaseExamples(t *testing.T) {
	doc := firebaseShape(t, firebaseDoc(t))
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			body, err := encodeRequest(tc.kind, tc.n, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range docshape.Check(body, doc) {
				t.Errorf("%s\nbody: %s", p, body)
			}
			// A SendMessageRequest needs its message and the message one
			// target (token, topic or condition; herald sends tokens).
			for _, p := range docshape.Missing(body, "message", "message.token") {
				t.Error(p)
			}
		})
	}
}

// The request the real client (firebase-admin-go) sends, captured in front
// of the simulator: the REST example's headers and the documented body.
func TestWireRequestMatchesFirebaseExample(t *testing.T) {
	f := firebaseDoc(t)
	wantHeader, _ := restRequest(t, f)
	doc := firebaseShape(t, f)
	for _, kind := range []vendors.Kind{vendors.FCM, vendors.Web} {
		t.Run(string(kind), func(t *testing.T) {
			var wire docshape.Wire
			sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{Kind: kind})
			url, ca := simtest.TestServer(t, wire.Wrap(sim))
			c, err := New(sim.ClientConfig(url, ca.ClientTLS()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			if r := send(t, c, chatNotification("m-doc"), "doc-token-1")[0]; r.Verdict != vendors.Delivered {
				t.Fatalf("simulator refused the message: %+v", r)
			}
			req, ok := wire.Last("/messages:send")
			if !ok {
				t.Fatal("no messages:send request captured")
			}
			if req.Method != http.MethodPost || !strings.HasPrefix(req.Path, "/v1/projects/") {
				t.Errorf("request %s %s, want POST /v1/projects/{p}/messages:send", req.Method, req.Path)
			}
			if got, want := req.Header.Get("Content-Type"), wantHeader.Get("Content-Type"); !strings.HasPrefix(got, want) {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
			scheme, _, _ := strings.Cut(wantHeader.Get("Authorization"), " ")
			if got := req.Header.Get("Authorization"); !strings.HasPrefix(got, scheme+" ") || len(got) <= len(scheme)+1 {
				t.Errorf("Authorization = %q, want %q and an access token", got, scheme+" …")
			}
			for _, p := range docshape.Check(req.Body, doc) {
				t.Errorf("%s\nbody: %s", p, req.Body)
			}
		})
	}
}
