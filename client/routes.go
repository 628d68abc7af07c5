package client

import (
	"context"
	"net/url"
	"strconv"
)

// Page picks a page of a listing: After is the previous page's Next
// ("" = the first page), Limit how many items (0 = the route's default).
type Page struct {
	After string
	Limit int
}

// query is p as a query string, with extra name/value pairs first.
func (p Page) query(extra ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	if p.After != "" {
		v.Set("after", p.After)
	}
	if p.Limit > 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Health is GET /healthz: the process serves.
func (c *Client) Health(ctx context.Context) error {
	return c.call(ctx, repeat, "GET", "/healthz", nil, nil)
}

// Ready is GET /readyz: the daemon has started and is not shutting down
// (a *Error with status 503 otherwise). It is not retried.
func (c *Client) Ready(ctx context.Context) error {
	return c.once(ctx, "GET", "/readyz", nil, nil)
}

// Metrics is GET /metrics, the Prometheus text.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	var out []byte
	err := c.call(ctx, repeat, "GET", "/metrics", nil, &out)
	return out, err
}

// PutDevice binds a device's push token to a user (PUT
// /v1/users/{user_id}/devices/{device_id}); a token bound to another user
// moves (MovedFrom).
func (c *Client) PutDevice(ctx context.Context, userID, deviceID string, req PutDeviceRequest) (PutDeviceResponse, error) {
	var out PutDeviceResponse
	err := c.call(ctx, repeat, "PUT", "/v1/users/"+esc(userID)+"/devices/"+esc(deviceID), req, &out)
	return out, err
}

// PutDevices binds up to 1000 devices in one request (POST
// /v1/devices/batch); binding is idempotent, so it is retried whole.
func (c *Client) PutDevices(ctx context.Context, devices []BatchDevice) (DeviceBatchResponse, error) {
	var out DeviceBatchResponse
	err := c.call(ctx, repeat, "POST", "/v1/devices/batch", DeviceBatchRequest{Devices: devices}, &out)
	return out, err
}

// DeleteDevice unbinds a device (DELETE /v1/users/{user_id}/devices/{device_id}).
func (c *Client) DeleteDevice(ctx context.Context, userID, deviceID string) error {
	return c.call(ctx, repeat, "DELETE", "/v1/users/"+esc(userID)+"/devices/"+esc(deviceID), nil, nil)
}

// Logout unbinds the user's device deviceID, or every device of the user
// when deviceID is "" (POST /v1/users/{user_id}/logout).
func (c *Client) Logout(ctx context.Context, userID, deviceID string) error {
	var body any
	if deviceID != "" {
		body = LogoutRequest{DeviceID: deviceID}
	}
	return c.call(ctx, repeat, "POST", "/v1/users/"+esc(userID)+"/logout", body, nil)
}

// SetBadge sets the user's badge count (PUT /v1/users/{user_id}/badge).
func (c *Client) SetBadge(ctx context.Context, userID string, count int64) error {
	return c.call(ctx, repeat, "PUT", "/v1/users/"+esc(userID)+"/badge", BadgeRequest{Count: &count}, nil)
}

// User is GET /v1/users/{user_id}: devices, presence, badge, inbox and
// ringing calls.
func (c *Client) User(ctx context.Context, userID string) (UserResponse, error) {
	var out UserResponse
	err := c.call(ctx, repeat, "GET", "/v1/users/"+esc(userID), nil, &out)
	return out, err
}

// Presence reports devices online or offline (POST /v1/presence).
func (c *Client) Presence(ctx context.Context, updates []PresenceUpdate) (PresenceResponse, error) {
	var out PresenceResponse
	err := c.call(ctx, repeat, "POST", "/v1/presence", PresenceRequest{Updates: updates}, &out)
	return out, err
}

// ChangeGroup adds and removes group members (PUT /v1/groups/{group_id}/members).
func (c *Client) ChangeGroup(ctx context.Context, groupID string, add, remove []string) (GroupMembersResponse, error) {
	var out GroupMembersResponse
	err := c.call(ctx, repeat, "PUT", "/v1/groups/"+esc(groupID)+"/members", GroupMembersRequest{Add: add, Remove: remove}, &out)
	return out, err
}

