// Package huawei owns herald's Huawei Push Kit (HMS Core, REST v1) sender
// and its simulator.
//
// # Client
//
// Client is a hand-written REST client on net/http (HTTP/2 when the server
// offers it through TLS ALPN). It fetches an app-level access token with the
// OAuth 2.0 client-credentials grant (POST {AuthURL}, form
// grant_type=client_credentials&client_id=AppID&client_secret=AppSecret),
// caches it (tokencache) and refreshes it a margin before expires_in ends
// (a tenth of the lifetime, at most five minutes), one fetch shared by
// concurrent Sends, which go on with the old token meanwhile. Each
// Send is one POST {PushURL}/v1/{AppID}/messages:send with up to 1000 tokens
// in message.token. When the push API answers 80200001 (OAuth error) or
// 80200003 (token expired) the client drops that token, refreshes once and
// resends the same request; if the second answer is an auth error again the
// targets get CredentialsBroken.
//
// # Wire mapping
//
//   - Custom data: message.data carries a JSON object string of
//     Notification.Data plus "message_id" = Notification.MessageID, for
//     notification and data (passthrough) messages alike. Huawei documents
//     message.data as "a JSON string for notification messages, a common
//     string or JSON string for data messages"; for a notification message
//     the device hands it to the app as the launch intent's extras when the
//     user taps it (click_action type 3, open the app; EMUI NC 9.1.1+), and
//     for a data message it is RemoteMessage.getData() in onMessageReceived.
//     The simulator reads message_id from there (android.data, which Huawei
//     lets override message.data, is honoured too but never sent).
//   - Notification messages: message.notification {title, body} and
//     android.notification {title, body, channel_id, sound or
//     default_sound, tag, importance NORMAL, click_action {type 3}}.
//     Huawei requires both a title and a body, so a blank one borrows the
//     other's text (vendors.Text). Passthrough messages have neither:
//     data only.
//   - android.category: Notification.Category upper-cased (IM, VOIP, …);
//     VoIP forces VOIP. For data messages only the categories Huawei accepts
//     there (VOIP, PLAY_VOICE) are sent.
//   - android.urgency: HIGH for data messages that are high priority or
//     VoIP, else NORMAL (HIGH needs Huawei's special permission).
//   - android.ttl: Notification.TTL in whole seconds ("86400s"), at most
//     15 days; omitted (Huawei default one day) when zero.
//   - Collapse: Huawei's collapse_key is an integer offline-cache group
//     (-1 all, 0 latest, 1–100 groups), not a string. CollapseID goes to
//     android.notification.tag ("messages with the same tag replace each
//     other"); only a CollapseID that is itself an integer in -1..100 is
//     also sent as collapse_key. Hashing strings into 100 groups would make
//     unrelated conversations drop each other's offline messages.
//   - Badge, ThreadID, Mutable and NotifyLevel have no Huawei equivalent the
//     server can set without the app's launcher class name, and are ignored.
//
// # Answers
//
// The client never follows a redirect: a 307/308 would re-send the bearer
// token, or from the token endpoint the client secret, to the host in
// Location. Any 3xx, from either endpoint and whatever its body (a
// redirect with 80000000 is not a delivery), is Misconfigured
// (vendors.RedirectResult: the sender pauses, as for CredentialsBroken,
// without counting an attempt) with code "redirect_refused" and a reason
// naming the status and Location's host.
//
// Otherwise the push API answers {"code","msg","requestId"} with a string
// code; the client trusts the body code first and the HTTP status second:
// 80000000 Delivered; 80100000 partial success, msg is a JSON string
// {"success","failure","illegal_tokens"} whose tokens are TokenInvalid and
// the rest Delivered; 80300007 all TokenInvalid; 80100001, 80100003,
// 80100004, 80300008, 80300010, 80300011 Rejected; 80300002 and 80600003
// CredentialsBroken; 81000001 Retry; HTTP 429, 5xx (503 = flow control)
// Retry honouring Retry-After. Token-endpoint failures (HTTP 400/401 with
// {"error":1101,"sub_error":12304,…}) are CredentialsBroken for every
// target; its 429/5xx are Retry. Transport errors and per-request timeouts
// are Retry; a cancelled caller context is the call's error.
//
// # Limits (Check)
//
// Client.Check builds the request Send builds and refuses what Huawei
// documents it refuses, as the simulator does:
//
//   - A notification message without text (vendors.PartText): Huawei
//     marks notification.title and notification.body mandatory, and
//     android.notification title/body each need it or message.notification
//     to set it. The encoder fills a blank one from the other, so only a
//     push with no text at all (blank or spaces) is refused; a passthrough
//     push needs none.
//   - An android.category Huawei does not list (vendors.PartResource): the
//     push resource's category, upper-cased, on a notification message
//     (IM, VOIP, SUBSCRIPTION, TRAVEL, HEALTH, WORK, ACCOUNT, EXPRESS,
//     FINANCE, DEVICE_REMINDER, MAIL, PLAY_VOICE, MARKETING). Data messages
//     carry only VOIP or PLAY_VOICE, so theirs never fails.
//   - The message size (vendors.PartPayload): at most 4096 bytes of body,
//     tokens excluded (80300008), measured as the simulator measures it:
//     the body's bytes less its JSON token array (the "token" key counts).
//
// # What was checked
//
// Huawei, HMS Core Push Kit server API "下行消息" (downlink message),
// developer.huawei.com/consumer/cn/doc/HMSCore-References/https-send-api-0000001050986197
// (a stored copy, read while writing this):
//
//   - 使用约束: "消息体最大不能超过4096Bytes（不包括Token）" (the body may not
//     exceed 4096 bytes, tokens excluded), and 80300008 "消息体大小（不含
//     Token）超过系统设置的默认值（4096Bytes）".
//   - Notification: title and body "是" (mandatory); AndroidNotification
//     title/body: "此处title和message.notification.title两者最少需要设置一个"
//     (at least one of the two must be set), likewise body.
//   - HTTP error codes, a table apart from the result codes: 200 成功
//     (success); 400 参数错误, "请检查响应内容错误码" (parameter error: check
//     the result code in the body); 401 鉴权失败 (authentication); 404 找不到
//     服务, "请检查请求URI是否正确" (service not found: check the request
//     URI); 500; 502; 503 流量控制 (flow control). No result code is paired
//     with a status; 80300007 is "所有Token都是无效的" (all tokens invalid).
//
// HMS-Core/hms-push-serverdemo-python (the official Python admin SDK)
// raises "http status code is … in send." on any status but 200 and never
// reads that body's code; the Go demo (hms-push-serverdemo-go) reads the
// code whatever the status. The simulator answered 404 for 80300007
// before; as 404 is documented only for a wrong URI, it now answers 400,
// the documented status of a refusal with a result code, and 80300008
// (413 before, a status the table lacks) likewise.
//
// Unconfirmed: the real status paired with 80300007, 80300008 and
// 80300002 (it could be 200, the only one the Python SDK would read); the
// result code for a notification message without text (80100003 here);
// whether Huawei counts the "token" key in the 4096 bytes, and whether it
// refuses a title of spaces. The client does not depend on any of them:
// it trusts the body's result code first and the status second, so
// 80300007 is TokenInvalid on 200, 400 or 404 alike.
//
// # Arrival receipts
//
// A notification with a ReceiptRef asks for a receipt: android.bi_tag
// carries the reference and android.receipt_id the app's receipt
// configuration id (Config.ReceiptID; "" = the app's default receipt
// configuration). The receipt URL itself, and an optional callback user
// name and key, are set in AppGallery Connect, not in the push. Huawei
// then posts (receipt API V1, developer.huawei.com/consumer/en/doc/
// HMS-References/push-receiptapi and doccenter-references/api/
// push-api-msg-receipt):
//
//	POST <receipt URL>  application/json
//	X-HUAWEI-CALLBACK-ID: timestamp=<ms>; nonce=<n>; value=<sig>   (when a user and key are set)
//	{"statuses":[{"biTag","appid","token","status","timestamp","requestId"}]}
//
// merging results, at most 100 statuses a request. status 0 is delivered
// to the device; the others (app not installed, token invalid, device
// offline past the TTL, …) are not, and are kept as the receipt's Status.
// ParseReceipts decodes it; VerifyCallbackID checks the header, value =
// Base64(HMAC-SHA256(key, timestamp+nonce+user)), in constant time and
// within a skew window. Unconfirmed: whether a status arrives as a number
// or a string (both are taken), and Huawei's retry schedule for a receiver
// that does not answer 200. The simulator posts status 0 for every
// accepted token of a push with a bi_tag to SimReceipt.URL, signed when
// SimReceipt has a user and key.
//
// # Simulator
//
// Simulator serves, relative to its base URL:
//
//	POST /oauth2/v3/token and /oauth2/v2/token   client credentials (form)
//	POST /v1/{appId}/messages:send               push (JSON, Bearer)
//
// Token failures answer HTTP 400 {"error":1101|1102|1203,"sub_error":…,
// "error_description":…} as Huawei's account server does. Send answers use
// the HTTP statuses of Huawei's documented table (see "What was checked"):
// 200 for 80000000 and 80100000, 401 for 80200001/80200003, 400 for every
// other result code the simulator answers (8010000x, 80300007, 80300008,
// 80300010), 503 for flow control. A notification message without a
// title or a body (in message.notification or android.notification)
// answers 400 80100003. Tokens starting "unregistered-" are
// illegal_tokens (80100000, or 80300007 when every token is); a token
// starting "unavailable-" makes the whole request HTTP 503 flow control;
// the QPS limit answers HTTP 503 too. Huawei documents no per-app daily
// quota code (its caps are per device and enforced by flow control), so a
// spent simkit daily quota also answers HTTP 503, plus a Retry-After header
// up to the next UTC midnight, which the client honours.
package huawei
