package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (standardwebhooks.com) headers. A delivery is signed
// over "<webhook-id>.<webhook-timestamp>.<body>" with HMAC-SHA256; the
// signature header holds one "v1,<base64>" per signing secret, space
// separated, so during a rotation a receiver that knows either secret
// verifies it.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock before Verify refuses it (a replay guard).
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks a Standard Webhooks secret: the rest is the key in
// base64.
const secretPrefix = "whsec_"

// ParseSecret returns the HMAC key of a secret: "whsec_<base64>" is
// decoded (as Standard Webhooks' libraries do); anything else is used as
// its bytes. Errors never contain the secret.
func ParseSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("webhook secret is empty")
	}
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return []byte(s), nil
	}
	k, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(k) == 0 {
		return nil, errors.New("webhook secret starts with whsec_ but the rest is not base64")
	}
	return k, nil
}

// sign is one v1 signature.
func sign(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns the webhook-signature header value: one v1 signature per key.
func Sign(keys [][]byte, id string, ts int64, body []byte) string {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = sign(k, id, ts, body)
	}
	return strings.Join(sigs, " ")
}

// Verification errors.
var (
	ErrMissingHeader = errors.New("webhook: missing header")
	ErrTimestamp     = errors.New("webhook: timestamp outside the tolerance")
	ErrSignature     = errors.New("webhook: no signature matches")
)

// Verify checks a delivery's headers against body with any of keys: the
// timestamp within tolerance of now (0 = DefaultTolerance) and one v1
// signature made by one of the keys, compared in constant time.
func Verify(keys [][]byte, id, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || signature == "" {
		return fmt.Errorf("%w: %s, %s and %s are required", ErrMissingHeader, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not unix seconds", ErrTimestamp, HeaderTimestamp)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	for _, k := range keys {
		want := sign(k, id, ts, body)
		for _, got := range strings.Fields(signature) {
			if hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return ErrSignature
}
