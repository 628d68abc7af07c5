package oppo

import "github.com/herald-push/herald/vendors"

// Check tells whether OPPO would refuse n as this client writes it: a
// passthrough message with no text (OPPO has notification messages only)
// or a message without a channel (channel_id is required, code 40). Text
// is never too long (the encoder cuts it) and OPPO documents no size limit
// for action_parameters, so nothing else is checked.
func (c *Client) Check(n *vendors.Notification) error {
	switch {
	case n.Passthrough && n.Title == "" && n.Body == "":
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartText,
			Limit: "a title or content: OPPO has notification messages only, no passthrough"}
	case n.Channel == "":
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartResource,
			Limit: "a channel_id in the push resource (OPPO answers 40 without one)"}
	}
	return nil
}
