// Package apns delivers herald's offline pushes through Apple Push
// Notification service, and simulates APNs for tests and simulator mode.
//
// It owns:
//   - Client, the production vendors.Sender, built on github.com/sideshow/apns2:
//     token auth (.p8 key, ES256 JWT signed on the injected clock and shared by
//     both environments) or certificate auth (PEM or PKCS#12), one HTTP/2
//     stream per token (APNs has no batch), production/development/automatic
//     environments with the automatic BadDeviceToken fallback, and the mapping
//     of every APNs answer to a per-token vendors.Result.
//   - encodePayload, the deterministic encoder of the wire request (headers and
//     JSON payload) that the golden files pin down.
//   - Simulator, an http.Handler speaking the APNs provider API for both
//     environments (/production/3/device/{token} and
//     /development/3/device/{token}), verifying the provider JWT or accepting a
//     TLS client certificate, validating headers and payload, scripting failures
//     by token prefix, enforcing simkit Limits, counting in a simkit.Recorder
//     and keeping a bounded log of what it accepted.
//
// The Client never follows a redirect: a 307/308 would re-send the provider
// JWT, or present the client certificate, to the host in Location, and that
// host's 200 would count as delivered. Any 3xx is therefore Misconfigured
// (vendors.RedirectResult: the sender pauses, as for broken credentials,
// without counting an attempt) with code "redirect_refused" and a reason
// naming the status and Location's host.
//
// Client.Check (vendors.Checker) applies Apple's request limits before
// sending: a JSON payload of at most 4096 bytes, 5120 for VoIP ("Sending
// notification requests to APNs"; the legacy guide's "Creating the Remote
// Notification Payload" gives the same two numbers), measured with the
// widest badge a target may carry, and an apns-collapse-id of at most 64
// bytes. The Simulator enforces the same. It requires an "aps" dictionary
// in every payload but a VoIP one: Apple's Payload Key Reference says the
// dictionary "must contain an aps key", while PushKit hands the app the
// whole payload and "for VoIP pushes, the sender is free to specify any
// fields" (PKPushPayload dictionaryPayload). Unconfirmed: which reason
// APNs gives for an alert payload without "aps" (the simulator answers
// BadPayload, the reason for a payload it cannot use).
//
// The package holds no package-level mutable state: clocks, TLS roots and
// limits come in through Config and SimOptions.
package apns
