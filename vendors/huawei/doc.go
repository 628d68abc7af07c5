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
//     Passthrough messages have neither: data only.
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
// # Simulator
//
// Simulator serves, relative to its base URL:
//
//	POST /oauth2/v3/token and /oauth2/v2/token   client credentials (form)
//	POST /v1/{appId}/messages:send               push (JSON, Bearer)
//
// Token failures answer HTTP 400 {"error":1101|1102|1203,"sub_error":…,
// "error_description":…} as Huawei's account server does. Send answers use
// the HTTP status Huawei pairs with each code as far as known (unconfirmed):
// 401 for 80200001/80200003, 400 for 8010000x and 80300010, 403 80300002,
// 404 80300007, 413 80300008. Tokens starting "unregistered-" are
// illegal_tokens (80100000, or 80300007 when every token is); a token
// starting "unavailable-" makes the whole request HTTP 503 flow control;
// the QPS limit answers HTTP 503 too. Huawei documents no per-app daily
// quota code (its caps are per device and enforced by flow control), so a
// spent simkit daily quota also answers HTTP 503, plus a Retry-After header
// up to the next UTC midnight, which the client honours.
package huawei
