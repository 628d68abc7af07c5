package apns

import (
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/sideshow/apns2/token"
)

// tokenLifetime is how long a provider JWT is used before it is re-signed:
// APNs rejects tokens older than an hour and asks providers not to re-sign
// more often than every 20 minutes; apns2 uses 50 minutes.
const tokenLifetime = token.TokenTimeout * time.Second

// signer keeps the provider JWT fresh on the injected clock. The bearer lives
// in the apns2 token.Token both environment clients share; apns2 reads it on
// every push (token.GenerateIfExpired, on the wall clock), and signer re-signs
// it first, with "iat" taken from Config.Now, so tests can move time.
type signer struct {
	tok    *token.Token
	now    func() time.Time
	issued time.Time // "iat" of tok.Bearer on the injected clock; zero = none yet
}

func newSigner(key *ecdsa.PrivateKey, keyID, teamID string, now func() time.Time) *signer {
	return &signer{tok: &token.Token{AuthKey: key, KeyID: keyID, TeamID: teamID}, now: now}
}

// bearer returns the current JWT, signing a new one when there is none or it
// is older than tokenLifetime.
func (s *signer) bearer() (string, error) {
	s.tok.Lock()
	defer s.tok.Unlock()
	now := s.now()
	if age := now.Sub(s.issued); s.tok.Bearer != "" && age < tokenLifetime && age > -tokenLifetime {
		return s.tok.Bearer, nil
	}
	return s.signLocked(now)
}

// refresh re-signs the JWT after APNs answered ExpiredProviderToken for stale,
// unless another request already replaced it; it returns the bearer to retry
// with. Comparing with stale keeps a burst of rejected streams from re-signing
// once each (which APNs answers with TooManyProviderTokenUpdates).
func (s *signer) refresh(stale string) (string, error) {
	s.tok.Lock()
	defer s.tok.Unlock()
	if s.tok.Bearer != stale && s.tok.Bearer != "" {
		return s.tok.Bearer, nil
	}
	return s.signLocked(s.now())
}

func (s *signer) signLocked(now time.Time) (string, error) {
	jt := &jwt.Token{
		Header: map[string]any{"alg": "ES256", "kid": s.tok.KeyID},
		Claims: jwt.MapClaims{"iss": s.tok.TeamID, "iat": now.Unix()},
		Method: jwt.SigningMethodES256,
	}
	b, err := jt.SignedString(s.tok.AuthKey)
	if err != nil {
		return "", fmt.Errorf("apns: sign provider token: %w", err)
	}
	s.tok.Bearer = b
	// apns2 checks expiry on the wall clock; stamp it so apns2 never re-signs
	// behind our back with a wall-clock "iat".
	s.tok.IssuedAt = time.Now().Unix()
	s.issued = now
	return b, nil
}
