package vivo

import (
	"fmt"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors"
)

var _ vendors.Checker = (*Client)(nil)

// Check tells whether vivo would refuse n as this client writes it:
//
//   - a push without any visible text (vivo has notification messages
//     only, so a passthrough push needs a title or content): PartText;
//   - clientCustomMap, as customMap writes it (message_id, the data, and
//     past ten pairs the rest packed JSON-encoded under "herald_more"),
//     holding over maxCustomChars characters of keys and values together,
//     or an empty key: PartData, Size the characters it holds.
//
// A blank title or content borrows the other's text and overlong text is
// cut (buildMessage), and customMap never writes more than ten pairs, so
// nothing else about the text or the pair count is refused. The category
// is not checked: vivo grants categories past its published list on
// request, so an unknown one is vivo's to answer (10096).
func (c *Client) Check(n *vendors.Notification) error {
	if title, _ := vendors.Text(n); blank(title) {
		limit := "a title or content"
		if n.Passthrough {
			limit = "a title or content: vivo has notification messages only, no passthrough"
		}
		return &vendors.LimitError{Vendor: vendors.Vivo, Part: vendors.PartText, Limit: limit}
	}
	chars := 0
	for k, v := range customMap(n.MessageID, n.Data) {
		if k == "" {
			return &vendors.LimitError{Vendor: vendors.Vivo, Part: vendors.PartData,
				Limit: "non-empty custom data keys (clientCustomMap)"}
		}
		chars += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
	}
	if chars > maxCustomChars {
		return &vendors.LimitError{Vendor: vendors.Vivo, Part: vendors.PartData, Size: chars,
			Limit: fmt.Sprintf("%d characters of clientCustomMap keys and values together (message_id and the custom data)", maxCustomChars)}
	}
	return nil
}
