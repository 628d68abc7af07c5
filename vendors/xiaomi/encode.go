package xiaomi

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
)

// MiPush limits on one message, in characters (a Chinese and a Latin
// character both count as one).
const (
	maxTitle        = 49   // title must be shorter than 50
	maxDescription  = 127  // description must be shorter than 128
	maxCustomExtras = 10   // custom extra.* key-value pairs per message
	maxExtraLen     = 1024 // characters per custom extra key and per value
	maxPayload      = 4095 // payload must be shorter than 4K (4096) [U: 4096 or 4000]
)

// messageIDKey is the custom-data key carrying Notification.MessageID.
const messageIDKey = "message_id"

// encoder holds what the wire encoding needs besides the notification.
type encoder struct {
	pkg      string // restricted_package_name
	channel  string // extra.channel_id when the notification has none
	callback string // extra.callback for a notification with a ReceiptRef; "" = no receipts
}

// appendForm appends the application/x-www-form-urlencoded body of a
// /v3/message/regid request sending n to regIDs. The field order is fixed
// and the custom extras are sorted, so the output is deterministic.
//
// Mapping (fields MiPush lacks — Badge, Category, NotifyLevel, ThreadID,
// Mutable — are ignored):
//
//	regIDs            registration_id (comma-separated)
//	Passthrough       pass_through 1 (no title/description) or 0
//	Title, Body       title (< 50 chars), description (< 128 chars); a blank
//	                  one borrows the other, overlong text is cut with "…"
//	MessageID, Data   payload = JSON object of Data plus "message_id";
//	                  extra.message_id + up to nine extra.<Data key>
//	Priority high,    notify_type -1 (sound, vibration and lights); MiPush
//	VoIP              has no priority field: calls and IM get their
//	                  urgency from the private ("私信") channel in Channel
//	CollapseID        notify_id = 31-bit FNV-1a hash (same id replaces);
//	                  without it the MessageID's hash, so distinct messages
//	                  stack instead of replacing each other
//	TTL               time_to_live in milliseconds (0 = vendor default)
//	Channel           extra.channel_id (else encoder.channel)
//	Sound             extra.sound_uri: a URI as is, else a raw resource
//	                  android.resource://<pkg>/raw/<name without extension>
//	(notifications)   extra.notify_foreground 1: show even in foreground
//	ReceiptRef        extra.callback (encoder.callback), extra.callback.param
//	                  (the reference), extra.callback.type 1 (delivered);
//	                  only when both are set
func (e encoder) appendForm(dst []byte, n *vendors.Notification, regIDs []string) []byte {
	w := fieldWriter{buf: dst}
	w.key("registration_id")
	for i, id := range regIDs {
		if i > 0 {
			w.buf = append(w.buf, "%2C"...)
		}
		w.buf = wire.AppendQueryEscaped(w.buf, id)
	}
	e.writeFields(&w, n)
	return w.buf
}

// appendMessage appends n as one message object of a
// /v2/multi_messages/regids request: the fields appendForm writes after
// registration_id, in the same order and with the same values, as JSON —
// integers as JSON numbers, and the extras as the nested object
// "extra":{"channel_id":…} in sorted key order instead of flattened
// extra.* keys. That is the shape Xiaomi's own server SDKs send: the Java
// and PHP SDKs' Message.getJSONInfos / json_infos (every top-level field,
// then 'extra' => array of the extras) and the Go SDKs' json.Marshal of a
// Message with `json:"extra"` map[string]string, which sorts its keys.
// n must be encodable (refusal(n) == "").
func (e encoder) appendMessage(dst []byte, n *vendors.Notification) []byte {
	w := fieldWriter{buf: append(dst, '{'), json: true}
	e.writeFields(&w, n)
	w.closeJSON()
	return w.buf
}

// refusal says why MiPush would refuse n as this encoder writes it ("" =
// it would not); see limit. Send lets MiPush answer for its one message;
// SendEach asks first, so that one such message is Rejected alone instead
// of failing the whole request with every other target's message.
func (e encoder) refusal(n *vendors.Notification) string {
	if le := e.limit(n); le != nil {
		return le.Error()
	}
	return ""
}

// limit is the documented MiPush limit n breaks as this encoder writes
// it, or nil:
//
//   - a notification message without any text (PartText; MiPush answers
//     10016: title and description are required and may not be all
//     blank; a blank one borrows the other's text, so only a message
//     with neither is refused);
//   - a payload (message_id and the custom data as the JSON object
//     appendPayload writes) of maxPayload+1 characters or more
//     (PartData, Size its characters; MiPush: "长度小于4K, 中英文均以一个
//     计算").
//
// A message without a channel is not refused (MiPush documents
// extra.channel_id as optional, see the package doc), text is cut to its
// caps, and custom extras MiPush would refuse travel in payload only, so
// nothing else is.
func (e encoder) limit(n *vendors.Notification) *vendors.LimitError {
	if title, _ := vendors.Text(n); !n.Passthrough && blank(title) {
		return &vendors.LimitError{Vendor: vendors.Xiaomi, Part: vendors.PartText,
			Limit: "a title or a body on a notification message (MiPush answers 10016)"}
	}
	payload := appendPayload(make([]byte, 0, 64+payloadSize(n)), n, dataKeys(n))
	if size := utf8.RuneCount(payload); size > maxPayload {
		return &vendors.LimitError{Vendor: vendors.Xiaomi, Part: vendors.PartData, Size: size,
			Limit: fmt.Sprintf("a payload under %d characters (message_id and the custom data as a JSON object)", maxPayload+1)}
	}
	return nil
}

