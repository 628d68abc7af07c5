package vendors

import (
	"fmt"
	"strings"
)

// MaxReceiptRef is the longest Notification.ReceiptRef: it fits the
// shortest echo field among the vendors (OPPO's call_back_parameter, 50
// characters).
const MaxReceiptRef = 50

// Receipt is one device's entry in a vendor's arrival receipt (the
// callback a vendor posts to herald's receipt endpoint once a
// notification reached, or could not reach, a device).
type Receipt struct {
	Ref   string // the Notification.ReceiptRef the vendor echoes ("" when the push carried none)
	Token string // the device's token as the vendor names it
	// Delivered is true when the notification reached the device; other
	// events (clicked, token invalid, app uninstalled, …) are false.
	Delivered bool
	// Status is the vendor's own status or event for the entry (Huawei
	// "0", Xiaomi "1", OPPO "push_arrive", …), for counts and logs.
	Status string
}

// AppendReceiptTargets appends to out one copy of r per token of the
// comma-separated list targets (blank entries skipped), r.Token set to
// it: the shape of Xiaomi's, OPPO's and vivo's receipts, which name their
// devices in one string. It fails once out would hold more than limit,
// so that one hostile body cannot make it allocate without bound.
func AppendReceiptTargets(out []Receipt, targets string, limit int, r Receipt) ([]Receipt, error) {
	for t := range strings.SplitSeq(targets, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if len(out) >= limit {
			return nil, fmt.Errorf("a receipt naming more than %d devices", limit)
		}
		r.Token = t
		out = append(out, r)
	}
	return out, nil
}
