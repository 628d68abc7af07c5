// Package xiaomi delivers notifications through Xiaomi MiPush and simulates
// MiPush for tests and simulator mode.
//
// It owns three things:
//
//   - Client, the production sender: a hand-written REST client on net/http
//     (HTTP/2 when the server offers it through ALPN) that posts one
//     application/x-www-form-urlencoded request to /v3/message/regid per
//     batch of up to 1000 registration ids, authenticated by the static
//     header "Authorization: key=<AppSecret>", and maps MiPush's answers
//     (HTTP 200 with a business code in a JSON body) to one vendors.Result
//     per target. Its SendEach (vendors.EachSender) posts a different
//     notification to each target through /v2/multi_messages/regids
//     (MultiPath), up to 1000 targets, in one request unless their
//     messages pass MaxEachBody bytes (then in as many as it takes).
//   - The wire encoding (encode.go): which Notification field becomes which
//     MiPush form field. Custom data travels twice: complete, as a JSON
//     object in "payload" (the passthrough content and the message content
//     the app gets on click), and as flattened "extra.<key>" entries, of
//     which MiPush allows at most ten custom ones: "extra.message_id" first,
//     then Data keys in sorted order; keys past the tenth, keys or values
//     over 1024 characters and keys that collide with MiPush's predefined
//     extras travel only in payload.
//   - Simulator, an http.Handler speaking the same wire protocol (paths
//     relative to its base URL, both endpoints) that checks the AppSecret
//     and the parameters, scripts failures by token prefix (simkit.Script),
//     enforces a QPS and daily-quota simkit.Gate and counts what it accepts
//     in a simkit.Recorder under the vendor name "xiaomi".
//
// Decisions where MiPush's documentation is thin:
//
//   - MiPush has no auth tokens to refresh: the AppSecret is sent on every
//     request, so a refused secret (21301) is final: CredentialsBroken.
//   - The client never follows a redirect, its own http.Client or a copy
//     of Config.HTTPClient alike: a 307/308 would re-send the
//     Authorization header, and with it the AppSecret, to the host in
//     Location, and that host's answer would count as MiPush's. Any 3xx,
//     whatever its body, is Misconfigured (vendors.RedirectResult: the
//     sender pauses, as for CredentialsBroken, without counting an
//     attempt) with code "redirect_refused" for every target and a reason
//     naming the status and Location's host. Other
//     statuses without a business code: 5xx, 408 and 429 are Retry, 401
//     and 403 CredentialsBroken, other 4xx Rejected.
//   - 20301 ("send failed") answers a regid request none of whose targets
//     MiPush accepted (a partly bad batch answers 0 with bad_regids), so it
//     makes every target of the request TokenInvalid, as SDK users do.
//   - 10034 (daily quota) is Retry with RetryAfter until the next midnight
//     in Beijing (UTC+8, no daylight saving), when MiPush's day turns.
//     The simulator's quota (simkit.Gate) turns at UTC midnight instead.
//   - MiPush reports transient failures (10001-10003, 10027) for a whole
//     request, never per target, so the simulator fails the whole request
//     with 10002 when any target has the "unavailable-" prefix.
//   - MiPush has no priority field. High priority and VoIP send
//     notify_type -1 (sound, vibration, lights); the urgency itself comes
//     from the private ("私信") channel the push resource resolves into
//     Notification.Channel (Config.ChannelID when it is empty).
//   - /v2/multi_messages/regids takes one form field, messages: the JSON
//     array [{"target":"<regid>","message":{…}},…], each message carrying
//     the fields a /v3/message/regid form carries (encoder.appendMessage
//     writes them from the same code, in the same order), integers as
//     JSON numbers and the extras nested as "extra":{…} in sorted key
//     order rather than flattened extra.* keys. MiPush's public docs name
//     the endpoint but not its body; the shape is what Xiaomi's server
//     SDKs send (Java Sender.send(List<TargetedMessage>) and PHP
//     Sender::multiSend with Message.getJSONInfos / json_infos, Go SDKs'
//     buildTargetedMessageParam marshalling [{"target","message"}] with a
//     `json:"extra"` map). The answer is assumed to have the single
//     endpoint's shape (its codes, and bad_regids naming the unregistered
//     targets of a partly bad batch) and is read by the same interpreter;
//     that is unverified: MiPush documents no multi answer, and bad_regids
//     is unconfirmed even for the single endpoint (seen in SDKs only). The
//     simulator answers that shape, so tests cannot catch it being wrong.
//     MiPush's body limit is undocumented too: MaxEachBody, 1 MiB, is a
//     conservative guess (a body over MiPush's limit would fail all its
//     targets, a guess too low costs a request). MiPush
//     answers one code per request, so SendEach leaves out, Rejected with
//     code "encode", a notification MiPush would refuse as encoded (a
//     notification message without text, or a payload past its limit),
//     rather than let it fail the others; a refusal only MiPush can judge
//     (27001, an unknown channel) still fails the whole request.
//   - Client.Check (vendors.Checker) refuses before acceptance what the
//     encoder knows MiPush refuses (encoder.limit): a notification
//     message without any text (PartText; a blank title or body borrows
//     the other's text, vendors.Text, so one of them is enough) and a
//     payload of 4096 characters or more (PartData). Text past the caps
//     is cut and extras past MiPush's limits travel in payload only, so
//     neither is refused.
//   - What the limits rest on. MiPush's "服务器API地址以及参数" page
//     (dev.mi.com/xiaomihyperos/documentation/detail?pId=1559, updated
//     2024-10-21) lists title "不允许全是空白字符，长度小于50 … (通知栏消息
//     必填)" and description "长度小于128 … (通知栏消息必填)" as the required
//     text; it gives payload no size. The size is from Xiaomi's Java server
//     SDK documentation as quoted in many SDK users' code:
//     payload(String) "不允许全是空白字符，长度小于4K，中英文均以一个计算".
//     Unconfirmed [U]: whether 4K means 4096 or 4000 (herald takes
//     4096), which code MiPush answers (the simulator answers 10017), and
//     whether the server enforces it or only the SDK does.
//   - A message without extra.channel_id is sent and accepted: the
//     parameter page names only title and description as required, and
//     third-party guides (Aliyun EMAS "小米推送消息分类新规": "不填则为默认,
//     限制最大。单应用单设备单日只能接收1条") describe such a message as going
//     to the app's default channel. Unconfirmed [U]: Getui's vendor-limits
//     page says that since 2024-11-04 an app that opted into "全量进入新消息
//     分类" must carry a new-category channel id "才能正常下发"; whether
//     MiPush then refuses the request (and with which code) or only drops
//     the message is not documented, so the simulator accepts it. The
//     simulator used to refuse a message without a channel (10017),
//     which MiPush does not document.
//   - The simulator takes pass_through as exactly 0 or 1 on both
//     endpoints and refuses a payload of 4096 characters or more (10017).
//     It reads
//     the multi endpoint's messages strictly (10017): JSON as
//     encoding/json would take it (fastjson.Validate) and no object with
//     a key twice. Its Received log keeps a multi request's targets and
//     message ids, not its form (SimOptions.KeepMultiForm).
//
// Arrival receipts ("消息回执"): with Config.ReceiptURL set, a notification
// with a ReceiptRef carries extra.callback (the URL), extra.callback.param
// (the reference; MiPush allows 64 bytes) and extra.callback.type 1
// (delivered; 2 is clicked, 3 both, larger bits other events), on both
// endpoints. MiPush then posts application/x-www-form-urlencoded with one
// field, data: a JSON object keyed by MiPush message id,
// {"<msgId>":{"param","type","targets":"<regid>,<regid>","jobkey",
// "barStatus","timestamp"}} (the Java server SDK's "消息回执" section, and
// integrators' receivers reading the data field). ParseReceipts turns it
// into one vendors.Receipt per target, type 1 delivered. MiPush signs
// nothing: the receiver must rely on the unguessable reference (and its
// own URL). Unconfirmed [U]: how many targets one receipt carries, whether
// type arrives as a number or a string (both are taken), and MiPush's
// retries. The simulator posts type 1 for every accepted target of a
// message with extra.callback whose callback.type includes 1 (or is
// absent), grouped by URL and parameter, at most MaxReceiptTargets a
// request.
package xiaomi
