package vendors

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CodeRedirectRefused is the Result code of a vendor answer that is a
// redirect (any 3xx): see RedirectResult.
const CodeRedirectRefused = "redirect_refused"

// IsRedirect reports whether status is a 3xx.
func IsRedirect(status int) bool { return status >= 300 && status < 400 }

// RefuseRedirect is the http.Client CheckRedirect of every vendor client:
// it stops at the first redirect and hands back the 3xx itself
// (http.ErrUseLastResponse), to be judged by RedirectResult. Vendors
// answer directly; following a 307 or 308 would re-send the request, its
// credentials with it (net/http keeps Authorization for the same host name
// on another port and for subdomains, and custom headers and bodies for
// any host), to whatever host Location names, and count that host's answer
// as the vendor's.
func RefuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// NoRedirects returns a copy of hc that never follows a redirect
// (RefuseRedirect); hc itself, which its owner may use elsewhere, is left
// as it is. The copy shares hc's transport, jar and timeout.
func NoRedirects(hc *http.Client) *http.Client {
	cp := *hc
	cp.CheckRedirect = RefuseRedirect
	return &cp
}

// RedirectResult is the Result for a 3xx answer from what (the vendor or
// its endpoint, e.g. "APNs", "fcm: token endpoint"), whatever its body
// says: the client did not follow it (RefuseRedirect), so nothing was
// delivered. It is Misconfigured: neither the push nor the credentials are
// at fault, the endpoint has moved or something in between intercepts it,
// and only the operator can fix that, so the account pauses rather than
// every notification burning its attempts. location is the answer's
// Location header; the reason names only its host, never its path, query
// or userinfo, and no credential of ours.
func RedirectResult(what string, status int, location string) Result {
	var b strings.Builder
	b.WriteString(what)
	b.WriteString(" answered HTTP ")
	b.WriteString(strconv.Itoa(status))
	if text := http.StatusText(status); text != "" {
		b.WriteString(" " + text)
	}
	switch {
	case status == http.StatusNotModified:
		// An answer to a conditional request, which herald never makes.
		b.WriteString(", which answers no request herald makes: not the vendor's answer")
	case location == "":
		b.WriteString(" without a Location: not the vendor's answer")
	default:
		b.WriteString(" to " + describeLocation(location))
	}
	b.WriteString("; check the endpoint in the config and any proxy in between")
	return Result{Verdict: Misconfigured, Code: CodeRedirectRefused, Reason: b.String()}
}

// maxReasonHost bounds the host quoted in a Reason (a DNS name is at most
// 253 bytes; a port adds a few).
const maxReasonHost = 260

// describeLocation says where a non-empty Location points, for a Reason:
// its host only.
func describeLocation(location string) string {
	u, err := url.Parse(strings.TrimSpace(location))
	switch {
	case err != nil:
		return "an unreadable Location: not followed"
	case u.Host == "":
		return "a path on the same host: not followed (herald follows no vendor redirect)"
	}
	host := u.Host
	if len(host) > maxReasonHost {
		host = strings.ToValidUTF8(host[:maxReasonHost], "") + "…"
	}
	return "host " + strconv.Quote(host) + ": not followed, as it would carry the credentials there"
}
