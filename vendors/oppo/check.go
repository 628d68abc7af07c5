package oppo

import "github.com/herald-push/herald/vendors"

// Check tells whether OPPO would refuse n as this client writes it: a
// message with no text at all (title and content are both required, code
// 40, and OPPO has notification messages only, so a passthrough push has
// none to borrow), a message without a channel (channel_id is required,
// code 40), or a category and notify_level OPPO refuses (code 67): a
// category it does not list, or notify_level 16 (banner, which a call
// gets) with an operational category such as NEWS or MARKETING. Text is
// never too long (the encoder cuts it) and OPPO documents no size limit
// for action_parameters, so nothing else is checked.
func (c *Client) Check(n *vendors.Notification) error {
	switch {
	case noText(n):
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartText,
			Limit: "a title or content: OPPO has notification messages only, no passthrough"}
	case n.Channel == "":
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartResource,
			Limit: "a channel_id in the push resource (OPPO answers 40 without one)"}
	}
	category, level := n.Category, n.NotifyLevel
	if n.VoIP { // as buildNotification writes a call
		if category == "" {
			category = categoryIM
		}
		if level == 0 {
			level = notifyLevelBanner
		}
	}
	known, service := categoryKind(category)
	switch {
	case category != "" && !known:
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartResource,
			Limit: "a category OPPO lists (IM, ACCOUNT, DEVICE_REMINDER, ORDER, TODO, SUBSCRIPTION, NEWS, CONTENT, MARKETING, SOCIAL; OPPO answers 67)"}
	case level == notifyLevelBanner && !service:
		return &vendors.LimitError{Vendor: vendors.OPPO, Part: vendors.PartResource,
			Limit: "notify_level 16 (banner, which a call gets) only with a service category: IM, ACCOUNT, DEVICE_REMINDER, ORDER, TODO or SUBSCRIPTION (OPPO answers 67)"}
	}
	return nil
}

// noText reports whether n has no title or content for the encoder to
// write (a blank one borrows the other's, vendors.Text); OPPO takes
// whitespace as text.
func noText(n *vendors.Notification) bool {
	title, _ := vendors.Text(n)
	return title == ""
}
