package vivo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-push/herald/vendors"
)

// The extra keys that ask for a receipt, and vivo's limits on them
// (characters): callback is the receiver's URL, callback.param the
// caller's own parameter echoed back.
const (
	extraCallback      = "callback"
	extraCallbackParam = "callback.param"
	maxCallback        = 128
	maxCallbackParam   = 64
)

// statusArrived is the Status of a vivo receipt entry: vivo posts arrival
// receipts only.
const statusArrived = "arrived"

// maxParsedTargets bounds what ParseReceipts takes from one body, so a
// hostile body cannot make it allocate without limit.
const maxParsedTargets = 10000

// receiptEntry is one task's entry in a vivo receipt, keyed by taskId.
type receiptEntry struct {
	Param   string `json:"param"`
	Targets string `json:"targets"`
}

// ParseReceipts decodes one vivo receipt request: a JSON object keyed by
// taskId, {"<taskId>":{"param":"…","targets":"<regId>,<regId>"}}. vivo
// posts arrival receipts only, so every target is delivered.
func ParseReceipts(contentType string, body []byte) ([]vendors.Receipt, error) {
	_ = contentType // vivo posts application/json; the body decides
	var entries map[string]receiptEntry
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&entries); err != nil {
		return nil, fmt.Errorf("not a vivo receipt: %w", err)
	}
	if entries == nil {
		return nil, errors.New("not a vivo receipt: not a JSON object")
	}
	var out []vendors.Receipt
	for _, e := range entries {
		var err error
		if out, err = vendors.AppendReceiptTargets(out, e.Targets, maxParsedTargets,
			vendors.Receipt{Ref: e.Param, Delivered: true, Status: statusArrived}); err != nil {
			return nil, fmt.Errorf("not a vivo receipt: %w", err)
		}
	}
	return out, nil
}
