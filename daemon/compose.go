package daemon

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// composer builds notifications from stored messages and the current push
// resources (swapped atomically on reload). It caches recent messages: a
// group fan-out asks for the same one thousands of times.
type composer struct {
	store     *store.Store
	clock     actors.Clock
	resources atomic.Pointer[map[string]configs.Resource]

	mu    sync.Mutex
	cache map[string]*store.Message
}

const composerCacheSize = 4096

func newComposer(st *store.Store, clock actors.Clock, res map[string]configs.Resource) *composer {
	c := &composer{store: st, clock: clock, cache: map[string]*store.Message{}}
	c.setResources(res)
	return c
}

func (c *composer) setResources(res map[string]configs.Resource) { c.resources.Store(&res) }

func (c *composer) message(id string) (*store.Message, error) {
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
	if len(c.cache) >= composerCacheSize {
		clear(c.cache)
	}
	c.cache[id] = &msg
	c.mu.Unlock()
	return &msg, nil
}

// Notification implements actors.Composer.
func (c *composer) Notification(kind vendors.Kind, messageID string, voip bool, userID string) (*vendors.Notification, error) {
	if id, ok := strings.CutPrefix(messageID, actors.CallInvitePrefix); ok {
		return c.callInvite(kind, id, voip, userID)
	}
	if rest, ok := strings.CutPrefix(messageID, actors.CallCancelPrefix); ok {
		reason, id, _ := strings.Cut(rest, "/")
		return c.callCancel(kind, id, reason, voip)
	}
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
	content := vendors.Content{MessageID: m.MessageID, Title: m.Title, Body: m.Content, Payload: m.Payload,
		Passthrough: m.Passthrough, TTL: ttl, CollapseID: m.CollapseID, VoIP: voip}
	if m.Priority == "high" {
		content.Priority = vendors.PriorityHigh
	}
	res := resourceFor(*c.resources.Load(), m.ResourcesID)
	n := vendors.Compose(content, vendorResource(res, kind))
	return &n, nil
}

// senderConfig converts a vendor section to the sender's limits.
func senderConfig(v *configs.Vendor) actors.SenderConfig {
	return actors.SenderConfig{
		QPS: v.Limits.QPS, Burst: v.Limits.Burst, MaxInFlight: v.Limits.MaxInFlight,
		BatchSize: v.Limits.BatchSize, BatchWait: v.Limits.BatchWait.Std(), DailyQuota: v.Limits.DailyQuota, MaxQueued: v.Limits.MaxQueued,
		MaxAttempts: v.Retry.MaxAttempts, InitialBackoff: v.Retry.InitialBackoff.Std(), MaxBackoff: v.Retry.MaxBackoff.Std(),
	}
}

// senderConfigs returns the sender limits of every vendor with a client.
func senderConfigs(cfg *configs.Config, clients map[vendors.Kind]vendors.Sender) map[vendors.Kind]actors.SenderConfig {
	out := map[vendors.Kind]actors.SenderConfig{}
	byName := cfg.Vendors.ByName()
	for k := range clients {
		out[k] = senderConfig(byName[string(k)])
	}
	return out
}

// defaultResource is the resources_id used when a push names none.
const defaultResource = "default"

// resourceFor returns the resource id names, or the "default" resource
// when id is empty.
func resourceFor(res map[string]configs.Resource, id string) configs.Resource {
	if id == "" {
		id = defaultResource
	}
	return res[id]
}

// simulatorDefaultResource is the push resource simulator mode adds as
// "default" when the config has none: OPPO refuses notifications without a
// channel (as the real service does on Android 8+), so the built-in
// simulators need one to show pushes flowing out of the box.
func simulatorDefaultResource() configs.Resource {
	return configs.Resource{Vendors: map[string]configs.ResourceVendor{
		"oppo":   {ChannelID: "herald_im", Category: "IM", NotifyLevel: 2},
		"xiaomi": {ChannelID: "herald_im"},
		"vivo":   {Category: "IM"},
		"huawei": {Category: "IM"},
	}}
}

// callInvite is the push that rings an offline invitee's device: high
// priority, expiring at the call's deadline, carrying call_id, the inviter
// and the deadline in its custom data.
func (c *composer) callInvite(kind vendors.Kind, callID string, voip bool, userID string) (*vendors.Notification, error) {
	call, ok, err := c.store.GetCall(callID)
	if err != nil || !ok {
		return nil, err
	}
	left := time.UnixMilli(call.DeadlineAt).Sub(c.clock.Now())
	if left <= 0 || !call.Ringing() {
		return nil, nil // no longer ringing: ringing a phone now would be wrong
	}
	for _, iv := range call.Invitees {
		if iv.UserID == userID && iv.State != "ringing" {
			return nil, nil // this invitee answered or stopped ringing meanwhile
		}
	}
	data := map[string]string{"type": "call_invite", "call_id": call.CallID, "inviter": call.Inviter,
		"deadline": strconv.FormatInt(call.DeadlineAt, 10)}
	if len(call.Data) > 0 {
		data["call_data"] = string(call.Data)
	}
	res := resourceFor(*c.resources.Load(), call.Resources)
	n := vendors.Compose(vendors.Content{MessageID: CallMessageID(call.CallID), Title: call.Title, Body: call.Content,
		Data: data, Priority: vendors.PriorityHigh, TTL: left, VoIP: voip}, vendorResource(res, kind))
	n.VoIP = voip
	return &n, nil
}

// callCancel is the notice that stops a ringing phone: a data message (a
// VoIP push for PushKit tokens) with call_id and the reason.
func (c *composer) callCancel(kind vendors.Kind, callID, reason string, voip bool) (*vendors.Notification, error) {
	call, ok, err := c.store.GetCall(callID)
	if err != nil || !ok {
		return nil, err
	}
	if c.clock.Now().After(time.UnixMilli(call.DeadlineAt).Add(5 * time.Minute)) {
		return nil, nil // no phone rings past the deadline: nothing left to stop
	}
	data := map[string]string{"type": "call_cancel", "call_id": call.CallID, "inviter": call.Inviter, "reason": reason}
	res := resourceFor(*c.resources.Load(), call.Resources)
	n := vendors.Compose(vendors.Content{MessageID: "cancel-" + reason + "-" + call.CallID, Title: call.Title,
		Body: cancelText(reason), Data: data, Passthrough: !voip, Priority: vendors.PriorityHigh,
		TTL: 5 * time.Minute, VoIP: voip}, vendorResource(res, kind))
	n.VoIP = voip
	return &n, nil
}

// CallMessageID is the message_id an invitation push carries.
func CallMessageID(callID string) string { return "call-" + callID }

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
