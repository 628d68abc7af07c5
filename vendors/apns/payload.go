package apns

import (
	"slices"
	"strconv"
	"time"

	"github.com/sideshow/apns2"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
)

// APNs request limits.
const (
	maxPayload      = 4096 // bytes, every push type but VoIP
	maxVoIPPayload  = 5120 // bytes, VoIP
	maxCollapseID   = 64   // bytes of apns-collapse-id
	messageIDKey    = "message_id"
	apsKey          = "aps"
	voipTopicSuffix = ".voip"
)

// wireRequest is one push as it goes on the wire, minus host and device
// token: the same for every target of a Send.
type wireRequest struct {
	PushType   apns2.EPushType
	Topic      string
	Priority   int
	Expiration time.Time // zero = no apns-expiration header
	CollapseID string    // "" = no apns-collapse-id header
	Payload    []byte
	// Bare is the payload without any badge and BadgeAt where in it a
	// per-target badge goes (after the alert, before the sound, as encode
	// orders aps keys); BadgeAt is -1 when the push type carries no badge
	// (VoIP, background).
	Bare    []byte
	BadgeAt int
	Limit   int // the payload size APNs accepts for this push type
}

// payloadFor returns the payload for a target with badge (nil = the
// notification's own): w.Payload, or Bare with badge spliced in at BadgeAt.
func (w *wireRequest) payloadFor(badge *int) []byte {
	if badge == nil || w.BadgeAt < 0 {
		return w.Payload
	}
	head, tail := w.Bare[:w.BadgeAt], w.Bare[w.BadgeAt:]
	b := make([]byte, 0, len(w.Payload)+24)
	b = append(b, head...)
	if head[len(head)-1] == '{' {
		// aps opens here: the badge comes first and the sound follows.
		b = strconv.AppendInt(append(b, `"badge":`...), int64(*badge), 10)
		b = append(b, ',')
	} else {
		b = strconv.AppendInt(append(b, `,"badge":`...), int64(*badge), 10)
	}
	return append(b, tail...)
}

// rejection is a notification APNs would refuse, caught before sending.
type rejection struct{ Code, Reason string }

func (r *rejection) Error() string { return "apns: " + r.Code + ": " + r.Reason }

// encode builds the wire request for n. It is deterministic: custom-data keys
// are sorted, aps keys come in a fixed order, and strings are escaped exactly
// as encoding/json does (apns2 re-compacts the payload with json.Marshal, so
// the bytes encode returns are the bytes on the wire).
//
//   - Alert (the default): aps.alert {title, body}, badge, sound ("default"
//     when n.Sound is empty), category, thread-id, mutable-content; priority
//     10 for PriorityHigh, 5 otherwise.
//   - Passthrough: aps {"content-available":1} only, push type background,
//     priority 5.
//   - VoIP: push type voip, topic <bundle>.voip, priority 10, aps carries only
//     the alert title/body (PushKit hands the whole payload to the app).
//
// Custom data are top-level keys: every n.Data entry but "aps", and
// "message_id" = n.MessageID (which wins over a Data entry of that name).
func encode(n *vendors.Notification, topic string, now time.Time) (wireRequest, error) {
	w := wireRequest{PushType: apns2.PushTypeAlert, Topic: topic, CollapseID: n.CollapseID}
	switch {
	case n.VoIP:
		w.PushType, w.Topic, w.Priority = apns2.PushTypeVOIP, topic+voipTopicSuffix, apns2.PriorityHigh
	case n.Passthrough:
		w.PushType, w.Priority = apns2.PushTypeBackground, apns2.PriorityLow
	case n.Priority == vendors.PriorityHigh:
		w.Priority = apns2.PriorityHigh
	default:
		w.Priority = apns2.PriorityLow
	}
	if len(n.CollapseID) > maxCollapseID {
		return w, &rejection{Code: "BadCollapseId", Reason: "collapse id is " + strconv.Itoa(len(n.CollapseID)) + " bytes; APNs allows 64"}
	}
	if n.TTL > 0 {
		w.Expiration = now.Add(n.TTL)
	}
	w.Bare, w.BadgeAt = appendPayload(make([]byte, 0, payloadSizeHint(n)), n)
	w.Payload = w.Bare
	if n.Badge != nil {
		w.Payload = w.payloadFor(n.Badge)
	}
	limit := maxPayload
	if n.VoIP {
		limit = maxVoIPPayload
	}
	w.Limit = limit
	if len(w.Payload) > limit {
		return w, &rejection{Code: "PayloadTooLarge", Reason: "payload is " + strconv.Itoa(len(w.Payload)) + " bytes; APNs allows " + strconv.Itoa(limit)}
	}
	return w, nil
}

func payloadSizeHint(n *vendors.Notification) int {
	size := 192 + len(n.Title) + len(n.Body) + len(n.Sound) + len(n.Category) + len(n.ThreadID) + len(n.MessageID)
	for k, v := range n.Data {
		size += len(k) + len(v) + 8
	}
	return size
}

// appendPayload appends n's payload without a badge and returns where a
// badge goes (-1 for push types without one).
func appendPayload(b []byte, n *vendors.Notification) ([]byte, int) {
	b = append(b, `{"aps":{`...)
	badgeAt := -1
	switch {
	case n.VoIP:
		b = appendAlert(b, n)
	case n.Passthrough:
		b = append(b, `"content-available":1`...)
	default:
		b = appendAlert(b, n)
		badgeAt = len(b) // the badge goes here; the sound always follows
		if n.Sound == "" {
			b = append(appendKey(b, "sound"), `"default"`...)
		} else {
			b = wire.AppendJSONString(appendKey(b, "sound"), n.Sound)
		}
		if n.Category != "" {
			b = wire.AppendJSONString(appendKey(b, "category"), n.Category)
		}
		if n.ThreadID != "" {
			b = wire.AppendJSONString(appendKey(b, "thread-id"), n.ThreadID)
		}
		if n.Mutable {
			b = append(appendKey(b, "mutable-content"), '1')
		}
	}
	b = append(b, '}')
	return appendCustomData(b, n), badgeAt
}

// appendKey appends `"name":`, preceded by a comma unless it opens an object.
// name must need no escaping.
func appendKey(b []byte, name string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendAlert appends "alert":{"title","body"} when n has either.
func appendAlert(b []byte, n *vendors.Notification) []byte {
	if n.Title == "" && n.Body == "" {
		return b
	}
	b = append(appendKey(b, "alert"), '{')
	if n.Title != "" {
		b = wire.AppendJSONString(appendKey(b, "title"), n.Title)
	}
	if n.Body != "" {
		b = wire.AppendJSONString(appendKey(b, "body"), n.Body)
	}
	return append(b, '}')
}

// appendCustomData appends the sorted top-level custom keys and closes the
// payload object.
func appendCustomData(b []byte, n *vendors.Notification) []byte {
	keys := make([]string, 0, len(n.Data)+1)
	for k := range n.Data {
		if k != apsKey && (k != messageIDKey || n.MessageID == "") {
			keys = append(keys, k)
		}
	}
	if n.MessageID != "" {
		keys = append(keys, messageIDKey)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := n.Data[k]
		if k == messageIDKey && n.MessageID != "" {
			v = n.MessageID
		}
		b = append(b, ',')
		b = wire.AppendJSONString(b, k)
		b = append(b, ':')
		b = wire.AppendJSONString(b, v)
	}
	return append(b, '}')
}
