package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// expiryMargin refreshes an access token this long before it expires.
const expiryMargin = time.Minute

// tokenCache is the oauth2.TokenSource under the messaging requests. It
// fetches through golang.org/x/oauth2/google (the JWT-bearer grant at the
// key's token_uri), keeps the token until Now says it expires, and can drop
// it when FCM refuses it. Safe for concurrent use; one fetch at a time.
type tokenCache struct {
	keyJSON []byte
	hc      *http.Client // trusts Config.TLS, has Config.Timeout
	now     func() time.Time

	mu     sync.Mutex
	tok    *oauth2.Token
	expiry time.Time // on c.now's clock
	gen    uint64    // bumped by every fetch
}

func newTokenCache(keyJSON []byte, hc *http.Client, now func() time.Time) *tokenCache {
	return &tokenCache{keyJSON: keyJSON, hc: hc, now: now}
}

// tokenError marks a failure to obtain an access token (as opposed to a
// failure of the messaging request itself).
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "fcm: access token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// Token returns the cached access token, fetching a new one when there is
// none or it is about to expire.
func (c *tokenCache) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && c.now().Before(c.expiry.Add(-expiryMargin)) {
		return c.tok, nil
	}
	tok, err := c.fetch()
	if err != nil {
		return nil, &tokenError{err: err}
	}
	c.tok, c.gen = tok, c.gen+1
	c.expiry = c.now().Add(lifetime(tok))
	return tok, nil
}

// fetch runs the service-account flow once. A fresh credentials object per
// fetch keeps x/oauth2's own token reuse (wall clock, no invalidation) out
// of the way; it happens about once an hour.
func (c *tokenCache) fetch() (*oauth2.Token, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)
	creds, err := google.CredentialsFromJSONWithType(ctx, c.keyJSON, google.ServiceAccount, Scope)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, errors.New("token endpoint answered without access_token")
	}
	return tok, nil
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

// generation identifies the token currently cached.
func (c *tokenCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate drops the cached token if it is still the one of generation
// gen, so that many requests refused with the same token cause one fetch.
func (c *tokenCache) invalidate(gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.tok = nil
	}
	c.mu.Unlock()
}
