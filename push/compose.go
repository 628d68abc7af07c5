package push

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// Composer builds the notification each vendor gets for an outbox row:
// stored messages, call invitations and call cancels, from the current push
// resources (swapped atomically on reload). It caches recent messages: a
// group fan-out asks for the same one thousands of times. It is the
// senders' actors.Composer.
type Composer struct {
	store     *store.Store
	clock     Clock
	resources atomic.Pointer[map[string]configs.Resource]

	mu    sync.Mutex
	cache map[string]*store.Message
}

const cacheSize = 4096

// NewComposer returns a Composer reading messages and calls from st, with
// the push resources res (see SetResources).
func NewComposer(st *store.Store, clock Clock, res map[string]configs.Resource) *Composer {
	c := &Composer{store: st, clock: clock, cache: map[string]*store.Message{}}
	c.SetResources(res)
	return c
}

// SetResources replaces the push resources (a config reload).
func (c *Composer) SetResources(res map[string]configs.Resource) { c.resources.Store(&res) }

// Resources are the push resources as the last reload left them.
func (c *Composer) Resources() map[string]configs.Resource { return *c.resources.Load() }

func (c *Composer) message(id string) (*store.Message, error) {
	c.mu.Lock()
	m, ok := c.cache[id]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	msg, found, err := c.store.GetMessage(id)
	if err != nil || !found {
		return nil, err
	}
	c.mu.Lock()
	if len(c.cache) >= cacheSize {
		clear(c.cache)
	}
	c.cache[id] = &msg
	c.mu.Unlock()
	return &msg, nil
}

// Clock is the time source of TTLs and call deadlines.
type Clock interface{ Now() time.Time }

// Notification is what vendor gets for the outbox rows of row (nil with a
// nil error when there is nothing left to send: the message is gone or
// expired, the call no longer rings); userID is the recipient when the
// batch has one row. It implements actors.Composer.
func (c *Composer) Notification(vendor vendors.Kind, row store.RowID, voip bool, userID string) (*vendors.Notification, error) {
	switch row.Kind {
	case store.RowCallInvite:
		return c.callInvite(vendor, row.ID, voip, userID)
	case store.RowCallCancel:
		return c.callCancel(vendor, row.ID, row.Reason, voip)
	case store.RowMessage:
	default:
		return nil, fmt.Errorf("push: outbox row of unknown kind %d", row.Kind)
	}
	messageID := row.ID
	m, err := c.message(messageID)
	if err != nil || m == nil {
		return nil, err
	}
	var ttl time.Duration
	if m.TTLSeconds > 0 {
		left := time.UnixMilli(m.CreatedAt).Add(time.Duration(m.TTLSeconds) * time.Second).Sub(c.clock.Now())
		if left <= 0 {
			return nil, nil // expired: the vendor would drop it anyway
		}
		ttl = left
	}
	n := MessageNotification(m, c.Resources(), vendor, voip, ttl)
	n.ReceiptRef = c.store.ReceiptRef(messageID) // "" unless receipts are on
	return &n, nil
}

// MessageNotification is what vendor gets for message m under the push
// resources res, held by the vendor for ttl (0 = the vendor's default);
// voip asks for the VoIP form (a resource may force it).
func MessageNotification(m *store.Message, res map[string]configs.Resource, vendor vendors.Kind, voip bool, ttl time.Duration) vendors.Notification {
	content := vendors.Content{MessageID: m.MessageID, Title: m.Title, Body: m.Content, Payload: m.Payload,
		Passthrough: m.Passthrough, TTL: ttl, CollapseID: m.CollapseID, VoIP: voip}
	if m.Priority == "high" {
		content.Priority = vendors.PriorityHigh
	}
	return vendors.Compose(content, VendorResource(ResourceFor(res, m.ResourcesID), vendor))
}

