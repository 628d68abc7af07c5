package oppo

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

func TestEncodeAsksReceiptOnlyWithRefAndURL(t *testing.T) {
	const cb = "https://herald.example/v1/receipts/oppo"
	n := chatNotification("m1")
	if w, _ := buildNotification(n, cb); w.CallBackURL != "" || w.CallBackParam != "" {
		t.Errorf("a notification without a reference asks for a receipt: %+v", w)
	}
	n.ReceiptRef = "ref-9"
	if w, _ := buildNotification(n, ""); w.CallBackURL != "" {
		t.Errorf("a client without a receipt URL asks for a receipt: %+v", w)
	}
	raw, err := appendMessages(nil, n, []string{"r1"}, cb, appendRaw)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []simMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].Notification; got.CallBackURL != cb || got.CallBackParam != "ref-9" {
		t.Errorf("notification %+v", got)
	}
}

func TestParseReceipts(t *testing.T) {
	body := `[{"messageId":"m-1","appId":"a","taskId":"t","registrationIds":"r1,r2","eventTime":"1700000000000","param":"ref-1","eventType":"push_arrive"},
		{"messageId":"m-2","appId":"a","registrationIds":"r3","eventTime":1700000000000,"param":"ref-2","eventType":"regid_invalid"},
		{"messageId":"m-3","registrationIds":" ,r4,","param":"ref-3","eventType":"push_arrive"}]`
	got, err := ParseReceipts("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []vendors.Receipt{
		{Ref: "ref-1", Token: "r1", Delivered: true, Status: "push_arrive"},
		{Ref: "ref-1", Token: "r2", Delivered: true, Status: "push_arrive"},
		{Ref: "ref-2", Token: "r3", Delivered: false, Status: "regid_invalid"},
		{Ref: "ref-3", Token: "r4", Delivered: true, Status: "push_arrive"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	receipttest.Refused(t, ParseReceipts, "application/json", ``, `{}`, `null`, `nope`, `[{"registrationIds":3}]`)
}

// TestSimulatorPostsReceipts: single and batch sends get a push_arrive
// entry for each accepted target whose message asked for one; refused
// targets and messages without a reference get none; the simulator holds
// call_back_parameter to OPPO's 50 characters.
func TestSimulatorPostsReceipts(t *testing.T) {
	recv := receipttest.NewReceiver(t, ParseReceipts, nil)
	arr := simkit.NewArrivals(simkit.ArrivalOptions{})
	defer arr.Close()
	e := newEnv(t, SimOptions{Arrivals: arr}, func(c *Config) { c.ReceiptURL = recv.URL })

	withRef := chatNotification("m1")
	withRef.ReceiptRef = "ref-1"
	wantVerdicts(t, e.send(t, withRef, "r-1", "r-2", "unregistered-3"), vendors.Delivered, vendors.Delivered, vendors.TokenInvalid)
	wantVerdicts(t, e.send(t, chatNotification("m0"), "r-plain"), vendors.Delivered)
	other := chatNotification("m2")
	other.ReceiptRef = "ref-2"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.client.SendEach(ctx, []*vendors.Notification{withRef, other, chatNotification("m3")}, targets("r-4", "r-5", "r-6")); err != nil {
		t.Fatal(err)
	}
	receipttest.WaitPosted(t, arr, vendorName, 4)
	recv.Want(t, []vendors.Receipt{
		{Ref: "ref-1", Token: "r-1", Delivered: true, Status: eventArrived},
		{Ref: "ref-1", Token: "r-2", Delivered: true, Status: eventArrived},
		{Ref: "ref-1", Token: "r-4", Delivered: true, Status: eventArrived},
		{Ref: "ref-2", Token: "r-5", Delivered: true, Status: eventArrived},
	})

	long := chatNotification("m9")
	long.ReceiptRef = strings.Repeat("x", maxCallBackParam+1)
	if res := e.send(t, long, "r-9"); res[0].Verdict != vendors.Rejected {
		t.Errorf("a %d-character call_back_parameter: %+v, want rejected", maxCallBackParam+1, res[0])
	}
}

func TestReceiptURLValidated(t *testing.T) {
	cfg := Config{AppKey: "k", MasterSecret: "s", ReceiptURL: "ftp://x"}
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "ReceiptURL") {
		t.Errorf("ftp receipt URL: %v", err)
	}
	cfg.ReceiptURL = "https://h.example/" + strings.Repeat("p", maxCallBackURL)
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "200") {
		t.Errorf("overlong receipt URL: %v", err)
	}
}

func FuzzParseReceipts(f *testing.F) {
	f.Add([]byte(`[{"registrationIds":"a,b","param":"r","eventType":"push_arrive","eventTime":"1"}]`))
	f.Add([]byte(`[{"registrationIds":",,","eventTime":1}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := ParseReceipts("application/json", body)
		if err == nil {
			receipttest.CheckParsed(t, rs, maxParsedTargets)
		}
	})
}
