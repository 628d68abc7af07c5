package fcm

import (
	"slices"
	"strings"

	"firebase.google.com/go/v4/messaging"

	"github.com/herald-push/herald/vendors"
)

// maxPayloadBytes is FCM's documented limit on a message sent to a
// token: "Maximum payload for both message types is 4096 bytes"
// (Firebase, "Firebase Cloud Messaging message types"). FCM does not say
// how it counts; Check and the simulator count the bytes of the data keys
// and values plus the notification's title and body (see payloadBytes).
const maxPayloadBytes = 4096

var _ vendors.Checker = (*Client)(nil)

// Check tells whether FCM would refuse n as this client sends it, for
// either kind (the Client's own): it builds the message Send builds and
// refuses a data key FCM reserves (PartData), data whose keys and values
// alone exceed 4096 bytes (PartData), or data plus the notification's
// title and body over 4096 bytes (PartPayload). Sizes are in bytes of
// UTF-8. A target's badge (android notification_count) is not part of
// the payload, so every target gets the same answer. Check does not look
// at tokens or credentials and does no I/O.
func (c *Client) Check(n *vendors.Notification) error {
	m := buildMessage(c.kind, n)
	if k := firstReserved(m.Data); k != "" {
		return &vendors.LimitError{Vendor: c.kind, Part: vendors.PartData,
			Limit: `data keys other than "from", "message_type" and those starting "google." or "gcm." (this push has "` + k + `")`}
	}
	data, text := payloadBytes(m)
	switch {
	case data > maxPayloadBytes:
		return &vendors.LimitError{Vendor: c.kind, Part: vendors.PartData,
			Limit: "4096 bytes of data keys and values", Size: data}
	case data+text > maxPayloadBytes:
		return &vendors.LimitError{Vendor: c.kind, Part: vendors.PartPayload,
			Limit: "4096 bytes of data keys and values, title and body", Size: data + text}
	}
	return nil
}

// reservedDataKey reports whether FCM refuses k as a data key: "from",
// "message_type", or a key starting "google." or "gcm." (Firebase, REST
// reference projects.messages "data", and "Firebase Cloud Messaging
// message types"). "notification" is not reserved in HTTP v1.
func reservedDataKey(k string) bool {
	return k == "from" || k == "message_type" || strings.HasPrefix(k, "google.") || strings.HasPrefix(k, "gcm.")
}

// firstReserved is the smallest reserved key of data, "" for none.
func firstReserved(data map[string]string) string {
	var found []string
	for k := range data {
		if reservedDataKey(k) {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return ""
	}
	return slices.Min(found)
}

// payloadBytes is what FCM's payload limit is applied to in m: the bytes
// of its data keys and values, and of every title and body it carries
// (message.notification, android.notification, webpush.notification).
func payloadBytes(m *messaging.Message) (data, text int) {
	for k, v := range m.Data {
		data += len(k) + len(v)
	}
	if nt := m.Notification; nt != nil {
		text += len(nt.Title) + len(nt.Body)
	}
	if a := m.Android; a != nil && a.Notification != nil {
		text += len(a.Notification.Title) + len(a.Notification.Body)
	}
	if w := m.Webpush; w != nil && w.Notification != nil {
		text += len(w.Notification.Title) + len(w.Notification.Body)
	}
	return data, text
}
