package xiaomi

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseSimRequest reads a /v3/message/regid form once: what the log and
// the Recorder need, and the message parameters check holds to the rules.
func (s *Simulator) parseSimRequest(form url.Values, regIDs []string) (Received, simParams) {
	p := formParams(form)
	r := Received{
		RegIDs:      regIDs,
		MessageID:   p.messageID,
		ChannelID:   p.channelID,
		PassThrough: p.passThrough.text == "1",
		Form:        form,
	}
	if r.MessageID == "" && p.payload != "" {
		d, _ := s.decoders.Get().(*simDecoder)
		if d == nil { // a Simulator not made by NewSimulator (tests)
			d = newSimDecoder()
		}
		r.MessageID = d.payloadMessageID(p.payload)
		s.decoders.Put(d)
	}
	return r, p
}

// simParams is one message's parameters as the simulator checks them,
// read from the form of /v3/message/regid (formParams) or from one message
// object of /v2/multi_messages/regids (simDecoder), so that both endpoints
// hold a message to the same rules.
type simParams struct {
	pkg, title, description, payload string

	passThrough, notifyType, notifyID, timeToLive, timeToSend simNum

	channelID, messageID string // extra.channel_id, extra.message_id

	callback, callbackParam, callbackType string // extra.callback, .callback.param, .callback.type
	customExtras                          int    // extra.* keys but channel_id and MiPush's predefined ones
	longExtra                             string // the first custom extra whose key or value is over maxExtraLen
	illegal                               string // a value of a type the field cannot take, named (10017)
}

// simNum is an optional integer parameter.
type simNum struct {
	set, ok bool   // present; an integer
	n       int64  // its value when ok
	text    string // as sent, when it was text (or a JSON number not written as strconv would, -0)
}

func (v simNum) String() string {
	if v.text != "" || !v.ok {
		return v.text
	}
	return strconv.FormatInt(v.n, 10)
}

// numFromText reads an integer parameter sent as text ("" = absent).
func numFromText(s string) simNum {
	if s == "" {
		return simNum{}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return simNum{set: true, ok: err == nil, n: n, text: s}
}

// addExtra records extra.<name>=value.
func (p *simParams) addExtra(name, value string) {
	switch name {
	case "channel_id":
		p.channelID = value
		return
	case messageIDKey:
		p.messageID = value
	case "callback":
		p.callback = value
	case "callback.param":
		p.callbackParam = value
	case "callback.type":
		p.callbackType = value
	}
	if reservedExtra(name) {
		return
	}
	p.customExtras++
	if p.longExtra == "" && (utf8.RuneCountInString(name) > maxExtraLen || utf8.RuneCountInString(value) > maxExtraLen) {
		p.longExtra = name
	}
}

// formParams reads the message parameters of a /v3/message/regid form.
func formParams(form url.Values) simParams {
	p := simParams{
		pkg:         form.Get("restricted_package_name"),
		title:       form.Get("title"),
		description: form.Get("description"),
		payload:     form.Get("payload"),
		passThrough: numFromText(form.Get("pass_through")),
		notifyType:  numFromText(form.Get("notify_type")),
		notifyID:    numFromText(form.Get("notify_id")),
		timeToLive:  numFromText(form.Get("time_to_live")),
		timeToSend:  numFromText(form.Get("time_to_send")),
	}
	for k, vs := range form {
		if name, ok := strings.CutPrefix(k, "extra."); ok {
			p.addExtra(name, vs[0])
		}
	}
	return p
}

// check validates a /v3/message/regid request the way MiPush does; nil =
// valid.
func (s *Simulator) check(req Received, p *simParams) *simError {
	switch {
	case len(req.RegIDs) == 0:
		return missing("registration_id")
	case len(req.RegIDs) > MaxBatch:
		return illegal("registration_id holds %d ids, at most %d", len(req.RegIDs), MaxBatch)
	}
	for _, id := range req.RegIDs {
		if !plausibleRegID(id) {
			return illegal("registration_id holds a malformed id %q", truncate(id, 40))
		}
	}
	return s.checkParams(p)
}

func missing(name string) *simError {
	return simErr(CodeMissingParam, "Missing required parameter: "+name, "缺失必选参数")
}

func illegal(format string, args ...any) *simError {
	return simErr(CodeIllegalParam, "Illegal parameter: "+fmt.Sprintf(format, args...), "非法参数")
}

// checkParams validates one message's parameters; nil = valid.
func (s *Simulator) checkParams(p *simParams) *simError {
	if p.illegal != "" {
		return illegal("%s", p.illegal)
	}
	if p.pkg == "" {
		return missing("restricted_package_name")
	}
	for pkg := range strings.SplitSeq(p.pkg, ",") {
		if pkg != s.pkg {
			return simErr(CodeBadPackage, "Invalid package name: "+truncate(pkg, 100), "包名非法")
		}
	}
	switch pt := p.passThrough; {
	case pt.set && (!pt.ok || (pt.n != 0 && pt.n != 1) || (pt.text != "" && pt.text != "0" && pt.text != "1")):
		// Exactly 0 or 1, a number or its text, on both endpoints: not
		// "01", "+1" or "-0".
		return illegal("pass_through must be 0 or 1")
	case pt.set && pt.n == 1:
		if p.payload == "" {
			return missing("payload")
		}
	default:
		if e := checkText(p.title, "title", maxTitle); e != nil {
			return e
		}
		if e := checkText(p.description, "description", maxDescription); e != nil {
			return e
		}
	}
	if p.channelID != "" && s.channels != nil && !s.channels[p.channelID] {
		return simErr(CodeChannelMismatch, "channel info mismatch: "+truncate(p.channelID, 100), "通道信息不匹配")
	}
	if e := checkInts(p); e != nil {
		return e
	}
	if n := utf8.RuneCountInString(p.payload); n > maxPayload {
		// MiPush: payload "长度小于4K, 中英文均以一个计算"; the code is [U].
		return illegal("payload is %d characters, must be under %d", n, maxPayload+1)
	}
	switch {
	case p.longExtra != "":
		return illegal("extra.%s is longer than %d characters", truncate(p.longExtra, 40), maxExtraLen)
	case p.customExtras > maxCustomExtras:
		return illegal("%d custom extras, at most %d", p.customExtras, maxCustomExtras)
	}
	return nil
}

// checkText checks a required notification text shorter than limit+1.
func checkText(v, name string, limit int) *simError {
	if strings.TrimSpace(v) == "" {
		return missing(name)
	}
	if n := utf8.RuneCountInString(v); n > limit {
		return illegal("%s is %d characters, must be under %d", name, n, limit+1)
	}
	return nil
}

// checkInts checks the optional integer parameters.
func checkInts(p *simParams) *simError {
	if v := p.notifyType; v.set && (!v.ok || v.n < -1 || v.n > 7 || v.n == 0) {
		return illegal("notify_type %q", truncate(v.String(), 20))
	}
	if v := p.notifyID; v.set && (!v.ok || v.n < 0 || v.n > 1<<31-1) {
		return illegal("notify_id %q", truncate(v.String(), 20))
	}
	for _, f := range []struct {
		name string
		v    simNum
	}{{"time_to_live", p.timeToLive}, {"time_to_send", p.timeToSend}} {
		if f.v.set && (!f.v.ok || f.v.n < 0) {
			return illegal("%s %q", f.name, truncate(f.v.String(), 20))
		}
	}
	return nil
}
