package xiaomi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/valyala/fastjson"
)

// serveMulti serves MultiPath: the form's one field "messages" is the JSON
// array [{"target":"<regid>","message":{…}},…]; each message carries the
// parameters of a /v3/message/regid form, its extras as a nested "extra"
// object, and is held to the same rules (checkParams). The request fails
// as a whole on the first problem, as MiPush answers one code per request;
// the message at fault is named in the reason.
func (s *Simulator) serveMulti(w http.ResponseWriter, r *http.Request) {
	s.rec.Request(vendorName)
	form, formErr := readForm(w, r)
	d := s.decoders.Get().(*simDecoder)
	defer s.decoders.Put(d)
	targets, n, decErr := d.decode(form.Get("messages"))
	if r.Header.Get("Authorization") != "key="+s.secret {
		s.fail(w, n, simErr(CodeAuthFailed, "Authentication failed for the appSecret", "认证失败"))
		return
	}
	if formErr != nil {
		s.fail(w, n, formErr)
		return
	}
	// The entry is small unless asked otherwise: the messages field can
	// run to megabytes, and the log keeps thousands of entries.
	var req Received
	if s.keepMulti {
		req.Form = form
	}
	if decErr == nil {
		req.RegIDs = make([]string, len(targets))
		req.Messages = make([]ReceivedMessage, len(targets))
		for i := range targets {
			t := &targets[i]
			req.RegIDs[i] = t.regID
			req.Messages[i] = ReceivedMessage{RegID: t.regID, MessageID: t.messageID,
				ChannelID: t.p.channelID, PassThrough: t.p.passThrough.ok && t.p.passThrough.n == 1}
		}
	}
	s.remember(req)
	if !s.gate.AllowRequest() {
		s.fail(w, n, simErr(CodeTooOften, "API called too often", "调用频率超出限制"))
		return
	}
	if decErr != nil {
		s.fail(w, n, decErr)
		return
	}
	for i := range targets {
		var e *simError
		if !plausibleRegID(targets[i].regID) {
			e = illegal("target %q is not a registration id", truncate(targets[i].regID, 40))
		} else {
			e = s.checkParams(&targets[i].p)
		}
		if e != nil {
			e.Reason += fmt.Sprintf(" (messages[%d])", i)
			s.fail(w, n, e)
			return
		}
	}
	good, msgID := s.deliver(w, req.RegIDs, func(i int) string { return req.Messages[i].MessageID })
	s.postReceipts(msgID, req.RegIDs, good, func(i int) *simParams { return &targets[i].p })
}

// simTarget is one entry of a MultiPath request, decoded.
type simTarget struct {
	regID     string
	messageID string // extra.message_id, else payload's "message_id"
	p         simParams
}

// maxSimStrings bounds a decoder's interned strings.
const maxSimStrings = 4096

// simDecoder reads MultiPath's messages with fastjson. Decoders are pooled
// (Simulator.decoders) and keep their parsers and target slice, and the
// strings that repeat from one message to the next, the object keys, the
// package and the channel, are interned: a batch allocates for those per
// distinct value, not per field. Other values (targets, texts, payloads,
// message ids) are copied as they come: interned, unique ones would fill
// the table and keep up to megabytes alive. The rules are strict: what
// MiPush's SDKs would not send is refused (10016 for a missing part,
// 10017 for a malformed one), and that includes JSON that
// encoding/json would not read (fastjson.Validate: no NaN, leading
// zeros, raw control characters or bad escapes) and an object with a key
// twice (which value would MiPush take?).
type simDecoder struct {
	p, payload  fastjson.Parser
	targets     []simTarget
	strs        map[string]string
	keys, extra keySet // an entry's or message's keys; its extra's
	scratch     []byte
	lastPayload string // memo of payloadMessageID
	lastID      string
}

func newSimDecoder() *simDecoder { return &simDecoder{strs: make(map[string]string)} }

