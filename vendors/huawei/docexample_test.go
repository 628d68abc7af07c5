package huawei

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

// Huawei's own examples (testdata/docexample_huawei.txt) against the v1
// messages:send bodies herald builds and the headers it sends (issue 13).

func huaweiDoc(t *testing.T) *docshape.File {
	t.Helper()
	f, err := docshape.Load(filepath.Join("testdata", "docexample_huawei.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func docExample(t *testing.T, f *docshape.File, name string) string {
	t.Helper()
	s, err := f.Example(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func huaweiShape(t *testing.T, f *docshape.File) *docshape.Shape {
	t.Helper()
	doc := docshape.MustParse(docExample(t, f, "token"))
	doc.Merge(docshape.MustParse(docExample(t, f, "collapse-key")))
	rows, err := f.Table("reference")
	if err != nil {
		t.Fatal(err)
	}
	doc.AddEntries(rows)
	return doc
}

// required is what push-sendapi marks mandatory for this body: the message
// with a target (herald sends tokens) and, for an Android notification
// message, the android block ("如果是安卓通知栏消息,本字段必填").
func required(n *vendors.Notification) []string {
	paths := []string{"message", "message.token[]"}
	if !n.Passthrough {
		paths = append(paths, "message.android.notification")
	}
	return paths
}

func TestSendBodyMatchesHuaweiExamples(t *testing.T) {
	doc := huaweiShape(t, huaweiDoc(t))
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			body, err := encodeSend(&tc.n, tc.tokens, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range docshape.Check(body, doc) {
				t.Errorf("%s\nbody: %s", p, body)
			}
			for _, p := range docshape.Missing(body, required(&tc.n)...) {
				t.Error(p)
			}
		})
	}
}

// The real client's request, captured in front of the simulator.
func TestWireRequestMatchesHuaweiDoc(t *testing.T) {
	f := huaweiDoc(t)
	doc := huaweiShape(t, f)
	// "请求消息:Content-Type: application/json;charset=UTF-8"
	_, contentType, _ := strings.Cut(docExample(t, f, "data-format"), "Content-Type: ")
	// The Authorization row's sample value: "Bearer <access_token>".
	cells := strings.Split(docExample(t, f, "authorization"), "|")
	scheme, _, _ := strings.Cut(strings.TrimSpace(cells[2]), " ")

	var wire docshape.Wire
	sim := NewSimulator(simkit.NewRecorder(nil), SimOptions{})
	url, ca := simtest.TestServer(t, wire.Wrap(http.StripPrefix("/huawei", sim)))
	c, err := New(sim.ClientConfig(url+"/huawei", ca.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	for _, n := range []*vendors.Notification{note("m-doc"), {MessageID: "m-data", Passthrough: true, Data: map[string]string{"k": "v"}}} {
		wantVerdicts(t, send(t, c, n, "doc-token-1"), vendors.Delivered)
		req, ok := wire.Last("/messages:send")
		if !ok {
			t.Fatal("no messages:send request captured")
		}
		if req.Method != http.MethodPost || !strings.HasPrefix(req.Path, "/huawei/v1/") {
			t.Errorf("request %s %s, want POST /v1/{appId}/messages:send", req.Method, req.Path)
		}
		if got := req.Header.Get("Content-Type"); !strings.EqualFold(got, contentType) {
			t.Errorf("Content-Type = %q, want %q", got, contentType)
		}
		if got := req.Header.Get("Authorization"); !strings.HasPrefix(got, scheme+" ") || len(got) <= len(scheme)+1 {
			t.Errorf("Authorization = %q, want %q and the access token", got, scheme+" …")
		}
		for _, p := range docshape.Check(req.Body, doc) {
			t.Errorf("%s\nbody: %s", p, req.Body)
		}
		for _, p := range docshape.Missing(req.Body, required(n)...) {
			t.Error(p)
		}
	}
}
