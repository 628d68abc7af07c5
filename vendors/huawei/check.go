package huawei

import (
	"fmt"
	"strings"

	"github.com/herald-push/herald/vendors"
)

// maxBodyWithoutTokens is Huawei's documented message size limit: "消息体最
// 大不能超过4096Bytes（不包括Token）" (the message body may not exceed 4096
// bytes, tokens excluded; Huawei, HMS Core Push Kit "下行消息"), answered
// with 80300008. It is measured on the body as sent, less the JSON array
// of tokens (its "token" key counts).
const maxBodyWithoutTokens = 4096

// categories Huawei accepts in android.category ("下行消息", AndroidConfig
// category).
var categories = map[string]bool{
	"IM": true, "VOIP": true, "SUBSCRIPTION": true, "TRAVEL": true, "HEALTH": true, "WORK": true,
	"ACCOUNT": true, "EXPRESS": true, "FINANCE": true, "DEVICE_REMINDER": true, "MAIL": true,
	"PLAY_VOICE": true, "MARKETING": true,
}

var _ vendors.Checker = (*Client)(nil)

// Check tells whether Huawei would refuse n as this client sends it. It
// builds the request Send builds (without tokens) and refuses, in this
// order: a notification message whose title and body are both blank
// (Huawei requires both; the encoder fills a blank one from the other, so
// only a push with no text fails), vendors.PartText; a notification
// message whose android.category Huawei does not know (from the push
// resource's category), vendors.PartResource; a body over 4096 bytes
// without the token array, vendors.PartPayload, Size in bytes. Every
// target gets the same body but for its token (Huawei has no per-target
// badge here), so one answer holds for all. Check does not look at tokens
// or credentials and does no I/O.
func (c *Client) Check(n *vendors.Notification) error {
	req, err := buildMessage(n, []string{}, c.receiptID)
	if err != nil {
		return err
	}
	m := req.Message
	if nt := m.Notification; nt != nil {
		if blank(nt.Title) || blank(nt.Body) {
			return &vendors.LimitError{Vendor: vendors.Huawei, Part: vendors.PartText,
				Limit: "a title and a body for a notification message (or a passthrough push)"}
		}
		if cat := m.Android.Category; cat != "" && !categories[cat] {
			return &vendors.LimitError{Vendor: vendors.Huawei, Part: vendors.PartResource,
				Limit: fmt.Sprintf("an android.category it knows (IM, VOIP, WORK, …), not %q", cat)}
		}
	}
	b, err := marshal(req)
	if err != nil {
		return fmt.Errorf("huawei: encode message: %w", err)
	}
	if size := len(b) - len("[]"); size > maxBodyWithoutTokens {
		return &vendors.LimitError{Vendor: vendors.Huawei, Part: vendors.PartPayload,
			Limit: "4096 bytes of message body, tokens excluded", Size: size}
	}
	return nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
