package client

import (
	"encoding/json"
	"time"
)

// The wire types of herald's HTTP API: every request body and every
// answer. The daemon serves exactly these (its handlers use them), and
// openapi.json is generated from them.

// PutDeviceRequest is the body of PUT /v1/users/{user_id}/devices/{device_id}.
type PutDeviceRequest struct {
	Vendor    string `json:"vendor"`     // apns, fcm, web, huawei, xiaomi, oppo or vivo
	Token     string `json:"token"`      // the vendor's push token (web: the FCM registration token)
	APNsEnv   string `json:"apns_env"`   // apns only: production, development or automatic; default production
	VoIPToken string `json:"voip_token"` // apns only: the device's PushKit token, for call invitations
	Locale    string `json:"locale"`     // BCP 47 tag, e.g. zh-Hant-TW; optional
}

// PutDeviceResponse is the answer to a device registration.
type PutDeviceResponse struct {
	PushID    string  `json:"push_id"` // "<vendor>:<token>"
	UserID    string  `json:"user_id"`
	DeviceID  string  `json:"device_id"`
	MovedFrom *string `json:"moved_from"` // the user the token was bound to before, if another
}

// BatchDevice is one item of POST /v1/devices/batch.
type BatchDevice struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	PutDeviceRequest
}

// DeviceBatchRequest is the body of POST /v1/devices/batch (1..1000 devices).
type DeviceBatchRequest struct {
	Devices []BatchDevice `json:"devices"`
}

// DeviceBatchResponse is the answer to POST /v1/devices/batch, one result
// per device in request order.
type DeviceBatchResponse struct {
	Results []PutDeviceResponse `json:"results"`
}

// LogoutRequest is the body of POST /v1/users/{user_id}/logout.
type LogoutRequest struct {
	DeviceID string `json:"device_id"`
}

// BadgeRequest is the body of PUT /v1/users/{user_id}/badge.
type BadgeRequest struct {
	Count *int64 `json:"count"`
}

// UserResponse is GET /v1/users/{user_id}.
type UserResponse struct {
	UserID       string           `json:"user_id"`
	Online       bool             `json:"online"`
	Devices      []DeviceResponse `json:"devices"`
	Badge        int64            `json:"badge"`
	InboxPending int64            `json:"inbox_pending"`
	RingingCalls []string         `json:"ringing_calls"`
}

// DeviceResponse is one device of a user.
type DeviceResponse struct {
	DeviceID string `json:"device_id"`
	PushID   string `json:"push_id"`
	Vendor   string `json:"vendor"`
	Online   bool   `json:"online"`
}

// PresenceRequest is the body of POST /v1/presence.
type PresenceRequest struct {
	Updates []PresenceUpdate `json:"updates"`
}

// PresenceUpdate is one device's presence.
type PresenceUpdate struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	Online   *bool  `json:"online"`
	TTLS     *int64 `json:"ttl_s"` // how long online holds without a refresh; default presence.default_ttl
}

// PresenceResponse is the answer to POST /v1/presence.
type PresenceResponse struct {
	Applied    int          `json:"applied"`
	CameOnline []CameOnline `json:"came_online"`
}

// CameOnline is a user who was offline before the update: what waits.
type CameOnline struct {
	UserID       string   `json:"user_id"`
	InboxPending int64    `json:"inbox_pending"`
	RingingCalls []string `json:"ringing_calls"`
}

// GroupMembersRequest is the body of PUT /v1/groups/{group_id}/members.
type GroupMembersRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

// GroupMembersResponse is the answer to PUT /v1/groups/{group_id}/members.
type GroupMembersResponse struct {
	Members int64 `json:"members"` // the group's size after the change
}

// GroupMembersPage is one page of GET /v1/groups/{group_id}/members.
type GroupMembersPage struct {
	Members []string `json:"members"`
	Next    string   `json:"next"` // pass as after for the next page; "" = the last page
}

