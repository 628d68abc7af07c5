package fcm

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCases are the notifications whose exact messages:send bodies are
// pinned in testdata/<name>.golden.
func goldenCases() []struct {
	name  string
	kind  vendors.Kind
	n     *vendors.Notification
	token string
} {
	zero := 0
	passthrough := chatNotification("m-pass")
	passthrough.Passthrough, passthrough.Priority = true, vendors.PriorityNormal
	call := chatNotification("m-call")
	call.VoIP, call.Priority, call.TTL = true, vendors.PriorityNormal, 30*time.Second
	call.Data = map[string]string{"call_id": "c-77", "caller": "alice", "payload": `{"type":"call"}`}
	long := &vendors.Notification{MessageID: "m-long", Body: "hi", TTL: 60 * 24 * time.Hour, Badge: &zero}
	hashed := chatNotification("m-web-hash")
	hashed.CollapseID = "conversation:c1/with spaces and more than thirty-two characters"
	webPass := chatNotification("m-web-pass")
	webPass.Passthrough, webPass.Priority, webPass.TTL = true, vendors.PriorityNormal, 0
	return []struct {
		name  string
		kind  vendors.Kind
		n     *vendors.Notification
		token string
	}{
		{"fcm_notification", vendors.FCM, chatNotification("m-chat"), "fcm-token-1"},
		{"fcm_passthrough", vendors.FCM, passthrough, "fcm-token-1"},
		{"fcm_voip", vendors.FCM, call, "fcm-token-1"},
		{"fcm_minimal", vendors.FCM, &vendors.Notification{MessageID: "m-min"}, "fcm-token-1"},
		{"fcm_ttl_clamped", vendors.FCM, long, "fcm-token-1"},
		{"web_notification", vendors.Web, chatNotification("m-web"), "web-token-1"},
		{"web_topic_hashed", vendors.Web, hashed, "web-token-1"},
		{"web_passthrough", vendors.Web, webPass, "web-token-1"},
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeRequest(tc.kind, tc.n, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("wire payload changed\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestWebTopic(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"conv-1_A", "conv-1_A"},
		{"abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345"},
	} {
		if got := webTopic(tc.in); got != tc.want {
			t.Errorf("webTopic(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	a, b := webTopic("conv:1"), webTopic("conv/1")
	if a == b || !validTopic(a) || !validTopic(b) || len(a) != 32 {
		t.Errorf("hashed topics %q %q must be distinct, valid, 32 long", a, b)
	}
	if got := webTopic("abcdefghijklmnopqrstuvwxyz0123456"); !validTopic(got) {
		t.Errorf("33-char id not sanitised: %q", got)
	}
}

func TestClampTTL(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 0}, {-time.Second, 0}, {time.Millisecond, time.Second}, {1500 * time.Millisecond, time.Second},
		{time.Hour, time.Hour}, {maxTTL + time.Hour, maxTTL},
	} {
		if got := clampTTL(tc.in); got != tc.want {
			t.Errorf("clampTTL(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// A target's badge gives the message buildMessage makes with that badge.
func TestForTargetBadgeMatchesBuildMessage(t *testing.T) {
	cases := map[string]vendors.Notification{
		"alert":       {MessageID: "m1", Title: "t", Body: "b"},
		"channel":     {Body: "b", Channel: "im", Sound: "ding"},
		"no text":     {MessageID: "m2"},
		"passthrough": {Passthrough: true, Title: "t"},
		"voip":        {VoIP: true, Title: "t"},
	}
	for name, n := range cases {
		for _, kind := range []vendors.Kind{vendors.FCM, vendors.Web} {
			t.Run(name+"/"+string(kind), func(t *testing.T) {
				badge := 4
				withBadge := n
				withBadge.Badge = &badge
				want := buildMessage(kind, &withBadge)
				if kind == vendors.Web || dataOnly(&n) {
					want = buildMessage(kind, &n) // no badge to carry
				}
				silent := kind == vendors.Web || dataOnly(&n)
				got := forTarget(buildMessage(kind, &n), vendors.Target{Token: "x", Badge: &badge}, silent)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("forTarget: %+v\nwant %+v", got, want)
				}
			})
		}
	}
}
