package fcm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"firebase.google.com/go/v4/messaging"

	"github.com/herald-push/herald/vendors"
)

// Wire limits the encoder respects.
const (
	maxTTL      = 28 * 24 * time.Hour // FCM's maximum (2,419,200 s)
	maxTopicLen = 32                  // RFC 8030 Topic header
	// DataKeyMessageID is the custom-data key carrying Notification.MessageID.
	DataKeyMessageID = "message_id"
)

// buildMessage maps n to the FCM Message for kind, without a target: Send
// copies it per token (the maps inside are shared and only read).
func buildMessage(kind vendors.Kind, n *vendors.Notification) *messaging.Message {
	m := &messaging.Message{Data: customData(n)}
	if kind == vendors.Web {
		m.Webpush = webpushConfig(n)
		return m
	}
	dataOnly := dataOnly(n)
	if !dataOnly && (n.Title != "" || n.Body != "") {
		m.Notification = &messaging.Notification{Title: n.Title, Body: n.Body}
	}
	m.Android = androidConfig(n, dataOnly)
	return m
}

// forTarget is tmpl (built by buildMessage) for t: tmpl itself, or for a
// target with its own badge the message buildMessage makes with that badge
// (an Android notification count; data-only messages and Web have none).
func forTarget(tmpl *messaging.Message, t vendors.Target, dataOnly bool) *messaging.Message {
	if t.Badge == nil || dataOnly || tmpl.Android == nil {
		return tmpl
	}
	m := *tmpl
	a := *tmpl.Android
	an := messaging.AndroidNotification{}
	if a.Notification != nil {
		an = *a.Notification
	}
	an.NotificationCount = t.Badge
	a.Notification = &an
	m.Android = &a
	return &m
}

// dataOnly reports whether n goes to Android without a visible notification.
func dataOnly(n *vendors.Notification) bool { return n.Passthrough || n.VoIP }

// customData is Notification.Data plus "message_id".
func customData(n *vendors.Notification) map[string]string {
	if len(n.Data) == 0 && n.MessageID == "" {
		return nil
	}
	d := make(map[string]string, len(n.Data)+1)
	for k, v := range n.Data {
		d[k] = v
	}
	if n.MessageID != "" {
		d[DataKeyMessageID] = n.MessageID
	}
	return d
}

func androidConfig(n *vendors.Notification, dataOnly bool) *messaging.AndroidConfig {
	a := &messaging.AndroidConfig{Priority: "normal", CollapseKey: n.CollapseID}
	if n.Priority == vendors.PriorityHigh || n.VoIP {
		a.Priority = "high"
	}
	if ttl := clampTTL(n.TTL); ttl > 0 {
		a.TTL = &ttl
	}
	if !dataOnly {
		if n.Channel != "" || n.Sound != "" || n.CollapseID != "" || n.Badge != nil {
			a.Notification = &messaging.AndroidNotification{
				ChannelID:         n.Channel,
				Sound:             n.Sound,
				Tag:               n.CollapseID,
				NotificationCount: n.Badge,
			}
		}
	}
	return a
}

func webpushConfig(n *vendors.Notification) *messaging.WebpushConfig {
	w := &messaging.WebpushConfig{Headers: map[string]string{"Urgency": "normal"}}
	if n.Priority == vendors.PriorityHigh || n.VoIP {
		w.Headers["Urgency"] = "high"
	}
	if ttl := clampTTL(n.TTL); ttl > 0 {
		w.Headers["TTL"] = strconv.FormatInt(int64(ttl/time.Second), 10)
	}
	topic := webTopic(n.CollapseID)
	if topic != "" {
		w.Headers["Topic"] = topic
	}
	if !n.Passthrough && (n.Title != "" || n.Body != "") {
		w.Notification = &messaging.WebpushNotification{Title: n.Title, Body: n.Body, Tag: n.CollapseID}
	}
	return w
}

// clampTTL keeps ttl within FCM's range, whole seconds; 0 = vendor default.
func clampTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	ttl = min(ttl, maxTTL).Truncate(time.Second)
	return max(ttl, time.Second)
}

// webTopic turns a collapse id into an RFC 8030 Topic: at most 32
// characters of the URL-safe base64 alphabet. Valid ids pass unchanged;
// others are hashed so that distinct ids stay distinct.
func webTopic(id string) string {
	if id == "" {
		return ""
	}
	if validTopic(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:maxTopicLen]
}

func validTopic(s string) bool {
	if s == "" || len(s) > maxTopicLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// wireRequest is the body the SDK posts to messages:send (its unexported
// fcmRequest has the same fields and tags).
type wireRequest struct {
	ValidateOnly bool               `json:"validate_only,omitempty"`
	Message      *messaging.Message `json:"message,omitempty"`
}

// encodeRequest is the exact messages:send body the client sends for n to
// token: deterministic (encoding/json sorts map keys), so golden files pin
// every wire field.
func encodeRequest(kind vendors.Kind, n *vendors.Notification, token string) ([]byte, error) {
	m := *buildMessage(kind, n)
	m.Token = token
	return json.Marshal(&wireRequest{Message: &m})
}
