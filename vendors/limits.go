package vendors

import (
	"fmt"
	"strings"
)

// Part is the part of a notification a vendor limit is about, so the API
// can name the request field that breaks it.
type Part int

// Parts.
const (
	PartText     Part = iota // the title and body: required, or a vendor's cap on them
	PartData                 // the custom data (the payload, call data and herald's own keys)
	PartPayload              // the whole encoded payload (text and data together)
	PartResource             // the push resource's settings for the vendor (its channel, …)
)

func (p Part) String() string {
	switch p {
	case PartText:
		return "text"
	case PartData:
		return "data"
	case PartResource:
		return "resource"
	}
	return "payload"
}

// LimitError says a vendor would refuse a notification as herald composes
// it, before anything is sent: which part breaks which of the vendor's
// documented limits (Limit, e.g. "4096 bytes of JSON payload"), and how
// big the part came out (Size, in Limit's unit; 0 when a size says
// nothing, as for missing text).
type LimitError struct {
	Vendor Kind
	Part   Part
	Limit  string
	Size   int
}

func (e *LimitError) Error() string {
	if e.Size > 0 {
		return fmt.Sprintf("%s accepts %s; this push composes to %d", e.Vendor, e.Limit, e.Size)
	}
	return fmt.Sprintf("%s needs %s", e.Vendor, e.Limit)
}

// Checker is implemented by senders that can tell, without sending,
// whether their vendor would refuse n for its size or for missing fields:
// Check runs the sender's own encoder on n and applies the vendor's
// documented limits to what it wrote (a *LimitError), or returns nil. It
// checks n as every target would get it (with the widest badge a target
// may carry), and never looks at tokens or credentials.
type Checker interface {
	Check(n *Notification) error
}

// Text is a notification's title and body for vendors that need both
// (Huawei, Xiaomi, OPPO, vivo): a blank one borrows the other's text, so a push
// with only a title (or only a body) shows it as both.
func Text(n *Notification) (title, body string) {
	title, body = n.Title, n.Body
	if blank(title) {
		title = body
	}
	if blank(body) {
		body = title
	}
	return title, body
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