// decode reads the messages field. n is how many entries the array has
// (0 when it is not one), for the rejected count even when decoding fails.
// The targets are the decoder's until it is used again.
func (d *simDecoder) decode(field string) (targets []simTarget, n int, _ *simError) {
	if strings.TrimSpace(field) == "" {
		return nil, 0, missing("messages")
	}
	if err := fastjson.Validate(field); err != nil {
		return nil, 0, illegal("messages is not JSON: %s", jsonProblem(err))
	}
	v, err := d.p.Parse(field)
	if err != nil {
		return nil, 0, illegal("messages is not JSON: %s", jsonProblem(err))
	}
	entries, err := v.Array()
	if err != nil {
		return nil, 0, illegal("messages must be a JSON array, not %s", v.Type())
	}
	n = len(entries)
	switch {
	case n == 0:
		return nil, 0, missing("messages")
	case n > MaxBatch:
		return nil, n, illegal("messages holds %d messages, at most %d", n, MaxBatch)
	}
	if cap(d.targets) < n {
		d.targets = make([]simTarget, n)
	}
	d.targets = d.targets[:n]
	for i, ev := range entries {
		t := &d.targets[i]
		*t = simTarget{}
		if e := d.entry(t, ev); e != nil {
			e.Reason += fmt.Sprintf(" (messages[%d])", i)
			return nil, n, e
		}
	}
	return d.targets, n, nil
}

// jsonProblem is the gist of a fastjson error: the innermost of its
// "cannot parse …: " chain, and where.
func jsonProblem(err error) string {
	msg, at, _ := strings.Cut(err.Error(), "; unparsed tail: ")
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if at != "" {
		msg += " at " + truncate(at, 40)
	}
	return truncate(msg, 120)
}

// entry reads one {"target":…,"message":{…}}.
func (d *simDecoder) entry(t *simTarget, ev *fastjson.Value) *simError {
	o, err := ev.Object()
	if err != nil {
		return illegal("a message entry must be an object, not %s", ev.Type())
	}
	if k := d.repeatedKey(&d.keys, o); k != "" {
		return illegal("a message entry has the key %q twice", truncate(k, 40))
	}
	tv := o.Get("target")
	switch {
	case tv == nil || tv.Type() == fastjson.TypeNull:
		return missing("target")
	case tv.Type() != fastjson.TypeString:
		return illegal("target must be a string, not %s", tv.Type())
	}
	t.regID = string(tv.GetStringBytes())
	mv := o.Get("message")
	if mv == nil || mv.Type() == fastjson.TypeNull {
		return missing("message")
	}
	mo, err := mv.Object()
	if err != nil {
		return illegal("message must be an object, not %s", mv.Type())
	}
	d.message(&t.p, mo)
	t.messageID = t.p.messageID
	if t.messageID == "" {
		t.messageID = d.payloadMessageID(t.p.payload)
	}
	return nil
}

// message reads one message object into p; a value of the wrong type or
// a key twice (in the message or its extra) sets p.illegal. Unknown keys
// are ignored, as the form's are.
func (d *simDecoder) message(p *simParams, o *fastjson.Object) {
	if k := d.repeatedKey(&d.keys, o); k != "" {
		p.illegal = fmt.Sprintf("the message has the key %q twice", truncate(k, 40))
		return
	}
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "restricted_package_name":
			p.pkg = d.text(p, "", "restricted_package_name", v, true)
		case "title":
			p.title = d.text(p, "", "title", v, false)
		case "description":
			p.description = d.text(p, "", "description", v, false)
		case "payload":
			p.payload = d.text(p, "", "payload", v, false)
		case "pass_through":
			p.passThrough = d.num(p, "pass_through", v)
		case "notify_type":
			p.notifyType = d.num(p, "notify_type", v)
		case "notify_id":
			p.notifyID = d.num(p, "notify_id", v)
		case "time_to_live":
			p.timeToLive = d.num(p, "time_to_live", v)
		case "time_to_send":
			p.timeToSend = d.num(p, "time_to_send", v)
		case "extra":
			if v.Type() == fastjson.TypeNull {
				return
			}
			eo, err := v.Object()
			if err != nil {
				p.badType("", "extra", v)
				return
			}
			if k := d.repeatedKey(&d.extra, eo); k != "" {
				if p.illegal == "" {
					p.illegal = fmt.Sprintf("extra has the key %q twice", truncate(k, 40))
				}
				return
			}
			eo.Visit(func(k []byte, ev *fastjson.Value) {
				name := d.str(k)
				p.addExtra(name, d.text(p, "extra.", name, ev, name == "channel_id"))
			})
		}
	})
}

