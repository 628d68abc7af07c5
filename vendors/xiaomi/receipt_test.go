package xiaomi

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/receipttest"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestEncodeAsksReceiptOnlyWithRefAndURL(t *testing.T) {
	n := msg("m1")
	with := encoder{pkg: "p", channel: "c", callback: "https://herald.example/v1/receipts/xiaomi"}
	if f := string(with.appendForm(nil, n, []string{"r1"})); strings.Contains(f, "callback") {
		t.Errorf("a notification without a reference asks for a receipt: %s", f)
	}
	n.ReceiptRef = "ref-9"
	if f := string((encoder{pkg: "p"}).appendForm(nil, n, []string{"r1"})); strings.Contains(f, "callback") {
		t.Errorf("an encoder without a receipt URL asks for a receipt: %s", f)
	}
	form, err := url.ParseQuery(string(with.appendForm(nil, n, []string{"r1"})))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("extra.callback") != with.callback || form.Get("extra.callback.param") != "ref-9" || form.Get("extra.callback.type") != "1" {
		t.Errorf("form %v", form)
	}
	js := string(with.appendMessage(nil, n))
	for _, want := range []string{`"callback":"https://herald.example/v1/receipts/xiaomi"`, `"callback.param":"ref-9"`, `"callback.type":"1"`} {
		if !strings.Contains(js, want) {
			t.Errorf("multi message %s lacks %s", js, want)
		}
	}
}

func TestParseReceipts(t *testing.T) {
	data := `{"ssm1":{"param":"ref-1","type":1,"targets":"r1,r2","jobkey":"","barStatus":"Enable","timestamp":1700000000000},
		"ssm2":{"param":"ref-2","type":2,"targets":"r3"},
		"ssm3":{"param":"ref-3","type":"1","targets":" ,r4,"}}`
	form := url.Values{"data": {data}}.Encode()
	got, err := ParseReceipts("application/x-www-form-urlencoded", []byte(form))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b vendors.Receipt) int { return strings.Compare(a.Token, b.Token) })
	want := []vendors.Receipt{
		{Ref: "ref-1", Token: "r1", Delivered: true, Status: "1"},
		{Ref: "ref-1", Token: "r2", Delivered: true, Status: "1"},
		{Ref: "ref-2", Token: "r3", Delivered: false, Status: "2"},
		{Ref: "ref-3", Token: "r4", Delivered: true, Status: "1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if js, err := ParseReceipts("application/json", []byte(data)); err != nil || len(js) != 4 {
		t.Errorf("the data object as JSON: %d receipts, %v", len(js), err)
	}
	receipttest.Refused(t, ParseReceipts, "application/x-www-form-urlencoded", ``, `data=`, `data=%5B%5D`, `other=1`, `data=nope`, `%zz`)
}

// TestSimulatorPostsReceipts: both send paths get a receipt for each
// accepted target whose message asked for one, at the URL and with the
// parameter it named; refused targets and messages without a reference
// get none.
func TestSimulatorPostsReceipts(t *testing.T) {
	recv := receipttest.NewReceiver(t, ParseReceipts, nil)
	arr := simkit.NewArrivals(simkit.ArrivalOptions{})
	defer arr.Close()
	env := newSimEnv(t, SimOptions{Arrivals: arr}, func(c *Config) { c.ReceiptURL = recv.URL })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	withRef := msg("m1")
	withRef.ReceiptRef = "ref-1"
	if _, err := env.client.Send(ctx, withRef, targets("r-1", "r-2", "unregistered-3")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Send(ctx, msg("m0"), targets("r-plain")); err != nil {
		t.Fatal(err)
	}
	other := msg("m2")
	other.ReceiptRef = "ref-2"
	ns := []*vendors.Notification{withRef, other, msg("m3"), other}
	if _, err := env.client.SendEach(ctx, ns, targets("r-4", "r-5", "r-6", "unregistered-7")); err != nil {
		t.Fatal(err)
	}
	receipttest.WaitPosted(t, arr, vendorName, 4)
	recv.Want(t, []vendors.Receipt{
		{Ref: "ref-1", Token: "r-1", Delivered: true, Status: "1"},
		{Ref: "ref-1", Token: "r-2", Delivered: true, Status: "1"},
		{Ref: "ref-1", Token: "r-4", Delivered: true, Status: "1"},
		{Ref: "ref-2", Token: "r-5", Delivered: true, Status: "1"},
	})
}

func FuzzParseReceipts(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte(`data=%7B%22m%22%3A%7B%22param%22%3A%22r%22%2C%22type%22%3A1%2C%22targets%22%3A%22a%2Cb%22%7D%7D`))
	f.Add("application/json", []byte(`{"m":{"param":"r","type":"1","targets":"a,,b"}}`))
	f.Add("", []byte(`data=null`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		rs, err := ParseReceipts(ct, body)
		if err == nil {
			receipttest.CheckParsed(t, rs, maxParsedTargets)
		}
	})
}
