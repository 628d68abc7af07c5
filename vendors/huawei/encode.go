package huawei

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
)

// maxTTL is the longest android.ttl Huawei accepts (15 days).
const maxTTL = 15 * 24 * time.Hour

// clickOpenApp is click_action type 3: tapping starts the app.
const clickOpenApp = 3

// sendRequest is the body of POST /v1/{appId}/messages:send. Field order is
// the wire order, so encoding is deterministic (the golden files rely on it).
type sendRequest struct {
	ValidateOnly bool        `json:"validate_only"`
	Message      wireMessage `json:"message"`
}

type wireMessage struct {
	Data         string            `json:"data,omitempty"`
	Notification *wireNotification `json:"notification,omitempty"`
	Android      *wireAndroid      `json:"android,omitempty"`
	Token        []string          `json:"token"`
}

type wireNotification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type wireAndroid struct {
	CollapseKey  *int                     `json:"collapse_key,omitempty"`
	Urgency      string                   `json:"urgency,omitempty"`
	Category     string                   `json:"category,omitempty"`
	TTL          string                   `json:"ttl,omitempty"`
	BiTag        string                   `json:"bi_tag,omitempty"`
	ReceiptID    string                   `json:"receipt_id,omitempty"`
	Notification *wireAndroidNotification `json:"notification,omitempty"`
}

type wireAndroidNotification struct {
	Title        string           `json:"title,omitempty"`
	Body         string           `json:"body,omitempty"`
	Sound        string           `json:"sound,omitempty"`
	DefaultSound bool             `json:"default_sound,omitempty"`
	Tag          string           `json:"tag,omitempty"`
	ClickAction  *wireClickAction `json:"click_action,omitempty"`
	ChannelID    string           `json:"channel_id,omitempty"`
	Importance   string           `json:"importance,omitempty"`
}

type wireClickAction struct {
	Type int `json:"type"`
}

// customData returns the custom data map the app receives: n.Data plus
// message_id. It is marshalled as a JSON object (keys sorted).
func customData(n *vendors.Notification) map[string]string {
	data := make(map[string]string, len(n.Data)+1)
	for k, v := range n.Data {
		data[k] = v
	}
	if n.MessageID != "" {
		data["message_id"] = n.MessageID
	}
	return data
}

// buildMessage maps n onto Huawei's message for tokens. A ReceiptRef
// becomes android.bi_tag (echoed in the arrival receipt), with receiptID
// as android.receipt_id when set (the receipt configuration to use; ""
// = the app's default one).
func buildMessage(n *vendors.Notification, tokens []string, receiptID string) (sendRequest, error) {
	data, err := marshal(customData(n))
	if err != nil {
		return sendRequest{}, fmt.Errorf("huawei: encode data: %w", err)
	}
	android := &wireAndroid{TTL: ttlString(n.TTL)}
	if n.ReceiptRef != "" {
		android.BiTag, android.ReceiptID = n.ReceiptRef, receiptID
	}
	if k, ok := collapseKey(n.CollapseID); ok {
		android.CollapseKey = &k
	}
	category := category(n)
	msg := wireMessage{Token: tokens}
	if n.Passthrough || string(data) != "{}" {
		msg.Data = string(data) // a data message must carry data, even "{}"
	}
	if n.Passthrough {
		// Data message: only the call categories are valid here.
		if category == "VOIP" || category == "PLAY_VOICE" {
			android.Category = category
		}
		android.Urgency = "NORMAL"
		if n.Priority == vendors.PriorityHigh || n.VoIP {
			android.Urgency = "HIGH"
		}
	} else {
		// Huawei requires both a title and a body in a notification
		// message; a blank one borrows the other's text.
		title, body := vendors.Text(n)
		android.Category = category
		msg.Notification = &wireNotification{Title: title, Body: body}
		an := &wireAndroidNotification{
			Title:       title,
			Body:        body,
			Tag:         n.CollapseID,
			ClickAction: &wireClickAction{Type: clickOpenApp},
			ChannelID:   n.Channel,
			Importance:  "NORMAL",
		}
		if n.Sound == "" || n.Sound == "default" {
			an.DefaultSound = true
		} else {
			an.Sound = n.Sound
		}
		android.Notification = an
	}
	msg.Android = android
	return sendRequest{Message: msg}, nil
}

// category is n's android.category: Notification.Category upper-cased,
// VOIP for a call.
func category(n *vendors.Notification) string {
	if n.VoIP {
		return "VOIP"
	}
	return strings.ToUpper(strings.TrimSpace(n.Category))
}

// encodeSend returns the exact JSON body the client sends for n to tokens
// (receiptID as in buildMessage).
func encodeSend(n *vendors.Notification, tokens []string, receiptID string) ([]byte, error) {
	req, err := buildMessage(n, tokens, receiptID)
	if err != nil {
		return nil, err
	}
	b, err := marshal(req)
	if err != nil {
		return nil, fmt.Errorf("huawei: encode message: %w", err)
	}
	return b, nil
}

// marshal is json.Marshal without HTML escaping (Huawei counts bytes, and
// "<" need not become "\u003c"), without the trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ttlString is d as Huawei's duration string, capped at 15 days; "" for 0.
func ttlString(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	d = min(d, maxTTL)
	s := int64(d / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}

// collapseKey reports whether id is itself a valid collapse_key (-1..100).
func collapseKey(id string) (int, bool) {
	k, err := strconv.Atoi(id)
	if err != nil || k < -1 || k > 100 {
		return 0, false
	}
	return k, true
}
