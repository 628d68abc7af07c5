package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/herald-push/herald/configs"
	"github.com/valyala/fasthttp"
)

// apiKey is a resolved key: only its hash is kept.
type apiKey struct {
	name   string
	hash   [sha256.Size]byte
	scopes []string
}

// Auth checks bearer keys. With no keys every request passes (the
// daemon then refuses to listen anywhere but loopback).
type Auth struct{ keys []apiKey }

// NewAuth resolves the configured keys' secrets (an error names the key
// that cannot be read); only their hashes are kept.
func NewAuth(keys []configs.Key, getenv func(string) string, readFile func(string) ([]byte, error)) (*Auth, error) {
	a := &Auth{}
	for _, k := range keys {
		secret, err := k.Secret(getenv, readFile)
		if err != nil {
			return nil, fmt.Errorf("auth key %q: %w", k.Name, err)
		}
		a.keys = append(a.keys, apiKey{name: k.Name, hash: sha256.Sum256([]byte(secret)), scopes: k.Scopes})
	}
	return a, nil
}

// Enabled reports whether any key is configured.
func (a *Auth) Enabled() bool { return len(a.keys) > 0 }

// Keys is how many keys are configured.
func (a *Auth) Keys() int { return len(a.keys) }

// bearer is the token of an "Authorization: Bearer <token>" header. The
// scheme is case-insensitive and may be followed by several spaces (RFC
// 9110, 11.1 and 11.4); false when there is no bearer token.
func bearer(h []byte) ([]byte, bool) {
	scheme, token, ok := bytes.Cut(bytes.TrimLeft(h, " "), []byte(" "))
	if !ok || !bytes.EqualFold(scheme, []byte("Bearer")) {
		return nil, false
	}
	token = bytes.TrimLeft(token, " ")
	return token, len(token) > 0
}

// check returns the key name that authorises sc, or an error answer. It
// compares hashes in constant time against every key.
func (a *Auth) check(rc *fasthttp.RequestCtx, sc scope) (string, *apiError) {
	if sc == scopeNone || !a.Enabled() {
		return "", nil
	}
	token, ok := bearer(rc.Request.Header.Peek(fasthttp.HeaderAuthorization))
	if !ok {
		return "", &apiError{Status: fasthttp.StatusUnauthorized, Code: codeUnauthenticated,
			Message: "missing API key: send Authorization: Bearer <key>"}
	}
	sum := sha256.Sum256(token)
	found := -1
	for i := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], a.keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", &apiError{Status: fasthttp.StatusUnauthorized, Code: codeUnauthenticated, Message: "unknown API key"}
	}
	k := &a.keys[found]
	if !sc.allowedBy(k.scopes) {
		return k.name, &apiError{Status: fasthttp.StatusForbidden, Code: codePermissionDenied,
			Message: fmt.Sprintf("API key %q lacks the %s scope", k.name, sc)}
	}
	return k.name, nil
}
