package fcm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// JWT-bearer grant rules the simulator enforces, after Google's.
const (
	grantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	maxAssertionLife   = time.Hour + time.Minute // exp - iat, with slack
	clockSkew          = 5 * time.Minute
	scopeCloudPlatform = "https://www.googleapis.com/auth/cloud-platform"
	maxTokenBody       = 64 << 10
)

// serveToken is the OAuth2 token endpoint (RFC 7523 JWT-bearer grant): a
// form with grant_type and an RS256 assertion signed by the service
// account's key; the answer is a Bearer access token for AuthTokenTTL.
func (s *Simulator) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Malformed form body")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != grantTypeJWTBearer {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: assertion")
		return
	}
	scopes, err := s.checkAssertion(assertion, audience(r))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	access := "ya29.sim." + hex.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	if len(s.tokens) >= 1024 {
		for k, t := range s.tokens {
			if !now.Before(t.expiry) {
				delete(s.tokens, k)
			}
		}
	}
	s.tokens[access] = issuedToken{expiry: now.Add(s.ttl), scopes: scopes}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access,
		"expires_in":   int64(s.ttl / time.Second),
		"token_type":   "Bearer",
	})
}

// audience is the token endpoint's own URL as the request reached it, the
// "aud" a client derives from token_uri.
func audience(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	path := r.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return scheme + "://" + r.Host + path
}

// checkAssertion verifies the signed JWT and returns its scopes. The
// messages are Google's where known.
func (s *Simulator) checkAssertion(assertion, aud string) ([]string, error) {
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
	}
	_, err := jwt.ParseWithClaims(assertion, &claimsAdapter{v: &claims}, func(t *jwt.Token) (any, error) {
		if kid, ok := t.Header["kid"].(string); ok && kid != s.keyID {
			return nil, errors.New("unknown key id")
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		//lint:ignore ST1005 Google's error_description, verbatim
		return nil, errors.New("Invalid JWT Signature.")
	}
	if claims.Iss != s.email {
		//lint:ignore ST1005 Google's error_description, verbatim
		return nil, errors.New("Invalid grant: account not found")
	}
	s.mu.Lock()
	known := s.tokenURIs[claims.Aud]
	s.mu.Unlock()
	if claims.Aud != aud && !known {
		return nil, errors.New("Invalid JWT: Failed audience check. The right audience is " + aud)
	}
	now := s.now()
	iat, exp := time.Unix(claims.Iat, 0), time.Unix(claims.Exp, 0)
	if claims.Iat == 0 || claims.Exp == 0 || exp.Sub(iat) > maxAssertionLife || iat.After(now.Add(clockSkew)) || exp.Before(now.Add(-clockSkew)) {
		//lint:ignore ST1005 Google's error_description, verbatim
		return nil, errors.New("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	scopes := strings.Fields(claims.Scope)
	if len(scopes) == 0 {
		//lint:ignore ST1005 Google's error_description, verbatim
		return nil, errors.New("Invalid OAuth scope or ID token audience provided.")
	}
	return scopes, nil
}

// claimsAdapter lets jwt decode into a plain struct; validation is the
// simulator's own (on its clock).
type claimsAdapter struct{ v any }

func (c *claimsAdapter) Valid() error { return nil }

func (c *claimsAdapter) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, c.v) }

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// authorize checks the request's Bearer token and its scope; it writes
// Google's answer and returns false when they are refused.
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		writeFault(w, fault{httpStatus: http.StatusUnauthorized, status: "UNAUTHENTICATED", reason: "CREDENTIALS_MISSING",
			message: "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."})
		return false
	}
	s.mu.Lock()
	it, known := s.tokens[tok]
	s.mu.Unlock()
	invalid := fault{httpStatus: http.StatusUnauthorized, status: "UNAUTHENTICATED", wwwAuth: true,
		message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
	switch {
	case !known:
		writeFault(w, invalid)
		return false
	case !s.now().Before(it.expiry):
		invalid.reason = "ACCESS_TOKEN_EXPIRED"
		writeFault(w, invalid)
		return false
	case !slices.Contains(it.scopes, Scope) && !slices.Contains(it.scopes, scopeCloudPlatform):
		writeFault(w, fault{httpStatus: http.StatusForbidden, status: "PERMISSION_DENIED", reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
			message: "Request had insufficient authentication scopes."})
		return false
	}
	return true
}
