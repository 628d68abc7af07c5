package vivo

import (
	"encoding/json"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
)

// overflowKey carries, JSON-encoded, the custom data that does not fit in
// vivo's 10 clientCustomMap pairs.
const overflowKey = "herald_more"

// Notify types.
const (
	notifyRing        = 2
	notifyRingVibrate = 4
)

// message is the vivo notification body shared by /message/send (with
// regId) and /message/saveListPayload (without). Field order is the wire
// order.
type message struct {
	AppID           json.Number       `json:"appId"`
	RegID           string            `json:"regId,omitempty"`
	NotifyType      int               `json:"notifyType"`
	Title           string            `json:"title"`
	Content         string            `json:"content"`
	TimeToLive      int64             `json:"timeToLive,omitempty"`
	SkipType        int               `json:"skipType"`
	NetworkType     int               `json:"networkType"`
	Classification  int               `json:"classification"`
	Category        string            `json:"category,omitempty"`
	NotifyID        int64             `json:"notifyId,omitempty"`
	ClientCustomMap map[string]string `json:"clientCustomMap,omitempty"`
	Extra           map[string]string `json:"extra,omitempty"`
	RequestID       string            `json:"requestId"`
}

// listRequest is the body of /message/pushToList.
type listRequest struct {
	AppID     json.Number `json:"appId"`
	RegIDs    []string    `json:"regIds"`
	TaskID    string      `json:"taskId"`
	RequestID string      `json:"requestId"`
}

// buildMessage maps n to vivo's fields. vivo needs both a title and
// content (it refuses a message missing either): a blank one borrows the
// other's text (vendors.Text), so a push with only a title shows it as
// both. Text too long for vivo is cut (title to 40 width units, content
// to 100). A non-nil Result means vivo cannot carry n at all (it is then
// the answer for every token): n has no visible text, as a passthrough
// push may not (vivo has no data-only messages).
func buildMessage(appID string, n *vendors.Notification) (message, *vendors.Result) {
	title, content := vendors.Text(n)
	if blank(title) {
		code, reason := "empty_notification", "vivo needs a title or content"
		if n.Passthrough {
			code, reason = "passthrough_unsupported", "vivo has no data-only messages and this one has no title or content"
		}
		return message{}, &vendors.Result{Verdict: vendors.Rejected, Code: code, Reason: reason, NotSent: true}
	}
	m := message{
		AppID:           json.Number(appID),
		NotifyType:      notifyRing,
		Title:           truncateWidth(title, maxTitleWidth),
		Content:         truncateWidth(content, maxContentWidth),
		TimeToLive:      ttlSeconds(n.TTL),
		SkipType:        1, // open the app
		NetworkType:     -1,
		NotifyID:        notifyID(n.CollapseID),
		ClientCustomMap: customMap(n.MessageID, n.Data),
	}
	if n.VoIP || n.Priority == vendors.PriorityHigh {
		m.NotifyType = notifyRingVibrate
	}
	m.Category = strings.ToUpper(strings.TrimSpace(n.Category))
	if n.VoIP || m.Category == "" {
		m.Category = "IM" // vivo has no call category; calls are IM system messages
	}
	m.Classification, _ = classificationOf(m.Category)
	return m, nil
}

// encodeSend is the /message/send body for one regId.
func encodeSend(m message, regID, requestID string) []byte {
	m.RegID, m.RequestID = regID, requestID
	return marshal(m)
}

// encodeSaveList is the /message/saveListPayload body (no target).
func encodeSaveList(m message, requestID string) []byte {
	m.RegID, m.RequestID = "", requestID
	m.Extra = nil // vivo's receipts are for /message/send only
	return marshal(m)
}

// encodePushToList is the /message/pushToList body.
func encodePushToList(appID string, regIDs []string, taskID, requestID string) []byte {
	return marshal(listRequest{AppID: json.Number(appID), RegIDs: regIDs, TaskID: taskID, RequestID: requestID})
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, ints and a validated numeric appId are encoded.
		return []byte("{}")
	}
	return b
}

// customMap returns clientCustomMap: message_id plus data, at most
// maxCustomPairs pairs. Past that, the first data keys in sorted order stay
// and the rest go JSON-encoded under overflowKey.
func customMap(messageID string, data map[string]string) map[string]string {
	keys := make([]string, 0, len(data))
	for k := range data {
		if k == "message_id" && messageID != "" {
			continue
		}
		keys = append(keys, k)
	}
	if messageID == "" && len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	out := make(map[string]string, min(len(keys)+1, maxCustomPairs))
	if messageID != "" {
		out["message_id"] = messageID
	}
	room := maxCustomPairs - len(out)
	if len(keys) <= room {
		for _, k := range keys {
			out[k] = data[k]
		}
		return out
	}
	for _, k := range keys[:room-1] {
		out[k] = data[k]
	}
	rest := make(map[string]string, len(keys)-(room-1))
	for _, k := range keys[room-1:] {
		rest[k] = data[k]
	}
	out[overflowKey] = string(marshal(rest))
	return out
}

// ttlSeconds converts a TTL to vivo's timeToLive (0 = vivo's default of a
// day), clamped to vivo's 60 s .. 7 d.
func ttlSeconds(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	s := int64((ttl + time.Second - 1) / time.Second)
	return max(minTTLSeconds, min(s, maxTTLSeconds))
}

// notifyID maps a collapse id to vivo's notifyId: the id itself when it is
// a positive 31-bit integer, else its FNV-1a hash in 1..2^31-1.
func notifyID(collapseID string) int64 {
	if collapseID == "" {
		return 0
	}
	if v, err := strconv.ParseInt(collapseID, 10, 32); err == nil && v > 0 {
		return v
	}
	h := fnv.New32a()
	h.Write([]byte(collapseID))
	v := int64(h.Sum32() & 0x7fffffff)
	if v == 0 {
		v = 1
	}
	return v
}

// blank reports whether s has no visible text (vendors.Text's rule).
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// textWidth is vivo's length rule: an ASCII character counts 1, any other
// character 2 (vivo counts a Chinese character as two English ones).
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func runeWidth(r rune) int {
	if r < 0x80 {
		return 1
	}
	return 2
}

// truncateWidth cuts s to at most limit width units on a rune boundary.
func truncateWidth(s string, limit int) string {
	w := 0
	for i, r := range s {
		if w += runeWidth(r); w > limit {
			return s[:i]
		}
	}
	return s
}
