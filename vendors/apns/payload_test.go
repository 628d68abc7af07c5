package apns

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenNow is the clock of every golden file.
var goldenNow = time.Unix(1_700_000_000, 0)

func goldenCases() map[string]*vendors.Notification {
	return map[string]*vendors.Notification{
		"alert": {
			MessageID: "msg-1", Title: "Ann", Body: "Lunch at 12?", Priority: vendors.PriorityHigh,
			Data: map[string]string{"conv_id": "c-42", "payload": `{"seq":7}`, "aps": "dropped"},
			TTL:  time.Hour, CollapseID: "conv-c-42", Badge: new(5), Sound: "chime.caf",
			Category: "MESSAGE", ThreadID: "c-42", Mutable: true,
		},
		"alert_minimal": {MessageID: "msg-2", Body: "ping"},
		"passthrough": {
			MessageID: "msg-3", Title: "ignored", Body: "ignored", Passthrough: true, Priority: vendors.PriorityHigh,
			Data: map[string]string{"kind": "sync"}, Badge: new(1), Sound: "ignored.caf", Category: "ignored",
		},
		"voip": {
			MessageID: "call-9", Title: "Bob", Body: "Incoming call", VoIP: true, TTL: 30 * time.Second,
			Data:  map[string]string{"call_id": "k-9", "caller": "bob", "message_id": "overridden"},
			Sound: "ignored.caf", Badge: new(2),
		},
		"escaping": {
			MessageID: "m<4>&", Title: "Quote \" backslash \\ tab \t nl \n", Body: "é 中文 🎉 \u2028 \x01 \xff <b>&amp;</b>",
			Data: map[string]string{"k\"ey": "v\\al", "": "empty key", "message_id": "from-data"},
		},
		"data_message_id_only": {Data: map[string]string{"message_id": "from-data"}},
	}
}

// renderWire is the golden-file form of a wire request: its headers as
// apns2 sends them, a blank line, the payload.
func renderWire(w wireRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apns-push-type: %s\napns-topic: %s\napns-priority: %d\n", w.PushType, w.Topic, w.Priority)
	if !w.Expiration.IsZero() {
		fmt.Fprintf(&b, "apns-expiration: %d\n", w.Expiration.Unix())
	}
	if w.CollapseID != "" {
		fmt.Fprintf(&b, "apns-collapse-id: %s\n", w.CollapseID)
	}
	fmt.Fprintf(&b, "\n%s\n", w.Payload)
	return b.String()
}

func TestEncodeGolden(t *testing.T) {
	for name, n := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			w, err := encode(n, "com.example.chat", goldenNow)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(w.Payload) {
				t.Fatalf("payload is not JSON: %s", w.Payload)
			}
			// apns2 re-marshals the payload; the bytes must survive as they are.
			again, err := json.Marshal(json.RawMessage(w.Payload))
			if err != nil || string(again) != string(w.Payload) {
				t.Errorf("json.Marshal changes the payload:\n%s\n%s", w.Payload, again)
			}
			got := renderWire(w)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("wire request differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

func TestEncodeDecodesBack(t *testing.T) {
	n := goldenCases()["escaping"]
	w, err := encode(n, "t", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(w.Payload, &top); err != nil {
		t.Fatal(err)
	}
	alert := top["aps"].(map[string]any)["alert"].(map[string]any)
	if alert["title"] != n.Title || top["message_id"] != n.MessageID || top["k\"ey"] != "v\\al" || top[""] != "empty key" {
		t.Errorf("decoded %v", top)
	}
	if alert["body"] != strings.ToValidUTF8(n.Body, "\uFFFD") {
		t.Errorf("body = %q", alert["body"])
	}
}

func TestEncodeRejects(t *testing.T) {
	n := &vendors.Notification{CollapseID: strings.Repeat("c", 64)}
	if _, err := encode(n, "t", goldenNow); err != nil {
		t.Errorf("64-byte collapse id: %v", err)
	}
	n.CollapseID += "c"
	if _, err := encode(n, "t", goldenNow); err == nil || !strings.Contains(err.Error(), "BadCollapseId") {
		t.Errorf("65-byte collapse id: %v", err)
	}
	// VoIP payloads may be larger than alert payloads.
	n = &vendors.Notification{Data: map[string]string{"blob": strings.Repeat("x", 4500)}}
	if _, err := encode(n, "t", goldenNow); err == nil || !strings.Contains(err.Error(), "PayloadTooLarge") {
		t.Errorf("4.5 KB alert: %v", err)
	}
	n.VoIP = true
	if _, err := encode(n, "t", goldenNow); err != nil {
		t.Errorf("4.5 KB voip: %v", err)
	}
}

// A per-target badge spliced into the bare payload gives the same bytes as
// encoding the notification with that badge.
func TestPayloadForSplicesBadgeLikeEncode(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := map[string]vendors.Notification{
		"alert":       {MessageID: "m1", Title: "t", Body: "b", Data: map[string]string{"k": "v"}},
		"no alert":    {MessageID: "m2"},
		"body only":   {Body: "b", Sound: "ding", Category: "IM", ThreadID: "th", Mutable: true},
		"voip":        {Title: "t", VoIP: true},
		"passthrough": {Passthrough: true, Data: map[string]string{"x": "y"}},
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			bare, err := encode(&n, "com.example.app", now)
			if err != nil {
				t.Fatal(err)
			}
			for _, badge := range []int{0, 7, 12345} {
				withBadge := n
				withBadge.Badge = &badge
				want, err := encode(&withBadge, "com.example.app", now)
				if err != nil {
					t.Fatal(err)
				}
				if got := bare.payloadFor(&badge); string(got) != string(want.Payload) {
					t.Fatalf("badge %d: spliced %s, encoded %s", badge, got, want.Payload)
				}
				// A target's badge wins over the notification's own.
				other := badge + 1
				if got := want.payloadFor(&other); n.VoIP || n.Passthrough {
					if string(got) != string(want.Payload) {
						t.Fatalf("push type without badge got %s", got)
					}
				} else {
					withOther := n
					withOther.Badge = &other
					w2, _ := encode(&withOther, "com.example.app", now)
					if string(got) != string(w2.Payload) {
						t.Fatalf("target badge %d over notification badge %d: %s, want %s", other, badge, got, w2.Payload)
					}
				}
			}
			if got := bare.payloadFor(nil); string(got) != string(bare.Payload) {
				t.Fatalf("nil badge changed the payload: %s", got)
			}
		})
	}
}