// MessageRequest is the body of POST /v1/messages.
type MessageRequest struct {
	MessageID string          `json:"message_id"` // the sender's id; a repeat within messages.idempotency_window is answered, not sent again
	From      string          `json:"from"`
	To        *MessageTo      `json:"to"`
	Body      json.RawMessage `json:"body"` // any JSON, kept in the recipients' inboxes
	Push      *MessagePush    `json:"push"`
}

// MessageTo is a message's recipients: a peer, a list of users or a group.
type MessageTo struct {
	Type string   `json:"type"` // peer, users or group
	ID   string   `json:"id,omitempty"`
	IDs  []string `json:"ids,omitempty"`
}

// MessagePush is the offline push of a message.
type MessagePush struct {
	Title          string `json:"title"`
	Content        string `json:"content"`
	Payload        string `json:"payload"`
	ResourcesID    string `json:"resources_id"`
	BadgeIncrement int64  `json:"badge_increment"`
	Passthrough    bool   `json:"passthrough"`
	TTLS           *int64 `json:"ttl_s"`
	Priority       string `json:"priority"` // high or normal
	CollapseID     string `json:"collapse_id"`
}

// MessageResponse is the answer to POST /v1/messages.
type MessageResponse struct {
	MessageID  string `json:"message_id"`
	Recipients int64  `json:"recipients"`
	Online     *int64 `json:"online"`  // null while a group is still being fanned out
	Offline    *int64 `json:"offline"` // null while a group is still being fanned out
	Duplicate  bool   `json:"duplicate"`
}

// MessageStatusResponse is GET /v1/messages/{message_id}.
type MessageStatusResponse struct {
	MessageID string `json:"message_id"`
	// State is fanning_out while a group's members are still being
	// planned, sending while rows wait in the outbox (queued, in flight
	// or due for a retry), done when every row reached a final verdict.
	State      string                         `json:"state"`
	CreatedAt  string                         `json:"created_at"`
	Recipients int64                          `json:"recipients"`
	Online     int64                          `json:"online"`
	Offline    int64                          `json:"offline"`
	Vendors    map[string]MessageVendorStatus `json:"vendors"`
}

// MessageVendorStatus is one vendor's part of a message's status.
type MessageVendorStatus struct {
	Queued int64 `json:"queued"`
	Sent   int64 `json:"sent"`
	// Delivered is how many devices the vendor's arrival receipts said
	// the notification reached; absent for a vendor that posts none
	// (APNs, FCM, Web) and when receipts are off.
	Delivered     *int64           `json:"delivered,omitempty"`
	InvalidTokens int64            `json:"invalid_tokens"`
	Dead          int64            `json:"dead"`
	Expired       int64            `json:"expired"`
	FailedByCode  map[string]int64 `json:"failed_by_code"`
}

// MessageFailure is one device a message failed to reach.
type MessageFailure struct {
	Vendor   string `json:"vendor"`
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	// PushID is the dead letter's "<vendor>:<token>"; empty for an invalid
	// token, which was unbound and is not kept.
	PushID   string `json:"push_id,omitempty"`
	Failure  string `json:"failure"` // dead (among the dead letters) or invalid_token (unbound)
	Code     string `json:"code"`
	Attempts int64  `json:"attempts"`
}

// MessageFailuresPage is one page of GET /v1/messages/{message_id}/failures.
type MessageFailuresPage struct {
	Failures []MessageFailure `json:"failures"`
	Next     string           `json:"next"` // pass as after for the next page; "" = the last page
}

// InboxMessage is one entry of GET /v1/users/{user_id}/inbox.
type InboxMessage struct {
	Seq       int64           `json:"seq"`
	MessageID string          `json:"message_id"`
	From      string          `json:"from"`
	To        MessageTo       `json:"to"`
	Body      json.RawMessage `json:"body"`
	SentAt    string          `json:"sent_at"`
}