// writeFields writes every field of n but registration_id through w.
func (e encoder) writeFields(w *fieldWriter, n *vendors.Notification) {
	w.field("restricted_package_name", e.pkg)
	if n.Passthrough {
		w.number("pass_through", 1)
	} else {
		w.number("pass_through", 0)
		title, desc := notificationText(n)
		w.field("title", title)
		w.field("description", desc)
	}
	keys := dataKeys(n)
	w.fieldBytes("payload", appendPayload(make([]byte, 0, 64+payloadSize(n)), n, keys))
	if n.VoIP || n.Priority == vendors.PriorityHigh {
		w.number("notify_type", -1)
	}
	if id, ok := notifyID(n); ok {
		w.number("notify_id", int64(id))
	}
	if n.TTL > 0 {
		w.number("time_to_live", max(1, n.TTL.Milliseconds()))
	}
	if ch := cmp.Or(n.Channel, e.channel); ch != "" {
		w.extra("channel_id", ch)
	}
	if n.ReceiptRef != "" && e.callback != "" {
		w.extra("callback", e.callback)
		w.extra("callback.param", n.ReceiptRef)
		w.extra("callback.type", callbackDelivered)
	}
	if !n.Passthrough {
		w.extra("notify_foreground", "1")
		if uri := soundURI(e.pkg, n.Sound); uri != "" {
			w.extra("sound_uri", uri)
		}
	}
	custom := 0
	if n.MessageID != "" {
		w.extra(messageIDKey, n.MessageID)
		custom++
	}
	for _, k := range keys {
		if custom == maxCustomExtras {
			break
		}
		if v := n.Data[k]; extraAllowed(k, v) {
			w.extra(k, v)
			custom++
		}
	}
}

// dataKeys returns n.Data's keys sorted, without messageIDKey (the
// notification's own MessageID wins over a Data entry of that name).
func dataKeys(n *vendors.Notification) []string {
	if len(n.Data) == 0 {
		return nil
	}
	keys := make([]string, 0, len(n.Data))
	for k := range n.Data {
		if k != messageIDKey || n.MessageID == "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func payloadSize(n *vendors.Notification) int {
	size := len(n.MessageID)
	for k, v := range n.Data {
		size += len(k) + len(v) + 6
	}
	return size
}

// appendPayload appends the JSON object of the custom data: keys (sorted)
// from n.Data plus "message_id", in sorted key order.
func appendPayload(dst []byte, n *vendors.Notification, keys []string) []byte {
	dst = append(dst, '{')
	first, midDone := true, n.MessageID == ""
	pair := func(k, v string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = wire.AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = wire.AppendJSONString(dst, v)
	}
	for _, k := range keys {
		if !midDone && k > messageIDKey {
			pair(messageIDKey, n.MessageID)
			midDone = true
		}
		pair(k, n.Data[k])
	}
	if !midDone {
		pair(messageIDKey, n.MessageID)
	}
	return append(dst, '}')
}

// notificationText returns the title and description of a notification
// message: a blank one borrows the other's text (vendors.Text; MiPush
// needs both), overlong ones are cut.
func notificationText(n *vendors.Notification) (title, desc string) {
	title, desc = vendors.Text(n)
	return truncate(title, maxTitle), truncate(desc, maxDescription)
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// truncate cuts s to at most limit characters, ending with "…" when cut.
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < limit-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	return s[:i] + "…"
}

// notifyID is the notify_id for n: a non-negative 31-bit hash of the
// collapse id, else of the message id.
func notifyID(n *vendors.Notification) (int32, bool) {
	key := cmp.Or(n.CollapseID, n.MessageID)
	if key == "" {
		return 0, false
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int32(h.Sum32() & 0x7fffffff), true
}

// soundURI maps Notification.Sound to extra.sound_uri ("" = default).
func soundURI(pkg, sound string) string {
	if sound == "" || sound == "default" {
		return ""
	}
	if strings.Contains(sound, "://") {
		return sound
	}
	if i := strings.LastIndexByte(sound, '.'); i > 0 {
		sound = sound[:i]
	}
	return "android.resource://" + pkg + "/raw/" + sound
}

// extraAllowed reports whether Data entry k=v may also travel as a custom
// extra.k (it always travels in payload).
func extraAllowed(k, v string) bool {
	return k != "" && k != messageIDKey && !reservedExtra(k) &&
		utf8.RuneCountInString(k) <= maxExtraLen && utf8.RuneCountInString(v) <= maxExtraLen
}

// reservedExtra reports whether k is one of MiPush's predefined extra.*
// keys, which would change how MiPush treats the message.
func reservedExtra(k string) bool {
	switch k {
	case "notify_foreground", "notify_effect", "intent_uri", "web_uri",
		"sound_uri", "ticker", "jobkey", "only_send_once", "flow_control",
		"callback", "locale", "locale_not_in", "model", "model_not_in",
		"app_version", "app_version_not_in", "connpt", "payload":
		return true
	}
	return strings.HasPrefix(k, "callback.") || strings.HasPrefix(k, "channel_") ||
		strings.HasPrefix(k, "notification_") || strings.HasPrefix(k, "notify_")
}
