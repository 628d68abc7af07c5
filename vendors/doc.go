// Package vendors names the push vendors herald delivers through. Each
// vendor's client and simulator live in a package of their own beneath this
// one; what they share (the vendor kinds, the Sender interface and the typed
// verdict, and the redirect refusal every client uses: RefuseRedirect,
// NoRedirects, RedirectResult) lives here, and no vendor's fields leak into
// another's.
//
// The clients' plumbing, one copy each, is in vendors/internal:
// httpclient (the HTTP client of every client on net/http: pooled,
// HTTP/2 over ALPN, dial and handshake timeouts, redirects refused),
// tlsroots (its transport, rebuilt when the trusted roots change),
// coalesce (APNs's and FCM's write-coalescing connections), tokencache
// (the access-token cache of FCM, Huawei, OPPO and vivo: refreshed ahead
// of expiry, one fetch at a time), retryafter (the Retry-After parser,
// capped at a day), flexjson (answer fields sent as a number or a string)
// and wire (form and JSON escaping). Every client is an io.Closer: Close
// stops its background work (request workers, a token fetch in flight)
// and its idle connections.
package vendors
