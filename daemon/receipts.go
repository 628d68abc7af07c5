package daemon

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/huawei"
	"github.com/herald-push/herald/vendors/oppo"
	"github.com/herald-push/herald/vendors/vivo"
	"github.com/herald-push/herald/vendors/xiaomi"
	"github.com/valyala/fasthttp"
)

// receiptParsers are the vendors that post arrival receipts, with their
// receipt decoders.
func receiptParsers() map[vendors.Kind]api.ReceiptParser {
	return map[vendors.Kind]api.ReceiptParser{
		vendors.Huawei: huawei.ParseReceipts,
		vendors.Xiaomi: xiaomi.ParseReceipts,
		vendors.OPPO:   oppo.ParseReceipts,
		vendors.Vivo:   vivo.ParseReceipts,
	}
}

// huaweiCallbackSkew is how far a Huawei receipt's signed timestamp may be
// from the clock (its receipts are retried for minutes, each signed anew).
const huaweiCallbackSkew = 5 * time.Minute

// receiptSetup is how the vendor clients ask for arrival receipts, and
// how herald checks the receipts it takes. The zero value is receipts off.
type receiptSetup struct {
	base string // herald's URL as the vendors reach it: receipts go to base/v1/receipts/<vendor>
	// huaweiID is Huawei's android.receipt_id ("" = the app's default).
	huaweiID string
	// huaweiUser and huaweiKey check Huawei's X-HUAWEI-CALLBACK-ID; ""
	// = unchecked.
	huaweiUser, huaweiKey string
}

func (r receiptSetup) on() bool { return r.base != "" }

// url is where vendor k posts its receipts; "" when receipts are off.
func (r receiptSetup) url(k vendors.Kind) string {
	if !r.on() {
		return ""
	}
	return configs.ReceiptURL(r.base, string(k))
}

// newReceiptSetup resolves the receipts section for a daemon whose API is
// at addr (host:port as bound) over scheme. Outside simulator mode the
// vendors reach herald at public_url (required); in simulator mode
// public_url defaults to the bound address (a wildcard host becomes
// loopback), and the Huawei simulator signs its receipts with a callback
// key made now.
func newReceiptSetup(cfg configs.Config, env Env, scheme, addr string) (receiptSetup, error) {
	rc := cfg.Receipts
	if !rc.Enabled {
		return receiptSetup{}, nil
	}
	r := receiptSetup{base: rc.PublicURL, huaweiID: rc.Huawei.ReceiptID}
	if cfg.SimulatorMode() {
		if r.base == "" {
			r.base = scheme + "://" + loopbackAddr(addr)
		}
		var key [24]byte
		if _, err := rand.Read(key[:]); err != nil {
			return receiptSetup{}, err
		}
		r.huaweiUser, r.huaweiKey = "herald-sim", base64.RawURLEncoding.EncodeToString(key[:])
		return r, nil
	}
	if r.base == "" {
		return receiptSetup{}, errors.New("receipts.public_url is required when receipts.enabled is true")
	}
	if rc.Huawei.CallbackUser != "" {
		r.huaweiUser = rc.Huawei.CallbackUser
		r.huaweiKey = env.Getenv(rc.Huawei.CallbackKeyEnv)
		if r.huaweiKey == "" {
			return receiptSetup{}, fmt.Errorf("receipts.huawei.callback_key_env: environment variable %s is not set", rc.Huawei.CallbackKeyEnv)
		}
	}
	return r, nil
}

// loopbackAddr is addr with a wildcard host (0.0.0.0, ::, none) replaced
// by 127.0.0.1.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		// Go reports a 0.0.0.0 listener as [::]; the dual-stack listener
		// takes IPv4 loopback, which every host has (not so ::1).
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// receiptVendors is what POST /v1/receipts/{vendor} takes: the vendors
// with a client that post receipts; nil when receipts are off.
func (r receiptSetup) receiptVendors(clients map[vendors.Kind]vendors.Sender, clk actors.Clock) map[vendors.Kind]api.ReceiptVendor {
	if !r.on() {
		return nil
	}
	out := map[vendors.Kind]api.ReceiptVendor{}
	for k, parse := range receiptParsers() {
		if _, ok := clients[k]; !ok {
			continue
		}
		rv := api.ReceiptVendor{Parse: parse}
		if k == vendors.Huawei && r.huaweiUser != "" {
			user, key := r.huaweiUser, r.huaweiKey
			rv.Verify = func(h *fasthttp.RequestHeader) error {
				return huawei.VerifyCallbackID(string(h.Peek("X-HUAWEI-CALLBACK-ID")), user, key, clk.Now(), huaweiCallbackSkew)
			}
		}
		out[k] = rv
	}
	return out
}
