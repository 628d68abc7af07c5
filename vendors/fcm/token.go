package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/herald-push/herald/vendors/internal/tokencache"
)

// newTokens is the access-token cache under the messaging requests. It
// fetches through golang.org/x/oauth2/google (the JWT-bearer grant at the
// key's token_uri) over hc, and refreshes a token ahead of the expiry Now
// says (tokencache's default margins).
func newTokens(keyJSON []byte, hc *http.Client, now func() time.Time, timeout time.Duration) *tokencache.Cache[*oauth2.Token] {
	f := fetcher{keyJSON: keyJSON, hc: hc}
	return tokencache.New(f.fetch, tokencache.Config{Now: now, Timeout: timeout, Closed: ErrClosed})
}

// tokenError marks a failure to obtain an access token (as opposed to a
// failure of the messaging request itself).
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "fcm: access token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// fetcher runs the service-account flow.
type fetcher struct {
	keyJSON []byte
	hc      *http.Client // trusts Config.TLS, has Config.Timeout
}

// fetch runs the service-account flow once, under ctx. A fresh credentials
// object per fetch keeps x/oauth2's own token reuse (wall clock, no
// invalidation) out of the way; it happens about once an hour.
func (f fetcher) fetch(ctx context.Context) (*oauth2.Token, time.Duration, error) {
	// x/oauth2 sends the grant without a context: hc's requests carry ctx.
	hc := *f.hc
	hc.Transport = withContext{ctx: ctx, next: f.hc.Transport}
	octx := context.WithValue(ctx, oauth2.HTTPClient, &hc)
	creds, err := google.CredentialsFromJSONWithType(octx, f.keyJSON, google.ServiceAccount, Scope)
	if err != nil {
		return nil, 0, &tokenError{err: fmt.Errorf("credentials: %w", err)}
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		return nil, 0, &tokenError{err: err}
	}
	if tok.AccessToken == "" {
		return nil, 0, &tokenError{err: errors.New("token endpoint answered without access_token")}
	}
	return tok, lifetime(tok), nil
}

// withContext sends every request under ctx.
type withContext struct {
	ctx  context.Context
	next http.RoundTripper
}

func (w withContext) RoundTrip(r *http.Request) (*http.Response, error) {
	return w.next.RoundTrip(r.WithContext(w.ctx))
}

// lifetime is how long tok is valid from now: the "expires_in" it came
// with, else its wall-clock Expiry, else an hour.
func lifetime(tok *oauth2.Token) time.Duration {
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		if v > 0 {
			return time.Duration(v * float64(time.Second))
		}
	case json.Number:
		if f, err := v.Float64(); err == nil && f > 0 {
			return time.Duration(f * float64(time.Second))
		}
	}
	if !tok.Expiry.IsZero() {
		return time.Until(tok.Expiry)
	}
	return time.Hour
}

// bearer is the RoundTripper under the SDK's requests: it adds the access
// token, waiting under the request's context when one is being fetched,
// and records in the request's attempt which token it sent.
type bearer struct {
	tokens *tokencache.Cache[*oauth2.Token]
	next   http.RoundTripper
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.tokens.Get(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, also on error
		}
		return nil, err
	}
	if a, ok := req.Context().Value(attemptKey{}).(*attempt); ok {
		a.bearer = tok
	}
	r := req.Clone(req.Context()) // a RoundTripper leaves the request as it is
	tok.SetAuthHeader(r)
	return b.next.RoundTrip(r)
}
