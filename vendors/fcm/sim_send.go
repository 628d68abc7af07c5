package fcm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

// Wire limits the simulator enforces besides maxPayloadBytes (check.go).
// Both payload limits are on the same measure: the bytes of the data keys
// and values plus every notification title and body the message carries
// (message.notification, android.notification, webpush.notification).
const (
	maxTopicPayloadBytes = 2048 // topic and condition targets
	maxSendBody          = 1 << 20
)

var (
	ttlPattern   = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?s$`)
	topicPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	regToken     = regexp.MustCompile(`^[A-Za-z0-9_:.\-]+$`)
	fcmTopicName = regexp.MustCompile(`^[a-zA-Z0-9-_.~%]{1,900}$`)
)

// sendRequest is the messages:send body; unknown fields are refused like
// Google does.
type sendRequest struct {
	ValidateOnly bool            `json:"validate_only"`
	Message      json.RawMessage `json:"message"`
}

// wireMessage is the top level of an FCM v1 Message.
type wireMessage struct {
	Name         string          `json:"name"`
	Data         json.RawMessage `json:"data"`
	Notification json.RawMessage `json:"notification"`
	Android      json.RawMessage `json:"android"`
	Webpush      json.RawMessage `json:"webpush"`
	APNS         json.RawMessage `json:"apns"`
	FCMOptions   json.RawMessage `json:"fcm_options"`
	Token        string          `json:"token"`
	Topic        string          `json:"topic"`
	Condition    string          `json:"condition"`
}

type wireAndroid struct {
	Priority     string `json:"priority"`
	TTL          string `json:"ttl"`
	CollapseKey  string `json:"collapse_key"`
	Notification *struct {
		wireText
		ChannelID string `json:"channel_id"`
	} `json:"notification"`
}

// wireText is the title and body of any of a message's notification
// blocks (their other fields are ignored here).
type wireText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (t wireText) size() int { return len(t.Title) + len(t.Body) }

// textOf is the title and body of a notification block; zero for none or
// one that is not an object.
func textOf(raw json.RawMessage) wireText {
	var t wireText
	if !isNull(raw) {
		_ = json.Unmarshal(raw, &t)
	}
	return t
}

type wireWebpush struct {
	Headers      map[string]string `json:"headers"`
	Notification json.RawMessage   `json:"notification"`
}

// serveSend is POST /v1/projects/{project}/messages:send.
func (s *Simulator) serveSend(w http.ResponseWriter, r *http.Request) {
	s.rec.Request(s.name)
	if f, ok := s.admit(w, r); !ok {
		if f != nil {
			writeFault(w, *f)
		}
		s.rec.Rejected(s.name, 1)
		return
	}
	req, m, rc, f := s.decode(w, r)
	if f != nil {
		writeFault(w, *f)
		s.rec.Rejected(s.name, 1)
		return
	}
	target := m.Token
	if target == "" {
		target = "/topics/" + m.Topic
		if m.Condition != "" {
			target = m.Condition
		}
	}
	if f := scripted(m.Token); f != nil {
		writeFault(w, *f)
		s.rec.Rejected(s.name, 1)
		return
	}
	if req.ValidateOnly {
		writeJSON(w, http.StatusOK, map[string]string{"name": "projects/" + s.project + "/messages/fake_message_id"})
		return
	}
	if !s.gate.TakeQuota(1) {
		writeFault(w, fault{httpStatus: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", fcmCode: "QUOTA_EXCEEDED",
			message: "Daily message quota exceeded for project " + s.project + ".", retryAfter: untilUTCMidnight(s.now())})
		s.rec.Rejected(s.name, 1)
		return
	}
	rc.Token = target
	s.rec.Accepted(s.name, rc.MessageID, target)
	s.record(rc)
	now := s.now()
	writeJSON(w, http.StatusOK, map[string]string{
		"name": fmt.Sprintf("projects/%s/messages/0:%d%%%08x", s.project, now.UnixMicro(), s.seq.Add(1)),
	})
}

// admit runs the checks before the body: auth, project, QPS. A nil fault
// with false means authorize already answered.
func (s *Simulator) admit(w http.ResponseWriter, r *http.Request) (*fault, bool) {
	if !s.authorize(w, r) {
		return nil, false
	}
	if p := r.PathValue("project"); p != s.project {
		return &fault{httpStatus: http.StatusForbidden, status: "PERMISSION_DENIED", reason: "IAM_PERMISSION_DENIED",
			message: "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/" + p + "' (or it may not exist)."}, false
	}
	if !s.gate.AllowRequest() {
		return &fault{httpStatus: http.StatusTooManyRequests, status: "RESOURCE_EXHAUSTED", fcmCode: "QUOTA_EXCEEDED", reason: "RATE_LIMIT_EXCEEDED",
			message:    "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com' for consumer 'project_number:" + s.project + "'.",
			retryAfter: s.qpsWait()}, false
	}
	return nil, true
}

// qpsWait is how long until the QPS bucket holds a request again.
func (s *Simulator) qpsWait() time.Duration {
	s.mu.Lock()
	qps := s.limits.QPS
	s.mu.Unlock()
	if qps <= 0 {
		return time.Second
	}
	return time.Duration(max(1, math.Ceil(1/qps))) * time.Second
}

// scripted is the token script's answer, nil for a normal token.
func scripted(token string) *fault {
	switch {
	case simkit.Script(token) == simkit.Unregistered:
		return &fault{httpStatus: http.StatusNotFound, status: "NOT_FOUND", fcmCode: "UNREGISTERED", message: "Requested entity was not found."}
	case simkit.Script(token) == simkit.Unavailable:
		return &fault{httpStatus: http.StatusServiceUnavailable, status: "UNAVAILABLE", fcmCode: "UNAVAILABLE", message: "The service is currently unavailable."}
	case strings.HasPrefix(token, PrefixOtherSender):
		return &fault{httpStatus: http.StatusForbidden, status: "PERMISSION_DENIED", fcmCode: "SENDER_ID_MISMATCH", message: "SenderId mismatch"}
	}
	return nil
}

// decode parses and validates the body the way FCM does, returning the
// request, its message and what Received records.
func (s *Simulator) decode(w http.ResponseWriter, r *http.Request) (sendRequest, wireMessage, Received, *fault) {
	var req sendRequest
	var m wireMessage
	var rc Received
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return req, m, rc, badRequest("", "", "Invalid Content-Type "+strconv.Quote(ct)+"; expected application/json.")
	}
	if err := strictDecode(http.MaxBytesReader(w, r.Body, maxSendBody), &req); err != nil {
		return req, m, rc, badRequest("", "", "Invalid JSON payload received. "+err.Error())
	}
	if len(req.Message) == 0 || bytes.Equal(req.Message, []byte("null")) {
		return req, m, rc, badRequest("", "message", "Request contains an invalid argument.")
	}
	if err := strictDecode(bytes.NewReader(req.Message), &m); err != nil {
		return req, m, rc, badRequest("", "message", "Invalid JSON payload received. "+err.Error())
	}
	rc.Message = append(json.RawMessage(nil), req.Message...)
	if f := checkTarget(m); f != nil {
		return req, m, rc, f
	}
	data, size, f := checkData(m.Data)
	if f != nil {
		return req, m, rc, f
	}
	size += textOf(m.Notification).size()
	rc.MessageID = data[DataKeyMessageID]
	rc.DataOnly = isNull(m.Notification)
	if !isNull(m.Android) {
		var a wireAndroid
		if json.Unmarshal(m.Android, &a) != nil {
			return req, m, rc, badRequest("", "message.android", "Invalid value at 'message.android'.")
		}
		switch p := strings.ToUpper(a.Priority); p {
		case "", "NORMAL", "HIGH":
			rc.AndroidPriority = p
		default:
			return req, m, rc, badRequest("INVALID_ARGUMENT", "message.android.priority", "Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), \""+a.Priority+"\"")
		}
		if a.TTL != "" && !validTTL(a.TTL) {
			return req, m, rc, badRequest("INVALID_ARGUMENT", "message.android.ttl", "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), \""+a.TTL+"\"")
		}
		if a.Notification != nil {
			rc.DataOnly = false
			rc.ChannelID = a.Notification.ChannelID
			size += a.Notification.size()
		}
	}
	if !isNull(m.Webpush) {
		var wp wireWebpush
		if json.Unmarshal(m.Webpush, &wp) != nil {
			return req, m, rc, badRequest("", "message.webpush", "Invalid value at 'message.webpush'.")
		}
		if f := checkWebHeaders(wp.Headers); f != nil {
			return req, m, rc, f
		}
		rc.WebUrgency = wp.Headers["Urgency"]
		if !isNull(wp.Notification) {
			rc.DataOnly = false
			size += textOf(wp.Notification).size()
		}
	}
	if f := checkPayloadSize(size, m.Token == ""); f != nil {
		return req, m, rc, f
	}
	return req, m, rc, nil
}

func checkTarget(m wireMessage) *fault {
	n := 0
	for _, t := range []string{m.Token, m.Topic, m.Condition} {
		if t != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return badRequest("INVALID_ARGUMENT", "message", "Exactly one of token, topic or condition must be specified.")
	case m.Token != "" && (len(m.Token) > 4096 || !regToken.MatchString(m.Token)):
		return badRequest("INVALID_ARGUMENT", "", "The registration token is not a valid FCM registration token")
	case m.Topic != "" && !fcmTopicName.MatchString(m.Topic):
		return badRequest("INVALID_ARGUMENT", "message.topic", "Invalid topic name: "+m.Topic)
	}
	return nil
}

// checkData enforces string values and reserved keys; it returns the
// data and the bytes of its keys and values.
func checkData(raw json.RawMessage) (map[string]string, int, *fault) {
	if isNull(raw) {
		return nil, 0, nil
	}
	var vals map[string]json.RawMessage
	if json.Unmarshal(raw, &vals) != nil {
		return nil, 0, badRequest("", "message.data", "Invalid value at 'message.data': expected an object of strings.")
	}
	data := make(map[string]string, len(vals))
	size := 0
	for k, v := range vals {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil, 0, badRequest("", "message.data["+k+"].value", "Invalid value at 'message.data[0].value' (TYPE_STRING), "+string(v))
		}
		if reservedDataKey(k) {
			return nil, 0, badRequest("INVALID_ARGUMENT", "message.data", "Invalid data payload key: "+k)
		}
		data[k] = s
		size += len(k) + len(s)
	}
	return data, size, nil
}

// checkPayloadSize refuses a payload of size bytes over the limit for the
// message's target.
func checkPayloadSize(size int, broadcast bool) *fault {
	limit := maxPayloadBytes
	if broadcast {
		limit = maxTopicPayloadBytes
	}
	if size > limit {
		return badRequest("INVALID_ARGUMENT", "message", "Message is too big: the payload is "+strconv.Itoa(size)+" bytes, the limit is "+strconv.Itoa(limit)+".")
	}
	return nil
}

func checkWebHeaders(h map[string]string) *fault {
	if u, ok := h["Urgency"]; ok {
		switch u {
		case "very-low", "low", "normal", "high":
		default:
			return badRequest("INVALID_ARGUMENT", "message.webpush.headers", "Invalid Urgency header: "+u)
		}
	}
	if t, ok := h["Topic"]; ok && !topicPattern.MatchString(t) {
		return badRequest("INVALID_ARGUMENT", "message.webpush.headers", "Invalid Topic header: at most 32 characters of the URL-safe base64 alphabet.")
	}
	if t, ok := h["TTL"]; ok {
		if v, err := strconv.ParseInt(t, 10, 64); err != nil || v < 0 {
			return badRequest("INVALID_ARGUMENT", "message.webpush.headers", "Invalid TTL header: "+t)
		}
	}
	return nil
}

func validTTL(s string) bool {
	if !ttlPattern.MatchString(s) {
		return false
	}
	secs, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	return err == nil && secs <= maxTTL.Seconds()
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// untilUTCMidnight is when a daily quota refills.
func untilUTCMidnight(now time.Time) time.Duration {
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return next.Sub(now)
}