// callInvite is the push that rings an offline invitee's device: high
// priority, expiring at the call's deadline, carrying call_id, the inviter
// and the deadline in its custom data.
func (c *Composer) callInvite(kind vendors.Kind, callID string, voip bool, userID string) (*vendors.Notification, error) {
	call, ok, err := c.store.GetCall(callID)
	if err != nil || !ok {
		return nil, err
	}
	left := time.UnixMilli(call.DeadlineAt).Sub(c.clock.Now())
	if left <= 0 || !call.Ringing() {
		return nil, nil // no longer ringing: ringing a phone now would be wrong
	}
	for _, iv := range call.Invitees {
		if iv.UserID == userID && iv.State != store.CallRinging {
			return nil, nil // this invitee answered or stopped ringing meanwhile
		}
	}
	n := InviteNotification(&call, c.Resources(), kind, voip, left)
	return &n, nil
}

// InviteNotification is the invitation vendor kind gets for call under the
// push resources res, held by the vendor for ttl (the time left until the
// deadline); voip asks for the VoIP form.
func InviteNotification(call *store.Call, res map[string]configs.Resource, kind vendors.Kind, voip bool, ttl time.Duration) vendors.Notification {
	data := map[string]string{"type": "call_invite", "call_id": call.CallID, "inviter": call.Inviter,
		"deadline": strconv.FormatInt(call.DeadlineAt, 10)}
	if len(call.Data) > 0 {
		data["call_data"] = string(call.Data)
	}
	n := vendors.Compose(vendors.Content{MessageID: CallMessageID(call.CallID), Title: call.Title, Body: call.Content,
		Data: data, Priority: vendors.PriorityHigh, TTL: ttl, VoIP: voip}, VendorResource(ResourceFor(res, call.Resources), kind))
	n.VoIP = voip
	return n
}

// callCancel is the notice that stops a ringing phone: a data message (a
// VoIP push for PushKit tokens) with call_id and the reason.
func (c *Composer) callCancel(kind vendors.Kind, callID, reason string, voip bool) (*vendors.Notification, error) {
	call, ok, err := c.store.GetCall(callID)
	if err != nil || !ok {
		return nil, err
	}
	if c.clock.Now().After(time.UnixMilli(call.DeadlineAt).Add(cancelTTL)) {
		return nil, nil // no phone rings past the deadline: nothing left to stop
	}
	n := CancelNotification(&call, reason, c.Resources(), kind, voip)
	return &n, nil
}

// CancelNotification is the notice that stops call's ringing on a device
// of vendor kind, for reason (accept, reject, cancel, timeout, …).
func CancelNotification(call *store.Call, reason string, res map[string]configs.Resource, kind vendors.Kind, voip bool) vendors.Notification {
	data := map[string]string{"type": "call_cancel", "call_id": call.CallID, "inviter": call.Inviter, "reason": reason}
	n := vendors.Compose(vendors.Content{MessageID: CancelMessageID(call.CallID, reason), Title: call.Title,
		Body: cancelText(reason), Data: data, Passthrough: !voip, Priority: vendors.PriorityHigh,
		TTL: cancelTTL, VoIP: voip}, VendorResource(ResourceFor(res, call.Resources), kind))
	n.VoIP = voip
	return n
}

// cancelTTL is how long a vendor may hold a cancel notice, and how long
// past a call's deadline one is still sent.
const cancelTTL = 5 * time.Minute

// CallMessageID is the message_id an invitation push carries: what a
// phone sees, documented in API.md. herald never parses it back (the
// outbox row's kind is store.RowID's), and it differs from the cancel's
// so vendors that deduplicate by id (OPPO) deliver both.
func CallMessageID(callID string) string { return "call-" + callID }

// CancelMessageID is the message_id a call's cancel notice carries.
func CancelMessageID(callID, reason string) string { return "cancel-" + reason + "-" + callID }

func cancelText(reason string) string {
	switch reason {
	case "timeout":
		return "Missed call"
	case "accept":
		return "Answered on another device"
	case "reject":
		return "Declined"
	}
	return "Call ended"
}
