package oppo

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/flexjson"
	"github.com/valyala/fastjson"
)

// answer is the envelope of every OPPO reply.
type answer struct {
	Code    *int // nil: none
	Message string
	// Data is data as JSON when it is an object (the auth reply's); a
	// unicast_batch reply's array is read into items instead, or itemsErr
	// says why it could not be.
	Data     json.RawMessage
	items    []batchItem
	itemsErr error

	retryAfter time.Duration // from a Retry-After header, if OPPO sent one
}

// authData is the data of a successful /server/v1/auth reply.
type authData struct {
	AuthToken  string `json:"auth_token"`
	CreateTime int64  `json:"create_time"` // ms
}

// batchItem is one entry of a successful unicast_batch reply.
type batchItem struct {
	MessageID      string
	RegistrationID string
	ErrorCode      *int // nil: none
	ErrorMessage   string
}

// decodeAnswer parses an OPPO envelope; it fails when the body is not a
// JSON object or carries no code. It reads with fastjson: a 1000-item
// batch answer is about 100 KB, and encoding/json spent more CPU on it
// than the rest of the send. The rules are encoding/json's for the types
// above (null is absent, a string where a string belongs) and flexjson's
// Int for a code (an integer or a numeric string), except that a key
// matches only in its case.
//
// p is the parser to use (nil: a new one); nothing returned refers to it.
func decodeAnswer(p *fastjson.Parser, body []byte) (*answer, error) {
	if p == nil {
		p = new(fastjson.Parser)
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, errors.New("oppo: answer is not JSON")
	}
	if v.Type() == fastjson.TypeNull {
		return nil, errors.New("oppo: answer has no code")
	}
	o, err := v.Object()
	if err != nil {
		return nil, errors.New("oppo: answer is not JSON")
	}
	var a answer
	if a.Code, err = codeOf(o.Get("code")); err != nil {
		return nil, errors.New("oppo: answer is not JSON")
	}
	if a.Message, err = stringOf(o.Get("message")); err != nil {
		return nil, errors.New("oppo: answer is not JSON")
	}
	if a.Code == nil {
		return nil, errors.New("oppo: answer has no code")
	}
	switch d := o.Get("data"); {
	case d == nil || d.Type() == fastjson.TypeNull:
		a.itemsErr = errors.New("no data")
	case d.Type() == fastjson.TypeArray:
		a.items, a.itemsErr = batchItems(d)
	default:
		a.Data = d.MarshalTo(nil)
		a.itemsErr = errors.New("data is not an array")
	}
	return &a, nil
}

// batchItems reads a unicast_batch data array.
func batchItems(d *fastjson.Value) ([]batchItem, error) {
	vals, _ := d.Array()
	items := make([]batchItem, len(vals))
	for i, v := range vals {
		if v.Type() == fastjson.TypeNull {
			continue
		}
		o, err := v.Object()
		if err != nil {
			return nil, err
		}
		it := &items[i]
		if it.MessageID, err = stringOf(o.Get("messageId")); err != nil {
			return nil, err
		}
		if it.RegistrationID, err = stringOf(o.Get("registrationId")); err != nil {
			return nil, err
		}
		if it.ErrorCode, err = codeOf(o.Get("errorCode")); err != nil {
			return nil, err
		}
		if it.ErrorMessage, err = stringOf(o.Get("errorMessage")); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// stringOf is v's string; "" for absent or null, an error for another type.
func stringOf(v *fastjson.Value) (string, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// codeOf is an OPPO code: a JSON integer, tolerated as a numeric string
// (flexjson.IntOf); nil for absent or null.
func codeOf(v *fastjson.Value) (*int, error) {
	n, err := flexjson.IntOf(v)
	if err != nil {
		return nil, errors.New("oppo: code is not an integer")
	}
	if !n.Set {
		return nil, nil
	}
	return &n.N, nil
}

// malformed is the Result for a vendor answer the client cannot read. The
// push may have gone out, but app_message_id makes a retry safe.
func malformed(why string) vendors.Result {
	return vendors.Result{Verdict: vendors.Retry, Code: "malformed_response", Reason: why}
}

// batchResults maps a successful unicast_batch answer to one Result per
// target. Items are matched by registrationId (in order, for a target that
// occurs twice); an item without errorCode (or 0) is Delivered, errorCode
// 10000 TokenInvalid, any other code as the code table says. A target the
// answer does not mention is Retry.
func batchResults(a *answer, regIDs []string, now time.Time) []vendors.Result {
	items := a.items
	if a.itemsErr != nil {
		return vendors.Fill(len(regIDs), malformed("unicast_batch data is not an array of results"))
	}
	if inOrder(items, regIDs) {
		out := make([]vendors.Result, len(regIDs))
		for i := range items {
			out[i] = itemResult(items[i], now)
		}
		return out
	}
	byReg := make(map[string][]int, len(items))
	for i, it := range items {
		byReg[it.RegistrationID] = append(byReg[it.RegistrationID], i)
	}
	out := make([]vendors.Result, len(regIDs))
	for i, reg := range regIDs {
		q := byReg[reg]
		if len(q) == 0 {
			out[i] = vendors.Result{Verdict: vendors.Retry, Code: "missing_item",
				Reason: "the unicast_batch answer has no result for this registration id"}
			continue
		}
		byReg[reg] = q[1:]
		out[i] = itemResult(items[q[0]], now)
	}
	return out
}

// inOrder reports whether items answer regIDs one by one, in order, as
// OPPO does; batchResults then needs no index.
func inOrder(items []batchItem, regIDs []string) bool {
	if len(items) != len(regIDs) {
		return false
	}
	for i := range items {
		if items[i].RegistrationID != regIDs[i] {
			return false
		}
	}
	return true
}

// itemResult maps one batch item.
func itemResult(it batchItem, now time.Time) vendors.Result {
	if it.ErrorCode == nil || *it.ErrorCode == codeSuccess {
		return vendors.Result{Verdict: vendors.Delivered, Code: strconv.Itoa(codeSuccess), Reason: it.MessageID}
	}
	return codeResult(*it.ErrorCode, it.ErrorMessage, now)
}
