package xiaomi

import "github.com/herald-push/herald/vendors"

var _ vendors.Checker = (*Client)(nil)

// Check tells whether MiPush would refuse n as this client writes it: a
// notification message without any text (PartText) or a payload of 4096
// characters or more (PartData, Size its characters); see encoder.limit.
// A channel MiPush does not know (27001) is MiPush's to judge, so it is
// not checked.
func (c *Client) Check(n *vendors.Notification) error {
	if le := c.enc.limit(n); le != nil {
		return le
	}
	return nil
}
