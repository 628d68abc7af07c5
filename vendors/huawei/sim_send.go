package huawei

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors/simkit"
)

var ttlPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?s$`)

// simRequest is the push request as the simulator decodes it.
type simRequest struct {
	ValidateOnly bool        `json:"validate_only"`
	Message      *simMessage `json:"message"`
}

type simMessage struct {
	Data         *string         `json:"data"`
	Notification json.RawMessage `json:"notification"`
	Android      *simAndroid     `json:"android"`
	Token        []string        `json:"token"`
}

type simAndroid struct {
	CollapseKey  *int     `json:"collapse_key"`
	Urgency      string   `json:"urgency"`
	Category     string   `json:"category"`
	TTL          string   `json:"ttl"`
	BiTag        string   `json:"bi_tag"`
	ReceiptID    string   `json:"receipt_id"`
	Data         *string  `json:"data"`
	Notification *simNote `json:"notification"`
}

type simNote struct {
	simText
	ChannelID   string `json:"channel_id"`
	ClickAction *struct {
		Type int `json:"type"`
	} `json:"click_action"`
}

// simText is the title and body of message.notification or
// android.notification.
type simText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// simAnswer is the push API's answer body.
type simAnswer struct {
	Code      string `json:"code"`
	Msg       string `json:"msg"`
	RequestID string `json:"requestId"`
}

// serveSend is POST /v1/{appId}/messages:send.
func (s *Simulator) serveSend(w http.ResponseWriter, r *http.Request) {
	s.rec.Request(vendorName)
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var req simRequest
	jsonErr := json.Unmarshal(body, &req)
	var tokens []string
	if jsonErr == nil && req.Message != nil {
		tokens = req.Message.Token
	}
	fail := func(status int, code, msg string) {
		s.rec.Rejected(vendorName, len(tokens))
		writeJSON(w, status, simAnswer{Code: code, Msg: msg, RequestID: s.requestID()})
	}
	known, live := s.tokenState(r)
	switch {
	case !known || r.PathValue("appId") != s.appID:
		fail(http.StatusUnauthorized, codeOAuthError, "Oauth authentication error")
		return
	case !live:
		fail(http.StatusUnauthorized, codeTokenExpired, "Oauth Token expired.")
		return
	case !s.gate.AllowRequest():
		s.flowControl(w, len(tokens), 0)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case readErr != nil:
		fail(http.StatusBadRequest, codeBodyTooLarge, "The message body size exceeds the default value")
		return
	case mt != "application/json":
		fail(http.StatusBadRequest, codeBadParam, "Content-Type must be application/json")
		return
	case jsonErr != nil || req.Message == nil:
		fail(http.StatusBadRequest, codeBadStructure, "Incorrect message structure")
		return
	case len(tokens) == 0 || len(tokens) > MaxBatch:
		fail(http.StatusBadRequest, codeTooManyTokens, "The number of tokens in the message body exceeds the default value")
		return
	}
	if raw, _ := json.Marshal(tokens); len(body)-len(raw) > maxBodyWithoutTokens {
		fail(http.StatusBadRequest, codeBodyTooLarge, "The message body size exceeds the default value")
		return
	}
	if code, msg := validate(req.Message); code != "" {
		fail(http.StatusBadRequest, code, msg)
		return
	}
	var ok, illegal []string
	for _, t := range tokens {
		switch simkit.Script(t) {
		case simkit.Unavailable:
			s.flowControl(w, len(tokens), 0)
			return
		case simkit.Unregistered:
			illegal = append(illegal, t)
		default:
			ok = append(ok, t)
		}
	}
	if len(ok) == 0 {
		fail(http.StatusBadRequest, codeAllInvalid, "All the tokens are invalid")
		return
	}
	if !s.gate.TakeQuota(len(ok)) {
		s.flowControl(w, len(tokens), untilUTCMidnight(s.now()))
		return
	}
	if req.ValidateOnly {
		writeJSON(w, http.StatusOK, simAnswer{Code: codeSuccess, Msg: "Success", RequestID: s.requestID()})
		return
	}
	rc := received(req.Message, ok, body)
	for _, t := range ok {
		s.rec.Accepted(vendorName, rc.MessageID, t)
	}
	s.record(rc)
	s.postReceipts(req.Message, ok)
	if len(illegal) == 0 {
		writeJSON(w, http.StatusOK, simAnswer{Code: codeSuccess, Msg: "Success", RequestID: s.requestID()})
		return
	}
	s.rec.Rejected(vendorName, len(illegal))
	msg, _ := json.Marshal(partialMsg{Success: len(ok), Failure: len(illegal), IllegalTokens: illegal})
	writeJSON(w, http.StatusOK, simAnswer{Code: codePartial, Msg: string(msg), RequestID: s.requestID()})
}

// flowControl answers Huawei's HTTP 503 flow control for n tokens; a
// positive wait adds a Retry-After header (the spent daily quota).
func (s *Simulator) flowControl(w http.ResponseWriter, n int, wait time.Duration) {
	s.rec.Rejected(vendorName, n)
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	}
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, "Service Unavailable: flow control\n")
}

// validate checks the message fields Huawei validates; it returns the
// result code and msg of the first problem, or "".
func validate(m *simMessage) (code, msg string) {
	a := m.Android
	if a == nil {
		a = &simAndroid{}
	}
	switch {
	case a.TTL != "" && !ttlPattern.MatchString(a.TTL):
		return codeBadParam, "android.ttl is malformed"
	case a.TTL != "" && ttlSeconds(a.TTL) > maxTTL.Seconds():
		return codeBadParam, "android.ttl exceeds 15 days"
	case a.Urgency != "" && a.Urgency != "HIGH" && a.Urgency != "NORMAL":
		return codeBadParam, "android.urgency must be HIGH or NORMAL"
	case a.CollapseKey != nil && (*a.CollapseKey < -1 || *a.CollapseKey > 100):
		return codeBadParam, "android.collapse_key must be in -1..100"
	case a.Category != "" && !categories[a.Category]:
		return codeBadParam, "android.category is invalid"
	case a.Notification != nil && (a.Notification.ClickAction == nil || a.Notification.ClickAction.Type < 1 || a.Notification.ClickAction.Type > 4):
		return codeBadParam, "android.notification.click_action is required"
	case isDataOnly(m) && payload(m) == "":
		return codeBadStructure, "Incorrect message structure: no notification and no data"
	case !isDataOnly(m) && !hasText(m):
		return codeBadStructure, "Illegal payload, a notification message needs a title and a body"
	}
	return "", ""
}

// hasText reports whether a notification message has a title and a body,
// each from android.notification or else message.notification (Huawei
// requires both, at least one of the two places setting each).
func hasText(m *simMessage) bool {
	var t simText
	if len(m.Notification) > 0 {
		_ = json.Unmarshal(m.Notification, &t)
	}
	if a := m.Android; a != nil && a.Notification != nil {
		if a.Notification.Title != "" {
			t.Title = a.Notification.Title
		}
		if a.Notification.Body != "" {
			t.Body = a.Notification.Body
		}
	}
	return !blank(t.Title) && !blank(t.Body)
}

func isDataOnly(m *simMessage) bool {
	hasNote := len(m.Notification) > 0 && string(m.Notification) != "null"
	return !hasNote && (m.Android == nil || m.Android.Notification == nil)
}

// payload is the custom data the app receives: android.data overrides
// message.data.
func payload(m *simMessage) string {
	if m.Android != nil && m.Android.Data != nil && *m.Android.Data != "" {
		return *m.Android.Data
	}
	if m.Data != nil {
		return *m.Data
	}
	return ""
}

// received builds the log entry for an accepted send.
func received(m *simMessage, ok []string, body []byte) Received {
	rc := Received{Tokens: ok, DataOnly: isDataOnly(m)}
	var data map[string]any
	if json.Unmarshal([]byte(payload(m)), &data) == nil {
		rc.MessageID, _ = data["message_id"].(string)
	}
	if a := m.Android; a != nil {
		rc.Category, rc.Urgency = a.Category, a.Urgency
		if a.Notification != nil {
			rc.ChannelID = a.Notification.ChannelID
		}
	}
	var whole struct {
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &whole) == nil {
		rc.Message = whole.Message
	}
	return rc
}

func ttlSeconds(s string) float64 {
	f, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil {
		return 0
	}
	return f
}

func untilUTCMidnight(now time.Time) time.Duration {
	u := now.UTC()
	next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return next.Sub(u)
}
