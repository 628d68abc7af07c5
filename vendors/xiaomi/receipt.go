package xiaomi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/herald-push/herald/vendors"
)

// callbackDelivered is extra.callback.type for "the message reached the
// device" (MiPush's receipt types: 1 delivered, 2 clicked, 3 both, …),
// and the type of such an entry in a receipt.
const callbackDelivered = "1"

// MaxReceiptTargets is the most registration ids the simulator puts in
// one receipt request (MiPush merges receipts; it documents no bound).
const MaxReceiptTargets = 1000

// maxParsedTargets bounds what ParseReceipts takes from one body, so a
// hostile body cannot make it allocate without limit.
const maxParsedTargets = 10000

// receiptEntry is one message's entry in a receipt's data object, keyed
// by the MiPush message id.
type receiptEntry struct {
	Param     string          `json:"param"`
	Type      json.RawMessage `json:"type"`
	Targets   string          `json:"targets"`
	JobKey    string          `json:"jobkey,omitempty"`
	BarStatus string          `json:"barStatus,omitempty"`
	Timestamp int64           `json:"timestamp,omitempty"`
}

// ParseReceipts decodes one MiPush receipt request: a form whose field
// data holds a JSON object keyed by MiPush message id,
// {"<msgId>":{"param","type","targets","jobkey","barStatus","timestamp"}},
// targets being the comma-separated registration ids. Type 1 is
// delivered; every other type (clicked, invalid target, …) is not. A body
// sent as JSON (the data object itself) is read too.
func ParseReceipts(contentType string, body []byte) ([]vendors.Receipt, error) {
	data := body
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/json" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("not a MiPush receipt: %w", err)
		}
		if !form.Has("data") {
			return nil, errors.New("not a MiPush receipt: no data field")
		}
		data = []byte(form.Get("data"))
	}
	var entries map[string]receiptEntry
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&entries); err != nil {
		return nil, fmt.Errorf("not a MiPush receipt: %w", err)
	}
	if entries == nil {
		return nil, errors.New("not a MiPush receipt: data is not an object")
	}
	var out []vendors.Receipt
	for _, e := range entries {
		typ := strings.Trim(string(e.Type), `"`)
		var err error
		if out, err = vendors.AppendReceiptTargets(out, e.Targets, maxParsedTargets,
			vendors.Receipt{Ref: e.Param, Delivered: typ == callbackDelivered, Status: typ}); err != nil {
			return nil, fmt.Errorf("not a MiPush receipt: %w", err)
		}
	}
	return out, nil
}
