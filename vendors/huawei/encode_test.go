package huawei

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var update = flag.Bool("update", false, "rewrite golden files")

func intp(i int) *int { return &i }

// goldenCases are the wire payloads pinned in testdata/*.golden.
func goldenCases() []struct {
	name   string
	n      vendors.Notification
	tokens []string
} {
	return []struct {
		name   string
		n      vendors.Notification
		tokens []string
	}{
		{"notification", vendors.Notification{
			MessageID: "msg-1", Title: "Alice", Body: "Hello \"world\" <3", Data: map[string]string{"conv": "c1", "payload": `{"k":1}`},
			Priority: vendors.PriorityHigh, TTL: 2 * time.Hour, CollapseID: "conv-c1", Channel: "im_channel", Category: "im",
			Badge: intp(3), ThreadID: "t", Mutable: true, NotifyLevel: 16,
		}, []string{"tok-1", "tok-2"}},
		{"notification_minimal", vendors.Notification{Body: "ping", Sound: "/raw/ding", CollapseID: "7"}, []string{"tok-1"}},
		{"passthrough_high", vendors.Notification{
			MessageID: "msg-2", Data: map[string]string{"payload": "opaque"}, Passthrough: true, Priority: vendors.PriorityHigh,
			Category: "IM", TTL: 30 * 24 * time.Hour,
		}, []string{"tok-1"}},
		{"passthrough_normal", vendors.Notification{MessageID: "msg-3", Passthrough: true, TTL: 1500 * time.Millisecond}, []string{"tok-1"}},
		{"voip_call", vendors.Notification{
			MessageID: "call-9", Data: map[string]string{"call_id": "c9", "inviter": "bob"}, Passthrough: true, VoIP: true, Category: "IM",
		}, []string{"tok-1", "tok-2", "tok-3"}},
		{"voip_notification", vendors.Notification{
			MessageID: "call-10", Title: "Bob", Body: "Incoming call", VoIP: true, Channel: "calls", Sound: "default",
		}, []string{"tok-1"}},
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeSend(&tc.n, tc.tokens, "")
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("wire payload differs from %s:\n got: %s\nwant: %s", path, pretty.Bytes(), want)
			}
			// Deterministic: the same input encodes to the same bytes.
			again, _ := encodeSend(&tc.n, tc.tokens, "")
			if !bytes.Equal(got, again) {
				t.Error("encoding is not deterministic")
			}
		})
	}
}

// TestEncodeCustomData: every Data entry and the message id reach the app
// through message.data, which must be a JSON object string.
func TestEncodeCustomData(t *testing.T) {
	n := vendors.Notification{MessageID: "id-1", Title: "t", Body: "b", Data: map[string]string{"message_id": "stale", "a": "1"}}
	b, err := encodeSend(&n, []string{"x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Message struct {
			Data string `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	var data map[string]string
	if err := json.Unmarshal([]byte(req.Message.Data), &data); err != nil {
		t.Fatal(err)
	}
	if data["message_id"] != "id-1" || data["a"] != "1" || len(data) != 2 {
		t.Errorf("data %v", data)
	}
	if n.Data["message_id"] != "stale" {
		t.Error("encoding mutated the notification's data")
	}
}

func TestTTLString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", -time.Second: "", time.Millisecond: "1s", 90 * time.Second: "90s",
		24 * time.Hour: "86400s", 20 * 24 * time.Hour: "1296000s",
	} {
		if got := ttlString(d); got != want {
			t.Errorf("ttlString(%v) = %q, want %q", d, got, want)
		}
	}
}
