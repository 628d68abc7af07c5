// Package vendors names the push vendors herald delivers through. Each
// vendor's client and simulator live in a package of their own beneath this
// one; what they share (the vendor kinds, the Sender interface and the typed
// verdict, and the redirect refusal every client uses: RefuseRedirect,
// NoRedirects, RedirectResult) lives here, and no vendor's fields leak into
// another's.
package vendors
