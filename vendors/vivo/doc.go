// Package vivo owns herald's vivo Push sender and its simulator.
//
// The Client is a hand-written REST client on net/http (HTTP/2 when the
// server offers it over ALPN). It authenticates with POST /message/auth
// (sign = lowercase hex MD5(appId+appKey+timestamp+appSecret)), caches the
// authToken for an hour (vivo keeps it 24 h; tokencache refreshes it five
// minutes before the hour ends), shares one refresh between concurrent
// senders, and on vivo's auth-failure answer (result 10000)
// refreshes once and resends. One token goes to POST /message/send; 2..1000
// tokens go to POST /message/saveListPayload (the message, answered with a
// taskId) followed by POST /message/pushToList {regIds, taskId}. vivo
// answers HTTP 200 with a business "result" code in the body; the client
// maps every answer to one vendors.Result per token.
//
// Other HTTP statuses: 5xx, 408 and 429 are Retry (with Retry-After), 401
// and 403 CredentialsBroken, other 4xx Rejected. The client never follows
// a redirect, its own http.Client or a copy of Config.HTTPClient alike: a
// 307/308 would re-send the authToken header (or, from /message/auth, the
// sign) to the host in Location, and that host's answer would count as
// vivo's. Any 3xx, from any endpoint, is therefore Misconfigured
// (vendors.RedirectResult: the sender pauses, as for CredentialsBroken,
// without counting an attempt) with code "redirect_refused" and a reason
// naming the status and Location's host; on /message/auth it fails the
// token fetch.
//
// Wire decisions (see the package's report and vendors.md §6):
//   - vivo needs both a title and content: a blank one borrows the other's
//     text (vendors.Text), so a push with only a title shows it as title
//     and content. Text past vivo's caps (title 40, content 100 width
//     units, a non-ASCII character counting 2) is cut, never refused.
//   - Custom data travels in clientCustomMap: "message_id" plus every
//     Notification.Data entry. vivo allows 10 pairs; past that the first 8
//     data keys in sorted order stay as they are and the rest are packed,
//     JSON-encoded, under "herald_more", so nothing is dropped silently.
//     The map as written may hold at most 1024 characters of keys and
//     values together; Client.Check (vendors.Checker) refuses a push past
//     that (PartData) and one without any text (PartText) before it is
//     accepted. Source: vivo's PUSH-UPS-API document
//     (dev.vivo.com.cn/documentCenter/doc/362) as quoted field by field
//     in the Go SDK github.com/modood/pushapi/vivopush (pkg.go.dev):
//     clientCustomMap "自定义key和Value键值对个数不能超过10个，且长度不能超过
//     1024字符, key和Value键值对总长度不能超过1024字符"; title "最大不超过40个
//     英文字符", content "最大不超过100个英文字符". Unconfirmed [U]: whether
//     vivo counts a character as a code point (herald and the simulator
//     do) or a UTF-16 unit (Java's String.length, 2 for an emoji), and
//     whether it refuses an empty key (the simulator does, so Check does).
//   - vivo has no data-only (passthrough) messages: a passthrough
//     notification without visible text is Rejected locally
//     ("passthrough_unsupported"); one with text is sent as a notification.
//   - vivo has no VoIP category: calls are classification 1 (system),
//     category "IM", notifyType 4 (ring and vibrate), like IM.
//   - Without a category the message is an IM system message
//     (classification 1, category "IM"); operational categories (NEWS,
//     CONTENT, MARKETING, SOCIAL) get classification 0.
//   - CollapseID becomes notifyId: its value when it is a positive 31-bit
//     integer, else its FNV-1a hash folded into 1..2^31-1.
//   - Daily-quota answers (10070, and 10252/10254 which vivo says mean
//     "do not call again today") are Retry with RetryAfter up to the next
//     midnight China Standard Time (UTC+8), when vivo's day rolls over.
//
// The Simulator speaks the same protocol for tests and simulator mode. Its
// unconfirmed codes (the exact auth-parameter codes past 10201, the
// parameter-error code, the rate-limit code 10072 and the unknown-taskId
// code) are marked [U] where they are defined.
//
// Arrival receipts: vivo's server API ("高级特性extra": "回执目前仅支持单推
// 接口且是正式消息", receipts exist for the single-push API only) takes
// extra.callback, the receiver's URL (at most 128 characters), and
// extra.callback.param (at most 64). With Config.ReceiptURL set, a
// notification with a ReceiptRef goes to each of its devices by
// /message/send (at most 16 requests in flight; RequestPerTarget is
// then true, so herald's sender charges each device one request of qps
// and max_in_flight), carrying both: a push
// that asks for receipts costs one request per device instead of two per
// 1000, the price of knowing what arrived. saveListPayload never carries
// them. vivo then posts a JSON object keyed
// by taskId, {"<taskId>":{"param":"…","targets":"<regId>,<regId>"}};
// ParseReceipts turns it into one delivered vendors.Receipt per regId
// (vivo's receipts are arrival receipts only). vivo signs nothing: the
// receiver relies on the unguessable reference. Unconfirmed [U]: any
// further fields of an entry, how many targets one carries, and vivo's
// retries. The simulator posts one receipt per accepted /message/send with
// extra.callback and refuses (10050, as other parameter errors) an
// extra.callback or extra.callback.param over its limit.
package vivo