// GroupMembers is a page of the group's members (GET /v1/groups/{group_id}/members).
func (c *Client) GroupMembers(ctx context.Context, groupID string, p Page) (GroupMembersPage, error) {
	var out GroupMembersPage
	err := c.call(ctx, repeat, "GET", "/v1/groups/"+esc(groupID)+"/members"+p.query(), nil, &out)
	return out, err
}

// DeleteGroup deletes a group (DELETE /v1/groups/{group_id}).
func (c *Client) DeleteGroup(ctx context.Context, groupID string) error {
	return c.call(ctx, repeat, "DELETE", "/v1/groups/"+esc(groupID), nil, nil)
}

// SendMessage sends a message (POST /v1/messages). Without a MessageID it
// gets one (NewMessageID), so that a retry after a lost answer is taken
// as the duplicate it is; the answer names the id.
func (c *Client) SendMessage(ctx context.Context, req MessageRequest) (MessageResponse, error) {
	if req.MessageID == "" {
		req.MessageID = NewMessageID()
	}
	var out MessageResponse
	err := c.call(ctx, repeat, "POST", "/v1/messages", req, &out)
	return out, err
}

// MessageStatus is GET /v1/messages/{message_id}.
func (c *Client) MessageStatus(ctx context.Context, messageID string) (MessageStatusResponse, error) {
	var out MessageStatusResponse
	err := c.call(ctx, repeat, "GET", "/v1/messages/"+esc(messageID), nil, &out)
	return out, err
}

// MessageFailures is a page of the devices a message failed to reach
// (GET /v1/messages/{message_id}/failures).
func (c *Client) MessageFailures(ctx context.Context, messageID string, p Page) (MessageFailuresPage, error) {
	var out MessageFailuresPage
	err := c.call(ctx, repeat, "GET", "/v1/messages/"+esc(messageID)+"/failures"+p.query(), nil, &out)
	return out, err
}

// Inbox is a page of the user's inbox after seq after (GET
// /v1/users/{user_id}/inbox); limit 0 = the default.
func (c *Client) Inbox(ctx context.Context, userID string, after int64, limit int) (InboxPage, error) {
	p := Page{Limit: limit}
	if after > 0 {
		p.After = strconv.FormatInt(after, 10)
	}
	var out InboxPage
	err := c.call(ctx, repeat, "GET", "/v1/users/"+esc(userID)+"/inbox"+p.query(), nil, &out)
	return out, err
}

// AckInbox removes the user's inbox entries up to seq upTo (POST
// /v1/users/{user_id}/inbox/ack).
func (c *Client) AckInbox(ctx context.Context, userID string, upTo int64) error {
	return c.call(ctx, repeat, "POST", "/v1/users/"+esc(userID)+"/inbox/ack", AckRequest{UpTo: &upTo}, nil)
}

// Stats is GET /v1/stats: per-vendor counters, state and limits in force.
func (c *Client) Stats(ctx context.Context) (StatsResponse, error) {
	var out StatsResponse
	err := c.call(ctx, repeat, "GET", "/v1/stats", nil, &out)
	return out, err
}

// InviteCall starts a call (POST /v1/calls): it rings the offline
// invitees' phones. Not repeated after a connection error (a repeat of
// the same call_id is a conflict); 429 and 503 are retried.
func (c *Client) InviteCall(ctx context.Context, req CallRequest) (CallResponse, error) {
	var out CallResponse
	err := c.call(ctx, once, "POST", "/v1/calls", req, &out)
	return out, err
}

// Call is GET /v1/calls/{call_id}.
func (c *Client) Call(ctx context.Context, callID string) (CallResponse, error) {
	var out CallResponse
	err := c.call(ctx, repeat, "GET", "/v1/calls/"+esc(callID), nil, &out)
	return out, err
}

// The actions on a call.
const (
	CallCancel = "cancel" // the inviter, before anyone picked up
	CallAccept = "accept" // an invitee
	CallReject = "reject" // an invitee
	CallEnd    = "end"    // a party, after someone picked up
)

