package vivo

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/receipttest"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestEncodeAsksReceiptOnSinglePushOnly(t *testing.T) {
	m, rej := buildMessage("1", note("m1"))
	if rej != nil {
		t.Fatal(rej)
	}
	m.Extra = map[string]string{extraCallback: "https://h.example/r", extraCallbackParam: "ref-1"}
	var sent struct {
		Extra map[string]string `json:"extra"`
	}
	if err := json.Unmarshal(encodeSend(m, "r1", "q1"), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Extra[extraCallback] != "https://h.example/r" || sent.Extra[extraCallbackParam] != "ref-1" {
		t.Errorf("send extra = %v", sent.Extra)
	}
	if b := encodeSaveList(m, "q2"); strings.Contains(string(b), "extra") {
		t.Errorf("saveListPayload carries extra (vivo's receipts are for /message/send only): %s", b)
	}
	m.Extra = nil
	if b := encodeSend(m, "r1", "q1"); strings.Contains(string(b), "extra") {
		t.Errorf("a push without a reference carries extra: %s", b)
	}
}

func TestParseReceipts(t *testing.T) {
	body := `{"t1":{"param":"ref-1","targets":"r1,r2"},"t2":{"param":"ref-2","targets":" ,r3,"}}`
	got, err := ParseReceipts("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b vendors.Receipt) int { return strings.Compare(a.Token, b.Token) })
	want := []vendors.Receipt{
		{Ref: "ref-1", Token: "r1", Delivered: true, Status: statusArrived},
		{Ref: "ref-1", Token: "r2", Delivered: true, Status: statusArrived},
		{Ref: "ref-2", Token: "r3", Delivered: true, Status: statusArrived},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	receipttest.Refused(t, ParseReceipts, "application/json", ``, `[]`, `null`, `nope`, `{"t":{"targets":3}}`)
}

// TestSimulatorPostsReceipts: a push with a reference goes to each device
// through /message/send (vivo's receipts are for single pushes only) and
// every accepted device gets a receipt; a refused device and a push
// without a reference get none; the simulator holds callback.param to
// vivo's 64 characters.
func TestSimulatorPostsReceipts(t *testing.T) {
	recv := receipttest.NewReceiver(t, ParseReceipts, nil)
	arr := simkit.NewArrivals(simkit.ArrivalOptions{})
	defer arr.Close()
	e := newEnv(t, SimOptions{Arrivals: arr})
	cfg := e.cfg
	cfg.ReceiptURL = recv.URL
	c := e.newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(n *vendors.Notification, tokens ...string) []vendors.Verdict {
		t.Helper()
		res, err := c.Send(ctx, n, targets(tokens...))
		if err != nil {
			t.Fatal(err)
		}
		return verdicts(res)
	}
	withRef := note("m1")
	withRef.ReceiptRef = "ref-1"
	if v := send(withRef, "r-1"); v[0] != vendors.Delivered {
		t.Fatalf("single push: %v", v)
	}
	send(withRef, "unregistered-2")
	send(note("m0"), "r-plain")
	before := len(e.sim.Received())
	if v := send(withRef, "r-3", "unregistered-5", "r-4"); !slices.Equal(v, []vendors.Verdict{vendors.Delivered, vendors.TokenInvalid, vendors.Delivered}) {
		t.Fatalf("three devices: %v", v)
	}
	for _, rc := range e.sim.Received()[before:] {
		if len(rc.RegIDs) != 1 {
			t.Errorf("a push asking for receipts went as a list: %v", rc.RegIDs)
		}
	}
	send(note("m0"), "r-6", "r-7") // no reference: a list push, no receipts
	receipttest.WaitPosted(t, arr, vendorName, 3)
	recv.Want(t, []vendors.Receipt{
		{Ref: "ref-1", Token: "r-1", Delivered: true, Status: statusArrived},
		{Ref: "ref-1", Token: "r-3", Delivered: true, Status: statusArrived},
		{Ref: "ref-1", Token: "r-4", Delivered: true, Status: statusArrived},
	})

	long := note("m9")
	long.ReceiptRef = strings.Repeat("x", maxCallbackParam+1)
	if v := send(long, "r-9"); v[0] != vendors.Rejected {
		t.Errorf("a %d-character callback.param: %v, want rejected", maxCallbackParam+1, v)
	}
}

func TestReceiptURLValidated(t *testing.T) {
	for url, want := range map[string]string{"ftp://x": "http(s)", "https://h.example/" + strings.Repeat("p", maxCallback): "128"} {
		_, err := New(Config{AppID: "1", AppKey: "k", AppSecret: "s", ReceiptURL: url})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReceiptURL %.30q: %v, want an error naming %s", url, err, want)
		}
	}
}

func FuzzParseReceipts(f *testing.F) {
	f.Add([]byte(`{"t":{"param":"r","targets":"a,b"}}`))
	f.Add([]byte(`{"t":{"targets":",,"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := ParseReceipts("application/json", body)
		if err == nil {
			receipttest.CheckParsed(t, rs, maxParsedTargets)
		}
	})
}
