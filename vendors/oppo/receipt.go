package oppo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-push/herald/vendors"
)

// Receipt limits of an OPPO notification (the server SDK's checks:
// call_back_url within 200 characters, call_back_parameter within 50,
// "中英文均以一个计算").
const (
	maxCallBackURL   = 200
	maxCallBackParam = 50
)

// eventArrived is the eventType of a receipt entry for a message that
// reached the device.
const eventArrived = "push_arrive"

// MaxReceiptEntries is the most entries the simulator puts in one
// receipt request (OPPO merges receipts; it documents no bound).
const MaxReceiptEntries = 1000

// maxParsedTargets bounds what ParseReceipts takes from one body, so a
// hostile body cannot make it allocate without limit.
const maxParsedTargets = 10000

// receiptEntry is one entry of the JSON array OPPO posts to
// call_back_url.
type receiptEntry struct {
	MessageID       string          `json:"messageId"`
	AppID           string          `json:"appId"`
	TaskID          string          `json:"taskId"`
	RegistrationIDs string          `json:"registrationIds"`
	EventTime       json.RawMessage `json:"eventTime"`
	Param           string          `json:"param"`
	EventType       string          `json:"eventType"`
}

// ParseReceipts decodes one OPPO receipt request: a JSON array of
// {"messageId","appId","taskId","registrationIds","eventTime","param",
// "eventType"}, registrationIds comma-separated. eventType push_arrive is
// delivered; other events are not.
func ParseReceipts(contentType string, body []byte) ([]vendors.Receipt, error) {
	_ = contentType // OPPO posts application/json; the body decides
	var entries []receiptEntry
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&entries); err != nil {
		return nil, fmt.Errorf("not an OPPO receipt: %w", err)
	}
	if entries == nil {
		return nil, errors.New("not an OPPO receipt: not a JSON array")
	}
	var out []vendors.Receipt
	for _, e := range entries {
		var err error
		if out, err = vendors.AppendReceiptTargets(out, e.RegistrationIDs, maxParsedTargets,
			vendors.Receipt{Ref: e.Param, Delivered: e.EventType == eventArrived, Status: e.EventType}); err != nil {
			return nil, fmt.Errorf("not an OPPO receipt: %w", err)
		}
	}
	return out, nil
}
