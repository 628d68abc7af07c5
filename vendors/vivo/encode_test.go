package vivo

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
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

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("%s: invalid JSON %s: %v", name, got, err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from %s:\n got: %s\nwant: %s", name, path, pretty.Bytes(), want)
	}
}

func mustBuild(t *testing.T, n *vendors.Notification) message {
	t.Helper()
	m, rej := buildMessage(SimAppID, n)
	if rej != nil {
		t.Fatalf("rejected: %+v", rej)
	}
	return m
}

func TestGoldenPayloads(t *testing.T) {
	badge := 3
	chat := &vendors.Notification{
		MessageID:  "msg-0001",
		Title:      "Alice",
		Body:       "Are we still on for lunch?",
		Data:       map[string]string{"payload": `{"conv":"c1"}`, "sender": "alice"},
		TTL:        time.Hour,
		CollapseID: "conv-c1",
		Badge:      &badge,
		Sound:      "ding.caf",
		Channel:    "im",
		ThreadID:   "c1",
	}
	call := &vendors.Notification{
		MessageID:  "msg-0002",
		Title:      "Bob",
		Body:       "Incoming video call",
		Data:       map[string]string{"call_id": "call-42", "message_id": "ignored"},
		Priority:   vendors.PriorityHigh,
		TTL:        30 * time.Second,
		CollapseID: "42",
		VoIP:       true,
		Category:   "MARKETING",
	}
	news := &vendors.Notification{
		MessageID: "msg-0003",
		Title:     "每日新闻摘要：今天发生了很多重要的事情，请点击查看详情",
		Body:      strings.Repeat("内容", 60),
		Category:  "news",
		TTL:       30 * 24 * time.Hour,
	}
	many := &vendors.Notification{MessageID: "msg-0004", Title: "t", Body: "b", Data: map[string]string{}}
	for i := range 12 {
		many.Data[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("v%02d", i)
	}

	golden(t, "auth", encodeAuth(SimAppID, SimAppKey, SimAppSecret, time.UnixMilli(1741082400000)))
	golden(t, "send_chat", encodeSend(mustBuild(t, chat), "15638535410301000000001", "req-1"))
	golden(t, "send_call", encodeSend(mustBuild(t, call), "15638535410301000000002", "req-2"))
	golden(t, "send_overflow", encodeSend(mustBuild(t, many), "15638535410301000000003", "req-3"))
	golden(t, "savelist_news", encodeSaveList(mustBuild(t, news), "req-4"))
	golden(t, "pushtolist", encodePushToList(SimAppID, []string{"15638535410301000000001", "15638535410301000000002"}, "50000001", "req-5"))
}

func TestSignIsLowercaseMD5(t *testing.T) {
	got := sign("10004", "25509283-3767-4b9e-83fe-b6e55ac6243e", 1501484120000, "secret")
	sum := md5.Sum([]byte("1000425509283-3767-4b9e-83fe-b6e55ac6243e1501484120000secret"))
	if want := hex.EncodeToString(sum[:]); got != want || strings.ToLower(got) != got {
		t.Errorf("sign = %s, want %s", got, want)
	}
}

func TestCustomMap(t *testing.T) {
	if m := customMap("", nil); m != nil {
		t.Errorf("empty = %v", m)
	}
	data := map[string]string{"message_id": "old", "a": "1"}
	if m := customMap("new", data); len(m) != 2 || m["message_id"] != "new" || m["a"] != "1" {
		t.Errorf("message_id wins: %v", m)
	}
	if m := customMap("", data); m["message_id"] != "old" {
		t.Errorf("data's message_id kept without MessageID: %v", m)
	}
	data = map[string]string{}
	for i := range 9 {
		data[fmt.Sprintf("k%d", i)] = "v"
	}
	if m := customMap("id", data); len(m) != 10 || m[overflowKey] != "" {
		t.Errorf("exactly 10 pairs: %v", m)
	}
	data["k9"] = "last"
	m := customMap("id", data)
	if len(m) != 10 {
		t.Fatalf("pairs = %d", len(m))
	}
	var rest map[string]string
	if err := json.Unmarshal([]byte(m[overflowKey]), &rest); err != nil {
		t.Fatal(err)
	}
	if len(rest) != 2 || rest["k8"] != "v" || rest["k9"] != "last" {
		t.Errorf("overflow = %v", rest)
	}
}

func TestTextRules(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "hello"},
		{"你好世界", 5, "你好"},
		{"a你好", 5, "a你好"},
		{"", 3, ""},
	} {
		if got := truncateWidth(tc.in, tc.limit); got != tc.want || textWidth(got) > tc.limit {
			t.Errorf("truncateWidth(%q, %d) = %q", tc.in, tc.limit, got)
		}
	}
	for in, want := range map[string]int64{"": 0, "7": 7, "0": notifyID("0"), "-3": notifyID("-3"), "2147483647": 2147483647} {
		if got := notifyID(in); got != want || (in != "" && (got <= 0 || got > 1<<31-1)) {
			t.Errorf("notifyID(%q) = %d", in, got)
		}
	}
	if first, again := notifyID("conv-c1"), notifyID("conv-c1"); first != again || first == notifyID("conv-c2") {
		t.Error("notifyID not a stable hash")
	}
	for in, want := range map[time.Duration]int64{0: 0, time.Second: 60, 90 * time.Second: 90, 1500 * time.Millisecond: 60, 30 * 24 * time.Hour: maxTTLSeconds} {
		if got := ttlSeconds(in); got != want {
			t.Errorf("ttlSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestBuildMessageMapping(t *testing.T) {
	for _, tc := range []struct {
		name       string
		n          vendors.Notification
		notifyType int
		category   string
		class      int
	}{
		{"default IM", vendors.Notification{Title: "t", Body: "b"}, notifyRing, "IM", 1},
		{"high", vendors.Notification{Title: "t", Body: "b", Priority: vendors.PriorityHigh}, notifyRingVibrate, "IM", 1},
		{"voip", vendors.Notification{Title: "t", Body: "b", VoIP: true, Category: "NEWS"}, notifyRingVibrate, "IM", 1},
		{"operational", vendors.Notification{Title: "t", Body: "b", Category: " social "}, notifyRing, "SOCIAL", 0},
		{"system", vendors.Notification{Title: "t", Body: "b", Category: "ORDER"}, notifyRing, "ORDER", 1},
		{"unknown", vendors.Notification{Title: "t", Body: "b", Category: "chat"}, notifyRing, "CHAT", 1},
		{"passthrough with text", vendors.Notification{Title: "t", Body: "b", Passthrough: true}, notifyRing, "IM", 1},
	} {
		m, rej := buildMessage("1", &tc.n)
		if rej != nil || m.NotifyType != tc.notifyType || m.Category != tc.category || m.Classification != tc.class {
			t.Errorf("%s: %+v %+v", tc.name, m, rej)
		}
	}
	for _, n := range []vendors.Notification{{}, {Title: " ", Body: "\t"}, {Passthrough: true}} {
		if _, rej := buildMessage("1", &n); rej == nil || rej.Verdict != vendors.Rejected {
			t.Errorf("%+v not rejected: %+v", n, rej)
		}
	}
	// A blank title or content borrows the other's text.
	for _, n := range []vendors.Notification{{Title: "only"}, {Body: "only"}, {Title: " ", Body: "only"}, {Title: "only", Body: "\n"}} {
		m, rej := buildMessage("1", &n)
		if rej != nil || m.Title != "only" || m.Content != "only" {
			t.Errorf("%+v: title %q content %q %+v", n, m.Title, m.Content, rej)
		}
	}
}
