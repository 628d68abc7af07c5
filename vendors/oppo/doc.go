// Package oppo owns herald's OPPO Push (HeyTap Push) sender and its
// simulator.
//
// # Client
//
// Client is a hand-written REST client on net/http (HTTP/2 when the server
// offers it through TLS ALPN, HTTP/1.1 otherwise; no SDK exists for Go). It
// signs in with POST {Endpoint}/server/v1/auth, form app_key, timestamp
// (ms) and sign = hex SHA-256(app_key + timestamp + master_secret), and
// caches the auth_token (tokencache), refreshing it after 23 of its 24
// hours by the client's own clock and handing it out until 5 minutes
// before its end, so vendor clock skew cannot make it send an expired
// token. One refresh is shared by every concurrent Send (those that come
// while it runs use the old token); it runs on its own goroutine bounded by
// the per-request timeout, so a caller giving up does not fail the others.
//
// Every Send uses POST /server/v1/message/notification/unicast_batch, form
// auth_token and messages (a JSON array, at most 1000; larger target lists
// become consecutive requests), even for a single token: one request shape
// and one answer shape (per-registration-id items with errorCode) for every
// batch size, where /unicast would answer a bad token with a top-level
// 10000 instead. When OPPO answers 11 (invalid auth_token, e.g. expired
// early or revoked) the client drops that token, refreshes once and resends;
// an 11 for the fresh token too is CredentialsBroken.
//
// # Wire mapping
//
// Each message is {"target_type":2,"target_value":regId,"notification":{…}}:
//
//   - title and content from Notification.Title and Body. OPPO caps the
//     title at 50 characters and content at 50, or 128 with the long-text
//     style 2: longer bodies switch to style 2 and both are cut to fit
//     rather than having the whole push refused. OPPO requires both; an
//     empty one is sent as is and answered 40 (Rejected).
//   - Custom data: action_parameters, a JSON object string of
//     Notification.Data plus "message_id" = Notification.MessageID (which
//     wins over a Data entry of that name), keys sorted. With
//     click_action_type 0 (open the app) OPPO hands these to the launched
//     activity as intent extras. The simulator reads message_id from there.
//   - app_message_id: OPPO's dedup id, so a retried Send is not shown twice.
//     It is the first 128 bits of SHA-256(MessageID NUL regId) in hex, per
//     target, because OPPO does not say whether it dedups per target or per
//     app [U], and per app would drop all but one target of a batch.
//   - channel_id from Notification.Channel (required by OPPO for Android 8+,
//     the simulator answers 40 without it).
//   - category and notify_level from Notification.Category and NotifyLevel.
//     A VoIP (call) notification gets category "IM" and notify_level 16
//     (tray + lock screen + banner, sound, vibration) unless those are set;
//     OPPO has no call or high-priority type of its own, and IM with
//     level 16 is the strongest reminder a private-channel message gets.
//     Priority is otherwise ignored.
//   - off_line_ttl: Notification.TTL in whole seconds, rounded up and kept
//     within 3600 (a minimum reported by a secondary source [U]) and ten
//     days; omitted (OPPO's default) when zero.
//   - notify_id: OPPO's replacement id is an integer, so CollapseID is
//     hashed to one (FNV-1a 32, positive).
//   - Passthrough: OPPO has notification messages only. A passthrough
//     notification that has a title or body (a call invite, say) is sent as
//     a notification, the best OPPO can do; one with neither is Rejected
//     ("passthrough_unsupported") without a request, rather than popping up
//     an empty notification.
//   - Badge, Sound (the channel owns it), ThreadID and Mutable have no OPPO
//     server field and are ignored.
//
// # Answers
//
// OPPO answers HTTP 200 {"code","message","data"}; unicast_batch's data
// is [{"messageId","registrationId"[,"errorCode","errorMessage"]}], matched
// to targets by registrationId. Per item: no errorCode Delivered, 10000
// TokenInvalid, other codes as below. Top-level codes apply to every
// target: -1, -2 (flow control), 13, 55 Retry; 33 (daily quota) Retry with
// RetryAfter to the next midnight China Standard Time (UTC+8, where OPPO's
// quota day is assumed to roll over [U]); 11 refresh and resend; 14–19, 26,
// 27, 28, 30 CredentialsBroken; 12, 20–25, 29, 31, 32, 34, 40, 41, 51, 59,
// 67 and unknown codes Rejected. Any auth refusal that is not transient is
// CredentialsBroken. Redirects are never followed (a 307/308 would re-send
// the form, and the sign or auth_token in it, to the host in Location): any
// 3xx, from auth or unicast_batch and whatever its body (code 0 included),
// is Misconfigured (vendors.RedirectResult: the sender pauses, as for
// CredentialsBroken, without counting an attempt) with code
// "redirect_refused" and a reason naming the status and Location's host.
// HTTP 5xx/429, transport errors and per-request timeouts are Retry
// (honouring Retry-After); an unreadable answer is Retry too
// ("malformed_response": app_message_id makes the resend harmless). A
// cancelled caller context is the call's error.
//
// # Arrival receipts
//
// With Config.ReceiptURL set, a notification with a ReceiptRef carries
// call_back_url (the URL, at most 200 characters) and call_back_parameter
// (the reference, at most 50; both counted in characters, "中英文均以一个
// 计算", as OPPO's server SDK checks them), on unicast and unicast_batch
// alike. OPPO then posts a JSON array to call_back_url, one entry per
// event: {"messageId","appId","taskId","registrationIds":"<id>,<id>",
// "eventTime","param","eventType":"push_arrive"} (OPPO push server API,
// "消息回执"; the server SDK's message fields). ParseReceipts turns it into
// one vendors.Receipt per registration id, push_arrive delivered. OPPO
// signs nothing: the receiver relies on the unguessable reference.
// Unconfirmed [U]: eventTime's type (a string of milliseconds in the
// examples seen; numbers are taken too), the other event types, how many
// entries one request carries and OPPO's retries. The simulator posts a
// push_arrive entry for every accepted target whose message has
// call_back_url, grouped by URL and parameter, at most MaxReceiptEntries a
// request, and refuses (41) a call_back_url or call_back_parameter over
// its limit.
//
// # Simulator
//
// Simulator serves, relative to its base URL, with OPPO's form encoding and
// HTTP 200 JSON answers:
//
//	POST /server/v1/auth                               app_key, timestamp, sign
//	POST /server/v1/message/notification/unicast       auth_token, message
//	POST /server/v1/message/notification/unicast_batch auth_token, messages (≤ 1000)
//
// Auth checks presence (15, 17, 18), the timestamp within ±10 minutes (19),
// the app key (14) and the sign (16), and issues random tokens that expire
// after SimOptions.AuthTokenTTL (default 24 h); sends with an unknown or
// expired token get 11, without one 29. Messages are checked as OPPO
// documents them (40 missing field, including channel_id; 41 bad value; 67
// unknown category, notify_level without category, level outside 1/2/16, or
// 16 on an operational category). A target starting "unregistered-" is a
// per-item errorCode 10000 (top-level 10000 on /unicast); one starting
// "unavailable-" makes the whole request -1 (Service Currently
// Unavailable), keeping -2 for the QPS limit; a spent daily quota is 33.
// Received keeps the last 10 000 accepted messages.
package oppo
