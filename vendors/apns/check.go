package apns

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
)

var _ vendors.Checker = (*Client)(nil)

// widestBadge is the badge with the most digits a target may carry (the
// badge is an int): Check measures the payload with it, so a push that
// passes fits every target's badge.
const widestBadge = math.MaxInt

// Check tells whether APNs would refuse n as this client sends it: it runs
// the encoder Send runs and applies Apple's limits to what it wrote, a
// payload of at most 4096 bytes (5120 for VoIP), measured with the widest
// badge a target may get, and an apns-collapse-id of at most 64 bytes
// ("Sending notification requests to APNs"). A payload over the limit is
// PartData when the custom data alone (the payload without title and
// body) already breaks it, PartPayload otherwise. Check does not look at
// tokens or credentials and does no I/O.
func (c *Client) Check(n *vendors.Notification) error {
	w, err := encode(n, c.cfg.Topic, time.Time{})
	var rej *rejection
	switch {
	case errors.As(err, &rej) && rej.Code == "BadCollapseId":
		return &vendors.LimitError{Vendor: vendors.APNs, Part: vendors.PartPayload,
			Limit: "an apns-collapse-id of at most " + strconv.Itoa(maxCollapseID) + " bytes", Size: len(n.CollapseID)}
	case rej != nil: // PayloadTooLarge: measured below, with the badge
	case err != nil:
		return err
	}
	size := payloadSize(&w)
	if size <= w.Limit {
		return nil
	}
	limit := strconv.Itoa(w.Limit) + " bytes of JSON payload"
	if n.VoIP {
		limit += " for a VoIP push"
	}
	part := vendors.PartPayload
	bare := *n
	bare.Title, bare.Body = "", ""
	if w, _ := encode(&bare, c.cfg.Topic, time.Time{}); payloadSize(&w) > w.Limit {
		part = vendors.PartData
	}
	return &vendors.LimitError{Vendor: vendors.APNs, Part: part, Limit: limit, Size: size}
}

// payloadSize is the size of w's payload for the target with the widest
// badge (push types without a badge have one size for all).
func payloadSize(w *wireRequest) int {
	badge := widestBadge
	return len(w.payloadFor(&badge))
}
