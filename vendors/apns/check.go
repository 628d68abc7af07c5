package apns

import (
	"errors"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors"
)

var _ vendors.Checker = (*Client)(nil)

// Check tells whether APNs would refuse n as this client sends it: it runs
// the encoder Send runs and applies Apple's limits to what it wrote, a
// payload of at most 4096 bytes (5120 for VoIP), measured with n.Badge
// (the caller sets the widest badge a target may get when targets get
// one; push.CheckMessage does), and an apns-collapse-id of at most 64 bytes
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
	size := len(w.Payload)
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
	if w, _ := encode(&bare, c.cfg.Topic, time.Time{}); len(w.Payload) > w.Limit {
		part = vendors.PartData
	}
	return &vendors.LimitError{Vendor: vendors.APNs, Part: part, Limit: limit, Size: size}
}