// CallAction is POST /v1/calls/{call_id}/{action} by user by.
func (c *Client) CallAction(ctx context.Context, callID, action, by string) (CallResponse, error) {
	var out CallResponse
	err := c.call(ctx, once, "POST", "/v1/calls/"+esc(callID)+"/"+esc(action), CallByRequest{By: by}, &out)
	return out, err
}

// UserCalls are the calls ringing the user (GET /v1/users/{user_id}/calls).
func (c *Client) UserCalls(ctx context.Context, userID string) (CallList, error) {
	var out CallList
	err := c.call(ctx, repeat, "GET", "/v1/users/"+esc(userID)+"/calls", nil, &out)
	return out, err
}

// TestPush sends a test push to one push_id or to every device of a user
// and reports each vendor's verdict (POST /v1/push/test, admin scope).
func (c *Client) TestPush(ctx context.Context, req PushTestRequest) (PushTestResponse, error) {
	var out PushTestResponse
	err := c.call(ctx, once, "POST", "/v1/push/test", req, &out)
	return out, err
}

// DeadLetters is a page of dead letters, of one vendor or every vendor's
// ("") (GET /v1/admin/dead-letters).
func (c *Client) DeadLetters(ctx context.Context, vendor string, p Page) (DeadLettersPage, error) {
	var out DeadLettersPage
	err := c.call(ctx, repeat, "GET", "/v1/admin/dead-letters"+p.query("vendor", vendor), nil, &out)
	return out, err
}

// ReplayDeadLetters sends matching dead letters again (POST
// /v1/admin/dead-letters/replay).
func (c *Client) ReplayDeadLetters(ctx context.Context, req ReplayRequest) (ReplayResponse, error) {
	var out ReplayResponse
	err := c.call(ctx, once, "POST", "/v1/admin/dead-letters/replay", req, &out)
	return out, err
}

// Reload reads the config file again and applies what can change while
// running (POST /v1/admin/reload).
func (c *Client) Reload(ctx context.Context) (ReloadResponse, error) {
	var out ReloadResponse
	err := c.call(ctx, once, "POST", "/v1/admin/reload", nil, &out)
	return out, err
}

// Webhooks is every webhook endpoint's delivery state (GET /v1/admin/webhooks).
func (c *Client) Webhooks(ctx context.Context) (WebhookList, error) {
	var out WebhookList
	err := c.call(ctx, repeat, "GET", "/v1/admin/webhooks", nil, &out)
	return out, err
}

// WebhookDeadLetters is a page of an endpoint's dead-lettered events (GET
// /v1/admin/webhooks/{endpoint}/dead-letters).
func (c *Client) WebhookDeadLetters(ctx context.Context, endpoint string, p Page) (WebhookDeadPage, error) {
	var out WebhookDeadPage
	err := c.call(ctx, repeat, "GET", "/v1/admin/webhooks/"+esc(endpoint)+"/dead-letters"+p.query(), nil, &out)
	return out, err
}

// ReplayWebhooks moves up to limit (0 = the default) of an endpoint's
// dead-lettered events back for delivery (POST
// /v1/admin/webhooks/{endpoint}/replay).
func (c *Client) ReplayWebhooks(ctx context.Context, endpoint string, limit int) (ReplayResponse, error) {
	var body any
	if limit > 0 {
		body = WebhookReplayRequest{Limit: &limit}
	}
	var out ReplayResponse
	err := c.call(ctx, once, "POST", "/v1/admin/webhooks/"+esc(endpoint)+"/replay", body, &out)
	return out, err
}

// Do sends any request: body nil (none), []byte (sent as is, as JSON) or
// a value (marshalled); out nil (ignored), *[]byte (the raw body) or a
// value to decode into. It is retried as the typed calls are, after a
// connection error too when rep is true. It is for what the typed calls
// do not cover: a load test's malformed requests, or relaying a vendor's
// receipt to POST /v1/receipts/{vendor} (the vendors' own route).
func (c *Client) Do(ctx context.Context, rep bool, method, path string, body, out any) error {
	return c.call(ctx, repeatable(rep), method, path, body, out)
}
