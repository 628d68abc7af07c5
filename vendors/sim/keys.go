package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/herald-push/herald/vendors"
)

// ErrKeys prefixes ParseKeys' errors.
var ErrKeys = errors.New("sim: signing keys")

// Keys are the signing keys of the simulators that check signatures: the
// APNs provider key (ES256 JWTs) and the FCM and Web service-account keys
// (RS256 assertions). Give the same Keys to a restarted set of simulators
// and clients configured from the earlier set keep authenticating.
type Keys struct {
	APNs *ecdsa.PrivateKey
	FCM  *rsa.PrivateKey
	Web  *rsa.PrivateKey
}

// NewKeys makes new signing keys.
func NewKeys() (*Keys, error) {
	apnsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	fcmKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	webKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Keys{APNs: apnsKey, FCM: fcmKey, Web: webKey}, nil
}

// keyHeader names the simulator a PEM block's key belongs to.
const keyHeader = "Vendor"

// MarshalPEM encodes the keys as PKCS #8 PEM "PRIVATE KEY" blocks, each
// with a "Vendor" header (apns, fcm, web): the format ParseKeys reads.
func (k *Keys) MarshalPEM() ([]byte, error) {
	var out []byte
	for _, v := range []struct {
		kind vendors.Kind
		key  any
	}{{vendors.APNs, k.APNs}, {vendors.FCM, k.FCM}, {vendors.Web, k.Web}} {
		der, err := x509.MarshalPKCS8PrivateKey(v.key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKeys, v.kind, err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{keyHeader: string(v.kind)}, Bytes: der})...)
	}
	return out, nil
}

// ParseKeys reads keys as MarshalPEM wrote them: exactly one of each, of
// the right type.
func ParseKeys(b []byte) (*Keys, error) {
	blocks := map[string][]byte{}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			if len(strings.TrimSpace(string(rest))) > 0 {
				return nil, fmt.Errorf("%w: text that is not a PEM block", ErrKeys)
			}
			break
		}
		v := blk.Headers[keyHeader]
		switch {
		case blk.Type != "PRIVATE KEY":
			return nil, fmt.Errorf("%w: PEM block %q is not a PKCS #8 private key", ErrKeys, blk.Type)
		case v != string(vendors.APNs) && v != string(vendors.FCM) && v != string(vendors.Web):
			return nil, fmt.Errorf("%w: a key for %q (want %s: apns, fcm, web)", ErrKeys, v, keyHeader)
		case blocks[v] != nil:
			return nil, fmt.Errorf("%w: two keys for %s", ErrKeys, v)
		}
		blocks[v] = blk.Bytes
	}
	parse := func(v vendors.Kind) (any, error) {
		der, ok := blocks[string(v)]
		if !ok {
			return nil, fmt.Errorf("%w: no key for %s (have %s)", ErrKeys, v, strings.Join(slices.Sorted(maps.Keys(blocks)), ", "))
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrKeys, v, err)
		}
		return key, nil
	}
	var k Keys
	var errs []error
	if key, err := parse(vendors.APNs); err != nil {
		errs = append(errs, err)
	} else if k.APNs, _ = key.(*ecdsa.PrivateKey); k.APNs == nil || k.APNs.Curve != elliptic.P256() {
		errs = append(errs, fmt.Errorf("%w: apns: a %T, want a P-256 ECDSA key", ErrKeys, key))
	}
	for _, v := range []struct {
		kind vendors.Kind
		dst  **rsa.PrivateKey
	}{{vendors.FCM, &k.FCM}, {vendors.Web, &k.Web}} {
		if key, err := parse(v.kind); err != nil {
			errs = append(errs, err)
		} else if *v.dst, _ = key.(*rsa.PrivateKey); *v.dst == nil {
			errs = append(errs, fmt.Errorf("%w: %s: a %T, want an RSA key", ErrKeys, v.kind, key))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &k, nil
}
