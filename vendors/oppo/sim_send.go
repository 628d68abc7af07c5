package oppo

import (
	"fmt"
	"net/http"

	"github.com/herald-push/herald/vendors/simkit"
	"github.com/valyala/fastjson"
)

// simMessage is one message as the simulator decodes it: pointers tell
// absent fields from zero ones. The tags name the wire keys: simDecoder
// reads them, and a test holds it to what encoding/json reads into these
// types.
type simMessage struct {
	TargetType   *int             `json:"target_type"`
	TargetValue  string           `json:"target_value"`
	Notification *simNotification `json:"notification"`
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
	CallBackURL      string  `json:"call_back_url"`
	CallBackParam    string  `json:"call_back_parameter"`

	params paramsInfo // read from ActionParameters
}

// simBatchItem is one entry of the unicast_batch answer.
type simBatchItem struct {
	MessageID      string `json:"messageId"`
	RegistrationID string `json:"registrationId"`
	ErrorCode      int    `json:"errorCode,omitempty"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
}

// simDecoder reads one request: its form, then its messages. The
// messages are read with fastjson, several times faster than encoding/json
// on a 1000-message batch, so that a fan-out's floor is not the
// simulator's decoding; the field rules are encoding/json's for the
// simMessage types (null leaves a field absent, a wrong type is an error,
// unknown keys are ignored), except that a key matches only in its own
// case. Decoders are pooled (Simulator.decoders) and keep their buffers.
type simDecoder struct {
	form       simForm
	p, params  fastjson.Parser
	lastParams string
	last       paramsInfo
	strs       map[string]*string // the last value of each field, to share
	nums       map[string]*int
}

// paramsInfo is what the simulator reads from action_parameters.
type paramsInfo struct {
	object    bool   // a JSON object, as OPPO requires
	messageID string // its "message_id" string, "" when absent
}

// decode parses the "message" (single) or "messages" (batch) field.
func (d *simDecoder) decode(field []byte, batch bool) ([]simMessage, error) {
	v, err := d.p.ParseBytes(field)
	if err != nil {
		if batch {
			return nil, fmt.Errorf("messages is not a JSON array: %w", err)
		}
		return nil, err
	}
	vals := []*fastjson.Value{v}
	if batch && v.Type() == fastjson.TypeNull {
		vals = nil // as encoding/json reads null into a slice
	} else if batch {
		if vals, err = v.Array(); err != nil {
			return nil, fmt.Errorf("messages is not a JSON array: %w", err)
		}
	}
	msgs := make([]simMessage, len(vals))
	for i, mv := range vals {
		if err := d.fill(&msgs[i], mv); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return msgs, nil
}

// paramsOf reads action_parameters, from the memo when it repeats the
// previous message's.
func (d *simDecoder) paramsOf(s string) paramsInfo {
	if s == d.lastParams && s != "" {
		return d.last
	}
	var info paramsInfo
	if v, err := d.params.Parse(s); err == nil && v.Type() == fastjson.TypeObject {
		info.object = true
		if id := v.Get(dataMessageID); id != nil && id.Type() == fastjson.TypeString {
			info.messageID = string(id.GetStringBytes())
		}
	}
	d.lastParams, d.last = s, info
	return info
}

// fill sets m from the JSON object v (null leaves m empty).
func (d *simDecoder) fill(m *simMessage, v *fastjson.Value) error {
	o, err := object(v, "message")
	if o == nil {
		return err
	}
	if m.TargetType, err = d.optInt(o, "target_type"); err != nil {
		return err
	}
	if m.TargetValue, err = d.optString(o, "target_value"); err != nil {
		return err
	}
	nv := o.Get("notification")
	if nv == nil || nv.Type() == fastjson.TypeNull {
		return nil
	}
	no, err := object(nv, "notification")
	if err != nil {
		return err
	}
	n := &simNotification{}
	m.Notification = n
	if err := readFields(no, d.optInt, field[*int]{"style", &n.Style}, field[*int]{"click_action_type", &n.ClickActionType},
		field[*int]{"off_line_ttl", &n.OffLineTTL}, field[*int]{"notify_level", &n.NotifyLevel}, field[*int]{"notify_id", &n.NotifyID}); err != nil {
		return err
	}
	if err := readFields(no, d.optStringPtr, field[*string]{"title", &n.Title}, field[*string]{"content", &n.Content},
		field[*string]{"action_parameters", &n.ActionParameters}); err != nil {
		return err
	}
	if err := readFields(no, d.optString, field[string]{"app_message_id", &n.AppMessageID}, field[string]{"channel_id", &n.ChannelID},
		field[string]{"category", &n.Category},
		field[string]{"call_back_url", &n.CallBackURL}, field[string]{"call_back_parameter", &n.CallBackParam}); err != nil {
		return err
	}
	if n.ActionParameters != nil && *n.ActionParameters != "" {
		n.params = d.paramsOf(*n.ActionParameters)
	}
	return nil
}

// field is a notification key and where its value goes.
type field[T any] struct {
	key string
	dst *T
}

// readFields reads each field of o with get; the first error stops it.
func readFields[T any](o *fastjson.Object, get func(*fastjson.Object, string) (T, error), fields ...field[T]) error {
	for _, f := range fields {
		v, err := get(o, f.key)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

// object is v as an object; nil and no error for null.
func object(v *fastjson.Value, what string) (*fastjson.Object, error) {
	if v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	o, err := v.Object()
	if err != nil {
		return nil, fmt.Errorf("%s is a JSON %s, not an object", what, v.Type())
	}
	return o, nil
}

// optInt is the integer under key, nil when absent or null.
func (d *simDecoder) optInt(o *fastjson.Object, key string) (*int, error) {
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	n, err := v.Int()
	if err != nil {
		return nil, fmt.Errorf("%s is not an integer", key)
	}
	return d.num(key, n), nil
}

// optStringPtr is the string under key, nil when absent or null.
func (d *simDecoder) optStringPtr(o *fastjson.Object, key string) (*string, error) {
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return nil, fmt.Errorf("%s is not a string", key)
	}
	return d.str(key, b), nil
}

// optString is the string under key, "" when absent or null.
func (d *simDecoder) optString(o *fastjson.Object, key string) (string, error) {
	p, err := d.optStringPtr(o, key)
	if p == nil {
		return "", err
	}
	return *p, nil
}

// str is b as a string, the same one the previous message had under key
// when they are equal: a batch's messages repeat every notification
// field, and decoded messages are never changed, so they may share it.
func (d *simDecoder) str(key string, b []byte) *string {
	if d.strs == nil {
		d.strs = make(map[string]*string, 16)
	}
	if last := d.strs[key]; last != nil && *last == string(b) {
		return last
	}
	s := string(b)
	d.strs[key] = &s
	return &s
}

// num is n, shared with the previous message's value under key like str.
func (d *simDecoder) num(key string, n int) *int {
	if d.nums == nil {
		d.nums = make(map[string]*int, 16)
	}
	if last := d.nums[key]; last != nil && *last == n {
		return last
	}
	p := &n
	d.nums[key] = p
	return p
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
	d, _ := s.decoders.Get().(*simDecoder)
	if d == nil {
		d = &simDecoder{}
	}
	defer s.decoders.Put(d)
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	if err := d.form.read(r); err != nil {
		replyCode(w, codeInvalidArguments, "unreadable form")
		return
	}
	fieldName := "message"
	if batch {
		fieldName = "messages"
	}
	field := d.form.getBytes(fieldName)
	var msgs []simMessage
	var perr error
	if len(field) > 0 {
		msgs, perr = d.decode(field, batch)
	}
	fail := func(code int, detail string) {
		s.rec.Rejected(vendorName, len(msgs))
		replyCode(w, code, detail)
	}
	tok := d.form.get("auth_token")
	switch {
	case tok == "":
		fail(codeMissingAuthToken, "")
		return
	case !s.validToken(tok):
		fail(codeInvalidAuthToken, "")
		return
	case len(field) == 0:
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
	items := s.deliver(msgs)
	s.postReceipts(msgs, items)
	if batch {
		replyBatch(w, items)
		return
	}
	if it := items[0]; it.ErrorCode != 0 {
		reply(w, it.ErrorCode, it.ErrorMessage, nil)
		return
	}
	reply(w, codeSuccess, "Success", map[string]string{"messageId": items[0].MessageID})
}

// deliver accepts each valid message, or answers 10000 for an
// unregistered- target, and counts it: ids and the Received ring under
// one hold of s.mu, the Recorder after it.
func (s *Simulator) deliver(msgs []simMessage) []simBatchItem {
	items := make([]simBatchItem, len(msgs))
	id := []byte(s.appKey + "-1-1-")
	prefix := len(id)
	s.mu.Lock()
	for i := range msgs {
		m := &msgs[i]
		if simkit.Script(m.TargetValue) == simkit.Unregistered {
			_, text := describe(codeInvalidRegID)
			items[i] = simBatchItem{RegistrationID: m.TargetValue, ErrorCode: codeInvalidRegID, ErrorMessage: text}
			continue
		}
		n := m.Notification
		level := 0
		if n.NotifyLevel != nil {
			level = *n.NotifyLevel
		}
		s.record(Received{RegID: m.TargetValue, MessageID: n.params.messageID, ChannelID: n.ChannelID,
			Category: n.Category, NotifyLevel: level})
		s.seq++
		id = appendHex24(id[:prefix], s.seq)
		items[i] = simBatchItem{MessageID: string(id), RegistrationID: m.TargetValue}
	}
	s.mu.Unlock()
	for i := range msgs {
		if items[i].ErrorCode != 0 {
			s.rec.Rejected(vendorName, 1)
		} else {
			s.rec.Accepted(vendorName, msgs[i].Notification.params.messageID, msgs[i].TargetValue)
		}
	}
	return items
}

// appendHex24 appends v as 24 lower-case hex digits, zero-padded.
func appendHex24(dst []byte, v uint64) []byte {
	var b [24]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = "0123456789abcdef"[v&0xf]
		v >>= 4
	}
	return append(dst, b[:]...)
}
