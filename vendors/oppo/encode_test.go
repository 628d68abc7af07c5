package oppo

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file\n got: %s\nwant: %s", name, got, want)
	}
}

func goldenCases() map[string]struct {
	n      *vendors.Notification
	regIDs []string
} {
	badge := 3
	return map[string]struct {
		n      *vendors.Notification
		regIDs []string
	}{
		"messages_im": {
			n: &vendors.Notification{
				MessageID:   "msg-0001",
				Title:       "Alice",
				Body:        "See you at 8?",
				Data:        map[string]string{"conversation": "c-42", "payload": `{"k":1}`, "message_id": "overridden"},
				Priority:    vendors.PriorityHigh,
				TTL:         10 * time.Minute,
				CollapseID:  "c-42",
				Badge:       &badge,
				Sound:       "ding",
				Channel:     "chat",
				Category:    "IM",
				NotifyLevel: 2,
				ThreadID:    "t",
				Mutable:     true,
			},
			regIDs: []string{"CN_b6bbd94b59cdb5df8391642c1509b7fe", "OPPO_CN_0123456789abcdef0123456789abcdef"},
		},
		"messages_call": {
			n: &vendors.Notification{
				MessageID:   "msg-call-7",
				Title:       "Incoming call",
				Body:        "Bob is calling",
				Data:        map[string]string{"call_id": "call-7"},
				Passthrough: true,
				VoIP:        true,
				TTL:         30 * time.Second,
				Channel:     "calls",
			},
			regIDs: []string{"CN_b6bbd94b59cdb5df8391642c1509b7fe"},
		},
		"messages_long": {
			n: &vendors.Notification{
				Title:   strings.Repeat("标题", 30),
				Body:    strings.Repeat("正文", 100),
				TTL:     30 * 24 * time.Hour,
				Channel: "news",
			},
			regIDs: []string{`CN_"quoted"<&>`},
		},
	}
}

func TestEncodeGolden(t *testing.T) {
	for name, tc := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			got, err := encodeMessages(tc.n, tc.regIDs)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
			// What the client sends, the simulator must accept.
			msgs, err := new(simDecoder).decode(got, true)
			if err != nil {
				t.Fatalf("simulator cannot decode the payload: %v", err)
			}
			if len(msgs) != len(tc.regIDs) {
				t.Fatalf("%d messages for %d targets", len(msgs), len(tc.regIDs))
			}
			for i := range msgs {
				if code, detail := validateMessage(&msgs[i]); code != codeSuccess {
					t.Errorf("message %d refused: %d %s", i, code, detail)
				}
				if msgs[i].TargetValue != tc.regIDs[i] {
					t.Errorf("message %d target %q, want %q", i, msgs[i].TargetValue, tc.regIDs[i])
				}
				if got := msgs[i].Notification.params.messageID; got != tc.n.MessageID {
					t.Errorf("message %d: message_id %q, want %q", i, got, tc.n.MessageID)
				}
			}
		})
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	tc := goldenCases()["messages_im"]
	first, _ := encodeMessages(tc.n, tc.regIDs)
	for range 20 {
		again, _ := encodeMessages(tc.n, tc.regIDs)
		if !bytes.Equal(first, again) {
			t.Fatal("encodeMessages is not deterministic")
		}
	}
}

func TestAuthFormGolden(t *testing.T) {
	form := authForm("app-key", "master-secret", time.UnixMilli(1700000000123))
	golden(t, "auth_form", []byte(form.Encode()+"\n"))
}

func TestAppMessageIDPerTarget(t *testing.T) {
	a, b := appMessageID("m", "CN_a"), appMessageID("m", "CN_b")
	if a == b || len(a) != 32 || a != appMessageID("m", "CN_a") {
		t.Errorf("app_message_id %q %q", a, b)
	}
}

func TestOffLineTTL(t *testing.T) {
	for d, want := range map[time.Duration]int{
		0:                   0,
		-time.Second:        0,
		30 * time.Second:    minOffLineTTL,
		2*time.Hour + 1:     7201,
		10 * 24 * time.Hour: maxOffLineTTL,
		11 * 24 * time.Hour: maxOffLineTTL,
	} {
		if got := offLineTTL(d); got != want {
			t.Errorf("offLineTTL(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestActionParametersIsAJSONObjectString(t *testing.T) {
	s, err := actionParameters(&vendors.Notification{MessageID: "m", Data: map[string]string{"a": "<&>"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || m["a"] != "<&>" || m["message_id"] != "m" {
		t.Errorf("action_parameters %s → %v %v", s, m, err)
	}
}
