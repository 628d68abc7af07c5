// Package fcm is herald's sender for Google Firebase Cloud Messaging HTTP v1,
// for both vendor kinds that travel over it: vendors.FCM (Android
// registration tokens) and vendors.Web (FCM web-push tokens). It owns the
// real client (firebase.google.com/go/v4/messaging over a service-account
// OAuth2 flow), the mapping from vendors.Notification to an FCM Message, the
// mapping from FCM answers to vendors.Result, and a Simulator that speaks
// FCM's wire protocol (messages:send plus the OAuth2 JWT-bearer token
// endpoint) for tests and simulator mode.
//
// # Auth
//
// The client does the real service-account flow, also against the
// simulator: the key JSON is parsed by golang.org/x/oauth2/google
// (CredentialsFromJSONWithType, google.ServiceAccount, scope
// firebase.messaging), which signs an RS256 assertion and posts it to the
// JSON's token_uri with an *http.Client that trusts Config.TLS. The access
// token is cached (tokencache, on Config.Now, so an injected clock expires
// it) and refreshed ahead of its expiry, one fetch shared by concurrent
// requests; a 401 UNAUTHENTICATED (without an FcmError detail, i.e.
// our bearer and not a third-party credential) drops the cached token and
// resends once — the only retry Send does on its own.
//
// # One request per token, bounded concurrency
//
// FCM v1 has no batch: one POST per (message, token). Send fans a
// notification out over at most Config.MaxConcurrent requests in flight per
// Client (shared by concurrent Sends), each calling messaging.Client.Send
// with its own deadline (Config.Timeout). SendEach was measured and not
// chosen: it starts 50 goroutines per call however few the tokens, shares
// one context between all of them (so one request's deadline cannot be
// separated from another's), and gives no control over in-flight requests
// across calls; throughput against the simulator was the same.
//
// # The SDK's own retries are switched off
//
// The messaging client retries network errors and HTTP 503 up to 4 times
// with 0/1/2/4 s backoff (internal.WithDefaultRetryConfig). There is no
// public option to change that, but the retry loop stops as soon as the
// request context is done. The Client therefore gives each request a
// one-shot guard in its context: the RoundTripper at the bottom of the
// SDK's *http.Client records a transport error or a 503 (buffering its
// body) and cancels that request's context, so the SDK returns at once and
// Send classifies what the guard recorded. The caller owns retry policy, as
// vendors.Sender requires; the simulator can thus answer `unavailable-`
// tokens with FCM's real transient answer, 503 UNAVAILABLE, and the test
// checks that it saw exactly one request.
//
// # Message mapping
//
// Custom data goes into message.data (string map), which FCM delivers to
// the app in every state and for both kinds: every Notification.Data entry
// plus "message_id" = Notification.MessageID.
//
// Kind FCM: notification {title, body} unless Passthrough; android
// {priority high|normal, ttl, collapse_key, notification {channel_id,
// sound, tag = CollapseID, notification_count = Badge}}. A VoIP/call push
// is sent as a high-priority data-only message: a notification message
// sent to a backgrounded app is drawn by the system tray and never reaches
// the app's FirebaseMessagingService, so the app could not ring (full-screen
// intent, ConnectionService, CallStyle). A high-priority data message wakes
// the app even in Doze and is delivered to onMessageReceived in every
// state, so the app builds the call UI itself from the data (call_id …).
// Title and Body are therefore not sent for calls; put what the call screen
// needs into Data.
//
// Kind Web: webpush {headers {TTL, Urgency high|normal, Topic},
// notification {title, body, tag}} and message.data. Topic is CollapseID
// when it already is at most 32 characters of the URL-safe base64 alphabet
// (RFC 8030 §5.4), otherwise the first 32 characters of base64url(SHA-256
// of it), so distinct ids never collide the way replacing characters would.
//
// Fields FCM lacks (Category, NotifyLevel, ThreadID, Mutable) are ignored.
//
// # Limits (Check)
//
// Client.Check applies, to the message Send builds for the Client's kind,
// the limits FCM documents, and the simulator refuses the same messages
// (400 INVALID_ARGUMENT):
//
//   - Payload: "Maximum payload for both message types is 4096 bytes"
//     (Firebase, "Firebase Cloud Messaging message types",
//     firebase.google.com/docs/cloud-messaging/customize-messages/set-message-type).
//     Notification messages count: their title and body are part of the
//     payload. FCM does not document how it counts, so both sides measure
//     the bytes of the data keys and values plus every title and body the
//     message carries (message.notification, android.notification,
//     webpush.notification); JSON syntax, tokens and the android and
//     webpush options are not counted. Data alone over 4096 bytes is
//     vendors.PartData, data and text together vendors.PartPayload. Data
//     keys that fit may still be refused by FCM a little earlier: a
//     developer measured a single data pair to be refused from 4052 bytes
//     (a third-party write-up of a Stack Exchange question, unconfirmed by
//     Google), which this measure does not model.
//   - Reserved data keys (vendors.PartData): "from", "message_type" and
//     keys starting "google." or "gcm." (REST reference projects.messages,
//     field data: not "from", "message_type", or starting "google." or
//     "gcm.notification."; the message-types page lists "google." and
//     "gcm."). "notification" and "collapse_key" are not reserved in HTTP
//     v1 (kreait/firebase-php 5.17.1 found the API accepts
//     "notification"), so neither side refuses them.
//
// Topic and condition targets (herald sends neither) are held to 2048
// bytes by the simulator, on the same measure.
//
// # Verdicts
//
// UNREGISTERED, SENDER_ID_MISMATCH and an INVALID_ARGUMENT about the
// registration token → TokenInvalid; any other INVALID_ARGUMENT →
// Rejected; QUOTA_EXCEEDED, RESOURCE_EXHAUSTED (429 without FcmError
// detail, which real FCM sends for the per-project rate limit),
// UNAVAILABLE, INTERNAL, other 5xx, timeouts and transport errors → Retry
// (RetryAfter from Retry-After; quota answers without it get FCM's
// documented minimum of 1 minute); THIRD_PARTY_AUTH_ERROR,
// UNAUTHENTICATED, PERMISSION_DENIED and a token endpoint that refuses the
// service account → CredentialsBroken.
//
// Redirects are never followed, neither by the token fetch nor by
// messages:send (the SDK gets the Client's own *http.Client through
// option.WithHTTPClient and uses it as is): a 307/308 would re-send the
// signed assertion, or the bearer token the client adds to
// every request, to the host in Location, and its answer would count as
// FCM's. Any 3xx from either → Misconfigured (vendors.RedirectResult: the
// sender pauses, as for CredentialsBroken, without counting an attempt)
// with code "redirect_refused" and a reason naming the status and
// Location's host.
package fcm
