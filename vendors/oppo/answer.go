package oppo

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
)

// flexInt is an OPPO code: a JSON number, tolerated as a numeric string.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 1 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return errors.New("oppo: code is not an integer")
	}
	*f = flexInt(n)
	return nil
}

// answer is the envelope of every OPPO reply.
type answer struct {
	Code    *flexInt        `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`

	retryAfter time.Duration // from a Retry-After header, if OPPO sent one
}

// authData is the data of a successful /server/v1/auth reply.
type authData struct {
	AuthToken  string `json:"auth_token"`
	CreateTime int64  `json:"create_time"` // ms
}

// batchItem is one entry of a successful unicast_batch reply.
type batchItem struct {
	MessageID      string   `json:"messageId"`
	RegistrationID string   `json:"registrationId"`
	ErrorCode      *flexInt `json:"errorCode"`
	ErrorMessage   string   `json:"errorMessage"`
}

// decodeAnswer parses an OPPO envelope; it fails when the body is not JSON
// or carries no code.
func decodeAnswer(body []byte) (*answer, error) {
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, errors.New("oppo: answer is not JSON")
	}
	if a.Code == nil {
		return nil, errors.New("oppo: answer has no code")
	}
	return &a, nil
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
func batchResults(data json.RawMessage, regIDs []string, now time.Time) []vendors.Result {
	var items []batchItem
	if err := json.Unmarshal(data, &items); err != nil {
		return vendors.Fill(len(regIDs), malformed("unicast_batch data is not an array of results"))
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

// itemResult maps one batch item.
func itemResult(it batchItem, now time.Time) vendors.Result {
	if it.ErrorCode == nil || *it.ErrorCode == codeSuccess {
		return vendors.Result{Verdict: vendors.Delivered, Code: strconv.Itoa(codeSuccess), Reason: "messageId " + it.MessageID}
	}
	return codeResult(int(*it.ErrorCode), it.ErrorMessage, now)
}