// InboxPage is one page of GET /v1/users/{user_id}/inbox.
type InboxPage struct {
	Messages []InboxMessage `json:"messages"`
	Next     int64          `json:"next"` // pass as after for the next page (the last seq read)
}

// AckRequest is the body of POST /v1/users/{user_id}/inbox/ack.
type AckRequest struct {
	UpTo *int64 `json:"up_to"`
}

// CallRequest is the body of POST /v1/calls.
type CallRequest struct {
	CallID   string          `json:"call_id"` // optional; generated when empty
	Inviter  string          `json:"inviter"`
	Invitees []string        `json:"invitees"`
	TimeoutS *int64          `json:"timeout_s"`
	Data     json.RawMessage `json:"data"`
	Push     *CallPush       `json:"push"`
}

// CallPush is a call invitation's notification.
type CallPush struct {
	Title       string `json:"title"`
	Content     string `json:"content"`
	ResourcesID string `json:"resources_id"`
}

// CallByRequest is the body of POST /v1/calls/{call_id}/{cancel,accept,reject,end}.
type CallByRequest struct {
	By string `json:"by"` // the user acting
}

// InviteeResponse is one invitee of a call.
type InviteeResponse struct {
	UserID string `json:"user_id"`
	State  string `json:"state"`            // ringing, accepted, rejected, cancelled, timed_out or ended
	Online *bool  `json:"online,omitempty"` // in the answer to POST /v1/calls only
}

// CallResponse is a call: the answer to POST /v1/calls and its actions,
// and GET /v1/calls/{call_id}.
type CallResponse struct {
	CallID   string            `json:"call_id"`
	Inviter  string            `json:"inviter"`
	State    string            `json:"state"` // as an invitee's, for the call as a whole
	Deadline string            `json:"deadline"`
	Invitees []InviteeResponse `json:"invitees"`
	Data     json.RawMessage   `json:"data,omitempty"`
}

// CallList is GET /v1/users/{user_id}/calls: the calls ringing the user.
type CallList struct {
	Calls []CallResponse `json:"calls"`
}

// PushTestRequest is the body of POST /v1/push/test.
type PushTestRequest struct {
	PushID      string `json:"push_id"` // "<vendor>:<token>", or
	UserID      string `json:"user_id"` // every device of the user
	Title       string `json:"title"`
	Content     string `json:"content"`
	Payload     string `json:"payload"`
	ResourcesID string `json:"resources_id"`
	VoIP        bool   `json:"voip"`
}

// PushTestResult is one target's verdict in the answer to POST /v1/push/test.
type PushTestResult struct {
	PushID    string `json:"push_id"`
	DeviceID  string `json:"device_id,omitempty"`
	Vendor    string `json:"vendor"`
	OK        bool   `json:"ok"`
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	LatencyMS int64  `json:"latency_ms"`
	// Unbound: the vendor declared the token invalid and its binding was
	// removed, as for any other push.
	Unbound bool `json:"unbound,omitempty"`
}

// PushTestResponse is the answer to POST /v1/push/test.
type PushTestResponse struct {
	MessageID string           `json:"message_id"`
	Results   []PushTestResult `json:"results"`
}

// StatsResponse is GET /v1/stats.
type StatsResponse struct {
	Vendors map[string]VendorStats `json:"vendors"`
	Storage StorageStats           `json:"storage"`
}

