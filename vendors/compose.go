package vendors

import "time"

// Content is a push's vendor-neutral content, as a chat backend gives it.
type Content struct {
	MessageID   string
	Title       string
	Body        string
	Payload     string            // the app's passthrough string; delivered as Data["payload"]
	Data        map[string]string // further custom data (call_id, inviter, …)
	Passthrough bool
	Priority    Priority
	TTL         time.Duration
	CollapseID  string
	Badge       *int
	VoIP        bool
}

// Resource is one vendor's view of a push resource (a resources_id in the
// config): channel, category, sound and call settings.
type Resource struct {
	Sound       string
	VoIP        bool
	HighPrio    bool // the resource forces high priority
	NormalPrio  bool // the resource forces normal priority
	ChannelID   string
	Category    string
	NotifyLevel int
	ThreadID    string // APNs thread-id
	Mutable     bool   // APNs mutable-content
}

// Compose builds the Notification for one vendor from content and that
// vendor's resource settings. The result's Data is a fresh map holding the
// content's data, the payload and the message id.
func Compose(c Content, r Resource) Notification {
	data := make(map[string]string, len(c.Data)+2)
	for k, v := range c.Data {
		data[k] = v
	}
	if c.Payload != "" {
		data["payload"] = c.Payload
	}
	if c.MessageID != "" {
		data["message_id"] = c.MessageID
	}
	n := Notification{
		MessageID:   c.MessageID,
		Title:       c.Title,
		Body:        c.Body,
		Data:        data,
		Passthrough: c.Passthrough,
		Priority:    c.Priority,
		TTL:         c.TTL,
		CollapseID:  c.CollapseID,
		Badge:       c.Badge,
		Sound:       r.Sound,
		VoIP:        c.VoIP || r.VoIP,
		Channel:     r.ChannelID,
		Category:    r.Category,
		NotifyLevel: r.NotifyLevel,
		ThreadID:    r.ThreadID,
		Mutable:     r.Mutable,
	}
	switch {
	case r.HighPrio || n.VoIP:
		n.Priority = PriorityHigh
	case r.NormalPrio:
		n.Priority = PriorityNormal
	}
	return n
}