// text reads a string parameter: a JSON string, or a number as its text
// (the PHP SDK sends integers it was given as numbers); null is absent.
// prefix+name names it in a reason; intern is for a value that repeats
// from message to message.
func (d *simDecoder) text(p *simParams, prefix, name string, v *fastjson.Value, intern bool) string {
	var b []byte
	switch v.Type() {
	case fastjson.TypeString:
		b = v.GetStringBytes()
	case fastjson.TypeNumber:
		d.scratch = v.MarshalTo(d.scratch[:0])
		b = d.scratch
	case fastjson.TypeNull:
		return ""
	default:
		p.badType(prefix, name, v)
		return ""
	}
	if intern {
		return d.str(b)
	}
	return string(b)
}

// num reads an integer parameter: a JSON number or a numeric string; null
// is absent. A number keeps its text when it is not an integer, or is
// not written as strconv writes one (-0), for checkParams.
func (d *simDecoder) num(p *simParams, name string, v *fastjson.Value) simNum {
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil {
			d.scratch = v.MarshalTo(d.scratch[:0])
			return simNum{set: true, text: string(d.scratch)}
		}
		num := simNum{set: true, ok: true, n: n}
		if n == 0 {
			if d.scratch = v.MarshalTo(d.scratch[:0]); string(d.scratch) != "0" {
				num.text = string(d.scratch)
			}
		}
		return num
	case fastjson.TypeString:
		return numFromText(string(v.GetStringBytes()))
	case fastjson.TypeNull:
		return simNum{}
	}
	p.badType("", name, v)
	return simNum{}
}

// badType records the first value of a type its field cannot take.
func (p *simParams) badType(prefix, name string, v *fastjson.Value) {
	if p.illegal == "" {
		p.illegal = fmt.Sprintf("%s%s must not be %s", prefix, truncate(name, 40), v.Type())
	}
}

// repeatedKey returns the first key o holds twice, "" when none: fastjson
// keeps every copy and Get returns the first, where another reader might
// take the last or count an extra twice.
func (d *simDecoder) repeatedKey(seen *keySet, o *fastjson.Object) (repeated string) {
	seen.reset()
	o.Visit(func(k []byte, _ *fastjson.Value) {
		if repeated == "" && seen.add(k, d.str) {
			repeated = string(k)
		}
	})
	return repeated
}

// keySet is the keys of one object, for repeatedKey: a slice while they
// are few (a message has about ten), a map past that.
type keySet struct {
	keys []string
	m    map[string]struct{} // in use while non-empty
}

// maxLinearKeys is the most keys a keySet compares one by one.
const maxLinearKeys = 16

func (s *keySet) reset() {
	s.keys = s.keys[:0]
	clear(s.m)
}

// add adds k (as intern makes it a string) and reports whether it was
// there already.
func (s *keySet) add(k []byte, intern func([]byte) string) bool {
	if len(s.m) > 0 {
		if _, ok := s.m[string(k)]; ok {
			return true
		}
		s.m[intern(k)] = struct{}{}
		return false
	}
	for _, have := range s.keys {
		if have == string(k) {
			return true
		}
	}
	s.keys = append(s.keys, intern(k))
	if len(s.keys) > maxLinearKeys {
		if s.m == nil {
			s.m = make(map[string]struct{}, 2*maxLinearKeys)
		}
		for _, have := range s.keys {
			s.m[have] = struct{}{}
		}
	}
	return false
}

// str interns b.
func (d *simDecoder) str(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if len(d.strs) >= maxSimStrings {
		clear(d.strs)
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// payloadMessageID is payload's "message_id" string ("" without one),
// remembered for the previous payload.
func (d *simDecoder) payloadMessageID(payload string) string {
	if payload == "" {
		return ""
	}
	if payload == d.lastPayload {
		return d.lastID
	}
	id := ""
	if v, err := d.payload.Parse(payload); err == nil {
		if mv := v.Get(messageIDKey); mv != nil && mv.Type() == fastjson.TypeString {
			id = string(mv.GetStringBytes())
		}
	}
	d.lastPayload, d.lastID = payload, id
	return id
}
