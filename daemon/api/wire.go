package api

import "github.com/herald-push/herald/client"

// The API's request and answer bodies are the client package's wire types:
// the handlers decode and write exactly what the Go client sends and
// reads, and what openapi.json describes.
type (
	PutDeviceRequest      = client.PutDeviceRequest
	PutDeviceResponse     = client.PutDeviceResponse
	BatchDevice           = client.BatchDevice
	DeviceBatchRequest    = client.DeviceBatchRequest
	DeviceBatchResponse   = client.DeviceBatchResponse
	LogoutRequest         = client.LogoutRequest
	BadgeRequest          = client.BadgeRequest
	UserResponse          = client.UserResponse
	DeviceResponse        = client.DeviceResponse
	PresenceRequest       = client.PresenceRequest
	PresenceUpdate        = client.PresenceUpdate
	PresenceResponse      = client.PresenceResponse
	CameOnline            = client.CameOnline
	GroupMembersRequest   = client.GroupMembersRequest
	GroupMembersResponse  = client.GroupMembersResponse
	GroupMembersPage      = client.GroupMembersPage
	MessageRequest        = client.MessageRequest
	MessageTo             = client.MessageTo
	MessagePush           = client.MessagePush
	MessageResponse       = client.MessageResponse
	MessageStatusResponse = client.MessageStatusResponse
	MessageVendorStatus   = client.MessageVendorStatus
	MessageFailure        = client.MessageFailure
	MessageFailuresPage   = client.MessageFailuresPage
	InboxMessage          = client.InboxMessage
	InboxPage             = client.InboxPage
	AckRequest            = client.AckRequest
	CallRequest           = client.CallRequest
	CallPush              = client.CallPush
	CallByRequest         = client.CallByRequest
	InviteeResponse       = client.InviteeResponse
	CallResponse          = client.CallResponse
	CallList              = client.CallList
	PushTestRequest       = client.PushTestRequest
	PushTestResult        = client.PushTestResult
	PushTestResponse      = client.PushTestResponse
	StatsResponse         = client.StatsResponse
	VendorStats           = client.VendorStats
	VendorLimits          = client.VendorLimits
	ReceiptStats          = client.ReceiptStats
	TestPushStats         = client.TestPushStats
	StorageStats          = client.StorageStats
	DeadLetter            = client.DeadLetter
	DeadLettersPage       = client.DeadLettersPage
	ReplayRequest         = client.ReplayRequest
	ReplayResponse        = client.ReplayResponse
	ReloadResponse        = client.ReloadResponse
	WebhookEndpoint       = client.WebhookEndpoint
	WebhookList           = client.WebhookList
	WebhookDeadEvent      = client.WebhookDeadEvent
	WebhookDeadPage       = client.WebhookDeadPage
	WebhookReplayRequest  = client.WebhookReplayRequest
	ReceiptResponse       = client.ReceiptResponse
	HealthResponse        = client.HealthResponse
)
