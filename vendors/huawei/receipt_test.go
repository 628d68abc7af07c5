package huawei

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/receipttest"
	"github.com/herald-push/herald/vendors/simkit"
)

func TestEncodeAsksReceiptOnlyWithRef(t *testing.T) {
	n := note("m1")
	raw, err := encodeSend(n, []string{"tok-1"}, "RCP1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "bi_tag") || strings.Contains(string(raw), "receipt_id") {
		t.Errorf("a push without a receipt reference asks for a receipt: %s", raw)
	}
	n.ReceiptRef = "r-42"
	raw, err = encodeSend(n, []string{"tok-1"}, "RCP1")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Message struct {
			Android struct {
				BiTag     string `json:"bi_tag"`
				ReceiptID string `json:"receipt_id"`
			} `json:"android"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Message.Android.BiTag != "r-42" || m.Message.Android.ReceiptID != "RCP1" {
		t.Errorf("android = %+v, want bi_tag r-42 and receipt_id RCP1", m.Message.Android)
	}
}

func TestParseReceipts(t *testing.T) {
	// The receipt API V1 body, as in Huawei's documentation.
	body := `{"statuses":[
		{"biTag":"r-1","appid":"101","token":"tok-a","status":0,"timestamp":1700000000000,"requestId":"q1"},
		{"biTag":"r-1","appid":"101","token":"tok-b","status":2,"timestamp":1700000000000,"requestId":"q1"},
		{"biTag":"","appid":"101","token":"","status":0,"timestamp":1700000000000,"requestId":"q1"},
		{"appid":"101","token":"tok-c","status":"0","timestamp":1700000000000,"requestId":"q2"}]}`
	got, err := ParseReceipts("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []vendors.Receipt{
		{Ref: "r-1", Token: "tok-a", Delivered: true, Status: "0"},
		{Ref: "r-1", Token: "tok-b", Delivered: false, Status: "2"},
		{Ref: "", Token: "tok-c", Delivered: true, Status: "0"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	receipttest.Refused(t, ParseReceipts, "application/json", ``, `[]`, `{}`, `{"statuses":3}`, `nope`)
}

func TestCallbackIDSignedAndChecked(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := SignCallbackID("herald", "k3y", now, "n0nce")
	if !strings.HasPrefix(h, "timestamp=1767323045000; nonce=n0nce; value=") {
		t.Fatalf("header %q", h)
	}
	if err := VerifyCallbackID(h, "herald", "k3y", now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("a good header is refused: %v", err)
	}
	for name, tc := range map[string]struct {
		header, user, key string
		at                time.Time
	}{
		"wrong key":       {h, "herald", "other", now},
		"wrong user":      {h, "someone", "k3y", now},
		"too old":         {h, "herald", "k3y", now.Add(6 * time.Minute)},
		"from the future": {h, "herald", "k3y", now.Add(-6 * time.Minute)},
		"missing":         {"", "herald", "k3y", now},
		"no value":        {"timestamp=1767323045000; nonce=n0nce", "herald", "k3y", now},
		"tampered nonce":  {strings.Replace(h, "n0nce", "n1nce", 1), "herald", "k3y", now},
	} {
		if err := VerifyCallbackID(tc.header, tc.user, tc.key, tc.at, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSimulatorPostsSignedReceipts: the simulator posts a receipt for
// every accepted token of a push that carries a receipt reference, in
// requests of at most 100 statuses, signed for the app's callback key;
// the tokens it refused and the pushes without a reference get none.
func TestSimulatorPostsSignedReceipts(t *testing.T) {
	clock := newFakeClock()
	recv := receipttest.NewReceiver(t, ParseReceipts, func(r *http.Request) error {
		return VerifyCallbackID(r.Header.Get(CallbackHeader), "cb-user", "cb-key", clock.Now(), time.Minute)
	})
	arr := simkit.NewArrivals(simkit.ArrivalOptions{})
	defer arr.Close()
	e := newEnv(t, SimOptions{Now: clock.Now, Arrivals: arr, Receipt: SimReceipt{URL: recv.URL, User: "cb-user", Key: "cb-key"}})
	c := e.client(t, nil)

	tokens := []string{simkit.PrefixUnregistered + "x"}
	for i := range 150 {
		tokens = append(tokens, "tok-"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	n := note("m1")
	n.ReceiptRef = "r-7"
	send(t, c, n, tokens...)
	send(t, c, note("m2"), "tok-plain") // no reference: no receipt

	receipttest.WaitPosted(t, arr, vendorName, 150)
	got, requests, err := recv.Got()
	if err != nil {
		t.Fatal(err)
	}
	if requests != 2 || len(got) != 150 {
		t.Fatalf("%d requests with %d receipts, want 2 with 150", requests, len(got))
	}
	for _, r := range got {
		if r.Ref != "r-7" || !r.Delivered || r.Token == tokens[0] || r.Token == "tok-plain" {
			t.Errorf("receipt %+v", r)
		}
	}
}

func FuzzParseReceipts(f *testing.F) {
	f.Add([]byte(`{"statuses":[{"biTag":"r","token":"t","status":0}]}`))
	f.Add([]byte(`{"statuses":[{"token":"t","status":"5"},{"token":""}]}`))
	f.Add([]byte(`{"statuses":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := ParseReceipts("application/json", body)
		if err == nil {
			receipttest.CheckParsed(t, rs, maxParsedStatuses)
		}
	})
}
