package vivo

import (
	"unicode/utf8"

	"github.com/herald-push/herald/vendors/internal/flexjson"
)

// wireMessage is a /message/send or /message/saveListPayload body as the
// simulator decodes it. Integers also accept numeric strings, as vivo's own
// examples send "networkType":"1" (flexjson.Int); appId is a number or a
// string, anything else reading as none.
type wireMessage struct {
	AppID           flexjson.LaxString `json:"appId"`
	RegID           string             `json:"regId"`
	Alias           string             `json:"alias"`
	NotifyType      flexjson.Int       `json:"notifyType"`
	Title           string             `json:"title"`
	Content         string             `json:"content"`
	TimeToLive      flexjson.Int       `json:"timeToLive"`
	SkipType        flexjson.Int       `json:"skipType"`
	SkipContent     string             `json:"skipContent"`
	NetworkType     flexjson.Int       `json:"networkType"`
	Classification  flexjson.Int       `json:"classification"`
	Category        string             `json:"category"`
	NotifyID        flexjson.Int       `json:"notifyId"`
	ClientCustomMap map[string]string  `json:"clientCustomMap"`
	Extra           map[string]string  `json:"extra"`
	RequestID       string             `json:"requestId"`
	PushMode        flexjson.Int       `json:"pushMode"`
}

// wireList is a /message/pushToList body.
type wireList struct {
	AppID     flexjson.LaxString `json:"appId"`
	RegIDs    []string           `json:"regIds"`
	TaskID    flexjson.String    `json:"taskId"`
	RequestID string             `json:"requestId"`
}

func (m *wireMessage) classification() int { return m.Classification.N }

func (m *wireMessage) target() string {
	if m.RegID != "" {
		return m.RegID
	}
	return m.Alias
}

// checkApp validates the body's appId against the simulator's app.
func (s *Simulator) checkApp(id flexjson.LaxString) (int, string) {
	switch {
	case id == "":
		return codeParamInvalid, "appId 不能为空"
	case string(id) != s.appID:
		return codeAppMismatch, "appId 与鉴权信息不一致"
	}
	return codeOK, ""
}

// validate checks a message body the way vivo does; it returns codeOK or
// the failing code and its desc.
func (s *Simulator) validate(m *wireMessage, needTarget bool) (int, string) {
	if code, desc := s.checkApp(m.AppID); code != codeOK {
		return code, desc
	}
	switch {
	case needTarget && m.target() == "":
		return codeParamInvalid, "alias和regId 不能都为空"
	case !inRange(m.NotifyType, 1, 4, false):
		return codeParamInvalid, "notifyType 不合法"
	case m.Title == "":
		return codeParamInvalid, "title 不能为空"
	case textWidth(m.Title) > maxTitleWidth:
		return codeParamInvalid, "title 长度超出限制"
	case m.Content == "":
		return codeParamInvalid, "content 不能为空"
	case textWidth(m.Content) > maxContentWidth:
		return codeParamInvalid, "content 长度超出限制"
	case !inRange(m.TimeToLive, minTTLSeconds, maxTTLSeconds, true):
		return codeParamInvalid, "timeToLive 不合法"
	case !inRange(m.SkipType, 1, 4, false):
		return codeParamInvalid, "skipType 不合法"
	case m.SkipType.N != 1 && m.SkipContent == "":
		return codeParamInvalid, "skipContent 不能为空"
	case m.NetworkType.Set && m.NetworkType.N != -1 && m.NetworkType.N != 1:
		return codeParamInvalid, "networkType 不合法"
	case !inRange(m.Classification, 0, 1, true):
		return codeParamInvalid, "classification 不合法"
	case !inRange(m.PushMode, 0, 1, true):
		return codeParamInvalid, "pushMode 不合法"
	case m.RequestID == "":
		return codeParamInvalid, "requestId 不能为空"
	case len(m.RequestID) > maxRequestIDLen:
		return codeParamInvalid, "requestId 长度超出限制"
	}
	if !customMapOK(m.ClientCustomMap) {
		return codeParamInvalid, "clientCustomMap 不合法"
	}
	switch {
	case utf8.RuneCountInString(m.Extra[extraCallback]) > maxCallback:
		return codeParamInvalid, "extra.callback 长度超出限制"
	case utf8.RuneCountInString(m.Extra[extraCallbackParam]) > maxCallbackParam:
		return codeParamInvalid, "extra.callback.param 长度超出限制"
	}
	if m.Category != "" {
		class, known := classificationOf(m.Category)
		if !known {
			return codeCategoryInvalid, "category 不合法"
		}
		if class != m.classification() {
			return codeCategoryMismatch, "category 与 classification 不匹配"
		}
	}
	return codeOK, ""
}

// validateList checks a pushToList body (the taskId is checked by the
// caller).
func (s *Simulator) validateList(l *wireList) (int, string) {
	if code, desc := s.checkApp(l.AppID); code != codeOK {
		return code, desc
	}
	switch {
	case len(l.RegIDs) < minListTargets || len(l.RegIDs) > maxBatch:
		return codeParamInvalid, "regIds 个数必须大于等于2,小于等于1000"
	case l.TaskID == "":
		return codeParamInvalid, "taskId 不能为空"
	case l.RequestID == "":
		return codeParamInvalid, "requestId 不能为空"
	case len(l.RequestID) > maxRequestIDLen:
		return codeParamInvalid, "requestId 长度超出限制"
	}
	for _, id := range l.RegIDs {
		if id == "" {
			return codeParamInvalid, "regIds 不合法"
		}
	}
	return codeOK, ""
}

// inRange reports whether v is set and within [lo, hi]; an unset v passes
// only when optional.
func inRange(v flexjson.Int, lo, hi int, optional bool) bool {
	if !v.Set {
		return optional
	}
	return v.N >= lo && v.N <= hi
}

// customMapOK applies vivo's clientCustomMap limits: at most 10 pairs and
// 1024 characters of keys and values together.
func customMapOK(m map[string]string) bool {
	if len(m) > maxCustomPairs {
		return false
	}
	n := 0
	for k, v := range m {
		if k == "" {
			return false
		}
		n += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
	}
	return n <= maxCustomChars
}
