package webhooks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks specification and its reference
// libraries' tests: secret, id, timestamp and payload give this signature.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specPayload   = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func specKey(t *testing.T) []byte {
	t.Helper()
	k, err := ParseSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignMatchesTheStandardWebhooksExample(t *testing.T) {
	if got := Sign([][]byte{specKey(t)}, specID, specTimestamp, []byte(specPayload)); got != specSignature {
		t.Fatalf("signature %q, want %q", got, specSignature)
	}
}

func TestVerify(t *testing.T) {
	key := specKey(t)
	other := []byte("another secret")
	at := time.Unix(specTimestamp, 0)
	ts := "1614265330"
	both := Sign([][]byte{other, key}, specID, specTimestamp, []byte(specPayload)) // a rotation: new and old secret sign
	for _, c := range []struct {
		name      string
		keys      [][]byte
		id, ts    string
		sig, body string
		now       time.Time
		want      error
	}{
		{"valid", [][]byte{key}, specID, ts, specSignature, specPayload, at, nil},
		{"within tolerance", [][]byte{key}, specID, ts, specSignature, specPayload, at.Add(4 * time.Minute), nil},
		{"rotation: the old secret verifies", [][]byte{key}, specID, ts, both, specPayload, at, nil},
		{"rotation: the new secret verifies", [][]byte{other}, specID, ts, both, specPayload, at, nil},
		{"receiver knowing both", [][]byte{other, key}, specID, ts, specSignature, specPayload, at, nil},
		{"tampered body", [][]byte{key}, specID, ts, specSignature, `{"test": 2432232315}`, at, ErrSignature},
		{"other id", [][]byte{key}, "msg_other", ts, specSignature, specPayload, at, ErrSignature},
		{"wrong secret", [][]byte{other}, specID, ts, specSignature, specPayload, at, ErrSignature},
		{"too old", [][]byte{key}, specID, ts, specSignature, specPayload, at.Add(6 * time.Minute), ErrTimestamp},
		{"from the future", [][]byte{key}, specID, ts, specSignature, specPayload, at.Add(-6 * time.Minute), ErrTimestamp},
		{"timestamp moved", [][]byte{key}, specID, "1614265331", specSignature, specPayload, at, ErrSignature},
		{"timestamp not a number", [][]byte{key}, specID, "soon", specSignature, specPayload, at, ErrTimestamp},
		{"no signature", [][]byte{key}, specID, ts, "", specPayload, at, ErrMissingHeader},
		{"no id", [][]byte{key}, "", ts, specSignature, specPayload, at, ErrMissingHeader},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.keys, c.id, c.ts, c.sig, []byte(c.body), c.now, 0)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	if k, err := ParseSecret("plain"); err != nil || string(k) != "plain" {
		t.Fatalf("plain secret: %q %v", k, err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := ParseSecret(bad); err == nil {
			t.Errorf("ParseSecret(%q) took it", bad)
		}
	}
	_, err := ParseSecret("whsec_%%%secretvalue")
	if err == nil || strings.Contains(err.Error(), "secretvalue") {
		t.Fatalf("error %v names the secret", err)
	}
}