// VendorStats is one vendor's counters and state in GET /v1/stats.
type VendorStats struct {
	Sent          int64 `json:"sent"`
	Failed        int64 `json:"failed"`
	InvalidTokens int64 `json:"invalid_tokens"`
	RateLimited   int64 `json:"rate_limited"`
	Retried       int64 `json:"retried"`
	Dead          int64 `json:"dead"`
	Expired       int64 `json:"expired"`
	Queued        int64 `json:"queued"`
	Spilled       int64 `json:"spilled"`
	InFlight      int64 `json:"in_flight"`
	// DailyQuotaLeft is what today's quota has left; null = no quota
	// (limits.daily_quota 0).
	DailyQuotaLeft *int64 `json:"daily_quota_left"`
	Paused         bool   `json:"paused"`
	Breaker        string `json:"breaker"`        // closed, open (the vendor looks down), half_open (probing)
	BreakerOpened  int64  `json:"breaker_opened"` // times the breaker opened
	// FailedByCode is Failed by the vendor's code (at most 64 codes,
	// then "other").
	FailedByCode map[string]int64 `json:"failed_by_code"`
	TestPushes   TestPushStats    `json:"test_pushes"`
	// Receipts are the vendor's arrival receipts; absent for a vendor
	// that posts none (APNs, FCM, Web) and when receipts are off.
	Receipts *ReceiptStats `json:"receipts,omitempty"`
	Limits   VendorLimits  `json:"limits"` // in force now (the config as the last reload left it)
}

// VendorLimits are a vendor's limits in force (vendors.<name>.limits).
type VendorLimits struct {
	QPS         float64 `json:"qps"`
	Burst       int     `json:"burst"`
	MaxInFlight int     `json:"max_in_flight"`
	BatchSize   int     `json:"batch_size"`
	BatchWaitMS int64   `json:"batch_wait_ms"`
	MaxQueued   int     `json:"max_queued"`
	DailyQuota  *int64  `json:"daily_quota"` // null = no quota
}

// ReceiptStats are one vendor's arrival receipts in GET /v1/stats.
type ReceiptStats struct {
	Asked     int64 `json:"asked"`     // message notifications sent asking for a receipt
	Delivered int64 `json:"delivered"` // devices the vendor reported the notification reached
	Duplicate int64 `json:"duplicate"` // receipt entries counted before (vendor retries)
	Unmatched int64 `json:"unmatched"` // entries naming no kept message (expired, forged, none)
	// ArrivalRate is delivered / asked: receipts come seconds after the
	// send, and never for a device that stays offline past the vendor's
	// TTL, so it trails sent.
	ArrivalRate float64 `json:"arrival_rate"`
}

// TestPushStats counts one vendor's test pushes (POST /v1/push/test) by
// verdict; they go to the vendor directly, so no other counter has them.
type TestPushStats struct {
	Sent          int64 `json:"sent"`
	Failed        int64 `json:"failed"`
	InvalidTokens int64 `json:"invalid_tokens"`
}

// StorageStats is the data directory's free space in /v1/stats.
type StorageStats struct {
	FreeBytes    uint64 `json:"free_bytes"`
	MinFreeBytes uint64 `json:"min_free_bytes"` // min_free_space; 0 = not watched
	Low          bool   `json:"low"`            // writes that add data get 507 storage_full
}

// DeadLetter is one dead letter in GET /v1/admin/dead-letters.
type DeadLetter struct {
	Vendor string `json:"vendor"`
	// Kind is what the row pushed: message, call_invite (MessageID is the
	// call_id) or call_cancel (the call_id, with Reason: why it stopped
	// ringing).
	Kind      string `json:"kind"`
	MessageID string `json:"message_id"`
	Reason    string `json:"reason,omitempty"`
	UserID    string `json:"user_id"`
	DeviceID  string `json:"device_id"`
	PushID    string `json:"push_id"`
	Attempts  int64  `json:"attempts"`
	LastCode  string `json:"last_code"`
}

// DeadLettersPage is one page of GET /v1/admin/dead-letters.
type DeadLettersPage struct {
	DeadLetters []DeadLetter `json:"dead_letters"`
	Next        string       `json:"next"` // pass as after for the next page; "" = the last page
}

