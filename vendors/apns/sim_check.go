package apns

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sideshow/apns2"
)

// check validates one request the way APNs does, in this order: method,
// device token, authentication, headers, payload. On success it returns the
// log entry for the push (Env still unset) and status 0; otherwise the HTTP
// status and APNs reason to answer.
func (s *Simulator) check(r *http.Request, token string) (Received, int, string) {
	var p Received
	if r.Method != http.MethodPost {
		return p, http.StatusMethodNotAllowed, "MethodNotAllowed"
	}
	if token == "" {
		return p, http.StatusBadRequest, "MissingDeviceToken"
	}
	if reason := s.auth.check(r, s.now()); reason != "" {
		return p, http.StatusForbidden, reason
	}
	for _, h := range []string{"apns-push-type", "apns-topic", "apns-priority", "apns-expiration", "apns-collapse-id", "apns-id", "authorization"} {
		if len(r.Header.Values(h)) > 1 {
			return p, http.StatusBadRequest, "DuplicateHeaders"
		}
	}
	p.Token = token
	p.PushType = r.Header.Get("apns-push-type")
	if p.PushType == "" {
		p.PushType = string(apns2.PushTypeAlert)
	}
	suffix, ok := topicSuffix(p.PushType)
	if !ok {
		return p, http.StatusBadRequest, "InvalidPushType"
	}
	if p.Topic = r.Header.Get("apns-topic"); p.Topic == "" {
		return p, http.StatusBadRequest, "MissingTopic"
	}
	if p.Topic != s.opts.Topic+suffix {
		if p.Topic == s.opts.Topic || strings.HasPrefix(p.Topic, s.opts.Topic+".") {
			return p, http.StatusBadRequest, "DeviceTokenNotForTopic"
		}
		return p, http.StatusBadRequest, "BadTopic"
	}
	p.Priority = apns2.PriorityHigh // APNs' default
	if v := r.Header.Get("apns-priority"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 1 && n != apns2.PriorityLow && n != apns2.PriorityHigh) ||
			(n == apns2.PriorityHigh && p.PushType == string(apns2.PushTypeBackground)) {
			return p, http.StatusBadRequest, "BadPriority"
		}
		p.Priority = n
	}
	p.Expiration = -1
	if v := r.Header.Get("apns-expiration"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, http.StatusBadRequest, "BadExpirationDate"
		}
		p.Expiration = n
	}
	if p.CollapseID = r.Header.Get("apns-collapse-id"); len(p.CollapseID) > maxCollapseID {
		return p, http.StatusBadRequest, "BadCollapseId"
	}
	if v := r.Header.Get("apns-id"); v != "" && !isUUID(v) {
		return p, http.StatusBadRequest, "BadMessageId"
	}
	status, reason := s.readPayload(r, &p)
	return p, status, reason
}

// readPayload reads and checks the JSON payload into p.Payload and
// p.MessageID.
func (s *Simulator) readPayload(r *http.Request, p *Received) (int, string) {
	limit := maxPayload
	if p.PushType == string(apns2.PushTypeVOIP) {
		limit = maxVoIPPayload
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	switch {
	case err != nil:
		return http.StatusBadRequest, "BadPayload"
	case len(body) > limit:
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	case len(bytes.TrimSpace(body)) == 0:
		return http.StatusBadRequest, "PayloadEmpty"
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || top == nil { // top is nil for "null"
		return http.StatusBadRequest, "BadPayload"
	}
	// Apple's Payload Key Reference: the JSON dictionary "must contain an
	// aps key, the value of which is a dictionary". A VoIP push is the
	// exception: PushKit hands the app the whole dictionary, and "for VoIP
	// pushes, the sender is free to specify any fields" (PKPushPayload
	// dictionaryPayload), so its payload need only be a JSON object.
	if aps := bytes.TrimSpace(top[apsKey]); p.PushType != string(apns2.PushTypeVOIP) && (len(aps) == 0 || aps[0] != '{') {
		return http.StatusBadRequest, "BadPayload"
	}
	if raw, ok := top[messageIDKey]; ok {
		_ = json.Unmarshal(raw, &p.MessageID) // a non-string message_id counts as none
	}
	p.Payload = body
	return 0, ""
}

// topicSuffix is what a push type appends to the bundle ID in apns-topic;
// false for push types APNs does not know.
func topicSuffix(pushType string) (string, bool) {
	switch apns2.EPushType(pushType) {
	case apns2.PushTypeAlert, apns2.PushTypeBackground, apns2.PushTypeMDM:
		return "", true
	case apns2.PushTypeVOIP:
		return voipTopicSuffix, true
	case apns2.PushTypeComplication:
		return ".complication", true
	case apns2.PushTypeFileProvider:
		return ".pushkit.fileprovider", true
	case apns2.PushTypeLocation:
		return ".location-query", true
	case apns2.PushTypeLiveActivity:
		return ".push-type.liveactivity", true
	case apns2.PushTypePushToTalk:
		return ".voip-ptt", true
	}
	return "", false
}

// isUUID reports whether s is a canonical 8-4-4-4-12 hex UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
