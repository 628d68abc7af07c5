package oppo

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/herald-push/herald/vendors/simkit"
)

// simMessage is one message as the simulator decodes it: pointers tell
// absent fields from zero ones.
type simMessage struct {
	TargetType   *int             `json:"target_type"`
	TargetValue  string           `json:"target_value"`
	Notification *simNotification `json:"notification"`

	raw json.RawMessage
}

// simNotification is the notification object with every field the
// simulator checks.
type simNotification struct {
	AppMessageID     string  `json:"app_message_id"`
	Style            *int    `json:"style"`
	Title            *string `json:"title"`
	Content          *string `json:"content"`
	ClickActionType  *int    `json:"click_action_type"`
	ActionParameters *string `json:"action_parameters"`
	OffLineTTL       *int    `json:"off_line_ttl"`
	ChannelID        string  `json:"channel_id"`
	Category         string  `json:"category"`
	NotifyLevel      *int    `json:"notify_level"`
	NotifyID         *int    `json:"notify_id"`
}

// simBatchItem is one entry of the unicast_batch answer.
type simBatchItem struct {
	MessageID      string `json:"messageId"`
	RegistrationID string `json:"registrationId"`
	ErrorCode      int    `json:"errorCode,omitempty"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
}

// decodeSimMessages parses the "message" (single) or "messages" (batch) field.
func decodeSimMessages(field string, batch bool) ([]simMessage, error) {
	var raws []json.RawMessage
	if batch {
		if err := json.Unmarshal([]byte(field), &raws); err != nil {
			return nil, fmt.Errorf("messages is not a JSON array: %w", err)
		}
	} else {
		raws = []json.RawMessage{json.RawMessage(field)}
	}
	msgs := make([]simMessage, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &msgs[i]); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		msgs[i].raw = raw
	}
	return msgs, nil
}

// serveSend is POST unicast (form auth_token, message) and unicast_batch
// (form auth_token, messages). Checks run in this order: auth token (29,
// 11), message syntax (40, 41), QPS (-2), an unavailable- target (-1 for
// the whole request), message fields (40, 41, 67), daily quota (33); then
// each message is accepted or, for an unregistered- target, answered 10000.
func (s *Simulator) serveSend(w http.ResponseWriter, r *http.Request, batch bool) {
	s.rec.Request(vendorName)
	if r.Method != http.MethodPost {
		replyCode(w, codeHTTPActionNotAllowed, "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	if err := r.ParseForm(); err != nil {
		replyCode(w, codeInvalidArguments, "unreadable form")
		return
	}
	fieldName := "message"
	if batch {
		fieldName = "messages"
	}
	field := r.PostForm.Get(fieldName)
	var msgs []simMessage
	var perr error
	if field != "" {
		msgs, perr = decodeSimMessages(field, batch)
	}
	fail := func(code int, detail string) {
		s.rec.Rejected(vendorName, len(msgs))
		replyCode(w, code, detail)
	}
	tok := r.PostForm.Get("auth_token")
	switch {
	case tok == "":
		fail(codeMissingAuthToken, "")
		return
	case !s.validToken(tok):
		fail(codeInvalidAuthToken, "")
		return
	case field == "":
		fail(codeMissingArguments, fieldName)
		return
	case perr != nil:
		fail(codeInvalidArguments, perr.Error())
		return
	case len(msgs) == 0:
		fail(codeMissingArguments, "messages is empty")
		return
	case len(msgs) > maxBatch:
		fail(codeInvalidArguments, fmt.Sprintf("messages holds %d messages, at most %d", len(msgs), maxBatch))
		return
	case !s.gate.AllowRequest():
		fail(codeFlowControl, "")
		return
	}
	for _, m := range msgs {
		if simkit.Script(m.TargetValue) == simkit.Unavailable {
			fail(codeUnavailable, "")
			return
		}
	}
	valid := 0
	for i := range msgs {
		if code, detail := validateMessage(&msgs[i]); code != codeSuccess {
			if batch {
				detail = fmt.Sprintf("message %d: %s", i, detail)
			}
			fail(code, detail)
			return
		}
		if simkit.Script(msgs[i].TargetValue) != simkit.Unregistered {
			valid++
		}
	}
	if !s.gate.TakeQuota(valid) {
		fail(codeDailyLimit, "")
		return
	}
	items := make([]simBatchItem, len(msgs))
	for i := range msgs {
		items[i] = s.deliver(&msgs[i])
	}
	if batch {
		reply(w, codeSuccess, "Success", items)
		return
	}
	if it := items[0]; it.ErrorCode != 0 {
		reply(w, it.ErrorCode, it.ErrorMessage, nil)
		return
	}
	reply(w, codeSuccess, "Success", map[string]string{"messageId": items[0].MessageID})
}

// deliver accepts one valid message, or answers 10000 for an unregistered-
// target, and counts it.
func (s *Simulator) deliver(m *simMessage) simBatchItem {
	if simkit.Script(m.TargetValue) == simkit.Unregistered {
		s.rec.Rejected(vendorName, 1)
		_, text := describe(codeInvalidRegID)
		return simBatchItem{RegistrationID: m.TargetValue, ErrorCode: codeInvalidRegID, ErrorMessage: text}
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("%s-1-1-%024x", s.appKey, s.seq)
	s.mu.Unlock()
	n := m.Notification
	msgID := messageIDOf(n.ActionParameters)
	s.rec.Accepted(vendorName, msgID, m.TargetValue)
	level := 0
	if n.NotifyLevel != nil {
		level = *n.NotifyLevel
	}
	s.record(Received{RegID: m.TargetValue, MessageID: msgID, ChannelID: n.ChannelID,
		Category: n.Category, NotifyLevel: level, Message: m.raw})
	return simBatchItem{MessageID: id, RegistrationID: m.TargetValue}
}

// messageIDOf reads message_id from action_parameters ("" when absent).
func messageIDOf(params *string) string {
	if params == nil || *params == "" {
		return ""
	}
	var m map[string]any
	if json.Unmarshal([]byte(*params), &m) != nil {
		return ""
	}
	id, _ := m[dataMessageID].(string)
	return id
}