// ReplayRequest picks the dead letters POST /v1/admin/dead-letters/replay
// sends again.
type ReplayRequest struct {
	Vendor    string `json:"vendor"`
	MessageID string `json:"message_id"` // a message's id or a call's call_id
	Kind      string `json:"kind"`       // message, call_invite or call_cancel ("" = any)
	LastCode  string `json:"last_code"`
	Limit     *int   `json:"limit"`
}

// ReplayResponse is the answer to a replay of dead letters (pushes or
// webhook events).
type ReplayResponse struct {
	Replayed int  `json:"replayed"`
	More     bool `json:"more"` // more matched than limit: replay again
}

// ReloadResponse is POST /v1/admin/reload's answer.
type ReloadResponse struct {
	Reloaded     bool     `json:"reloaded"`
	Applied      []string `json:"applied"`       // e.g. "vendors.fcm.limits/retry", "resources", "tls", "vendors.huawei.ca_file"
	NeedsRestart []string `json:"needs_restart"` // top-level config sections, e.g. "webhooks", "listen"
	Unchanged    bool     `json:"unchanged"`     // the file says what is running
}

// WebhookEndpoint is one endpoint in GET /v1/admin/webhooks: its delivery
// state and what waits in the store (its URL is left out: it may hold a
// secret).
type WebhookEndpoint struct {
	Name          string     `json:"name"`
	Events        []string   `json:"events"`
	Delivered     int64      `json:"delivered"`       // events delivered (a 2xx answer) since start
	Requests      int64      `json:"requests"`        // deliveries tried since start
	Failures      int64      `json:"failures"`        // deliveries that failed since start
	DeadLettered  int64      `json:"dead_lettered"`   // events dead-lettered since start
	Failing       int        `json:"failing"`         // failed deliveries in a row (0 = healthy)
	LastError     string     `json:"last_error"`      // the last failure's reason
	LastSuccess   *time.Time `json:"last_success"`    // null = none since start
	NextAttemptAt *time.Time `json:"next_attempt_at"` // while failing: when the batch is tried again; else null
	Pending       int64      `json:"pending"`         // events awaiting delivery
	Dead          int64      `json:"dead"`            // events dead-lettered (GET …/dead-letters, POST …/replay)
}

// WebhookList is GET /v1/admin/webhooks.
type WebhookList struct {
	Endpoints []WebhookEndpoint `json:"endpoints"`
}

// WebhookDeadEvent is one dead-lettered event.
type WebhookDeadEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Attempts  int64           `json:"attempts"`
	LastError string          `json:"last_error"`
	Data      json.RawMessage `json:"data"`
}

// WebhookDeadPage is one page of GET /v1/admin/webhooks/{endpoint}/dead-letters.
type WebhookDeadPage struct {
	Events []WebhookDeadEvent `json:"events"`
	Next   string             `json:"next"` // pass as after for the next page; "" = the last page
}

// WebhookReplayRequest is POST /v1/admin/webhooks/{endpoint}/replay's
// body (optional).
type WebhookReplayRequest struct {
	Limit *int `json:"limit"` // most events moved back, 1..10000; default 1000
}

// ReceiptResponse is the answer to a vendor's POST /v1/receipts/{vendor}.
type ReceiptResponse struct {
	Delivered int `json:"delivered"` // devices counted as delivered now
	Duplicate int `json:"duplicate"` // already counted (the vendor repeated its receipt)
	Unmatched int `json:"unmatched"` // references naming no kept message: expired, forged, or none
	Other     int `json:"other"`     // entries that are not arrivals (clicked, token invalid, …): not counted
}

// HealthResponse is GET /healthz and GET /readyz.
type HealthResponse struct {
	Status string `json:"status"` // ok (healthz) or ready (readyz)
}

// ErrorResponse is every error answer's body.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong.
type ErrorBody struct {
	Code    string `json:"code"` // invalid_argument, unauthenticated, permission_denied, not_found, …
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`  // the request field at fault, as a JSON path
	Vendor  string `json:"vendor,omitempty"` // the vendor whose limit a push breaks
}
