package apns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// maxVerified bounds the cache of verified provider tokens.
const maxVerified = 1024

// simAuth checks what APNs checks of a provider: a TLS client certificate,
// or an ES256 JWT from the right key and team that is less than ttl old.
type simAuth struct {
	key    *ecdsa.PrivateKey
	keyID  string
	teamID string
	ttl    time.Duration

	mu       sync.Mutex
	verified map[string]int64 // JWT → its "iat": signatures verified once, ages checked every time
}

// newSimAuth accepts JWTs signed by key; nil = a new P-256 key.
func newSimAuth(key *ecdsa.PrivateKey, keyID, teamID string, ttl time.Duration) *simAuth {
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil { // crypto/rand does not fail on supported platforms
			panic(fmt.Sprintf("apns: simulator signing key: %v", err))
		}
	}
	return &simAuth{key: key, keyID: keyID, teamID: teamID, ttl: ttl, verified: map[string]int64{}}
}

// p8 is the signing key as Apple hands it out: PKCS#8 in a PEM "PRIVATE KEY"
// block.
func (a *simAuth) p8() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(a.key)
	if err != nil { // cannot fail for a P-256 key
		panic(fmt.Sprintf("apns: simulator key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// check returns "" when r is authenticated, else the 403 reason.
func (a *simAuth) check(r *http.Request, now time.Time) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return "" // certificate auth: the connection carries the identity
	}
	h := r.Header.Get("authorization")
	if h == "" {
		return "MissingProviderToken"
	}
	scheme, bearer, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || bearer == "" {
		return "InvalidProviderToken"
	}
	iat, ok := a.verify(bearer)
	if !ok {
		return "InvalidProviderToken"
	}
	switch age := now.Sub(time.Unix(iat, 0)); {
	case age > a.ttl:
		return "ExpiredProviderToken"
	case age < -a.ttl: // issued far in the future: not a token APNs would take
		return "InvalidProviderToken"
	}
	return ""
}

// verify checks the JWT's algorithm, kid, iss and signature and returns its
// "iat".
func (a *simAuth) verify(bearer string) (int64, bool) {
	a.mu.Lock()
	iat, ok := a.verified[bearer]
	a.mu.Unlock()
	if ok {
		return iat, true
	}
	t, err := jwt.Parse(bearer, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != a.keyID {
			return nil, fmt.Errorf("apns: simulator: unknown key id")
		}
		return &a.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation())
	if err != nil || !t.Valid {
		return 0, false
	}
	claims, _ := t.Claims.(jwt.MapClaims)
	if iss, _ := claims["iss"].(string); iss != a.teamID {
		return 0, false
	}
	f, ok := claims["iat"].(float64)
	if !ok {
		return 0, false
	}
	iat = int64(f)
	a.mu.Lock()
	if len(a.verified) >= maxVerified {
		clear(a.verified)
	}
	a.verified[bearer] = iat
	a.mu.Unlock()
	return iat, true
}

// answerID is the apns-id to answer with: the request's, or a new UUID.
func answerID(r *http.Request) string {
	if v := r.Header.Get("apns-id"); isUUID(v) {
		return v
	}
	return newUUID()
}

// newUUID returns a random (version 4) UUID, upper-case like APNs'.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
