package huawei

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-push/herald/vendors"
)

// CallbackHeader is the header Huawei signs its receipts in when the
// app's receipt configuration has a callback user name and key.
const CallbackHeader = "X-HUAWEI-CALLBACK-ID"

// MaxReceiptStatuses is the most entries one receipt request carries
// (Huawei merges results, at most 100 statuses a request).
const MaxReceiptStatuses = 100

// maxParsedStatuses bounds what ParseReceipts takes from one body, well
// above Huawei's own bound, so a hostile body cannot make it allocate
// without limit.
const maxParsedStatuses = 10000

// receiptBody is the body Huawei posts to the receipt URL (receipt API V1).
type receiptBody struct {
	Statuses []receiptStatus `json:"statuses"`
}

type receiptStatus struct {
	BiTag     string          `json:"biTag"`
	AppID     string          `json:"appid"`
	Token     string          `json:"token"`
	Status    json.RawMessage `json:"status"`
	Timestamp int64           `json:"timestamp"`
	RequestID string          `json:"requestId"`
}

// statusDelivered is a receipt status: the message reached the device.
const statusDelivered = "0"

// ParseReceipts decodes one Huawei receipt request (receipt API V1:
// {"statuses":[{"biTag","appid","token","status","timestamp","requestId"}]});
// status 0 is delivered, every other status (app not installed, token
// gone, device offline past the TTL, …) is not. Entries without a token
// are skipped; a body that is not the receipt shape is an error.
func ParseReceipts(contentType string, body []byte) ([]vendors.Receipt, error) {
	_ = contentType // Huawei posts application/json; the body decides
	var rb receiptBody
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&rb); err != nil {
		return nil, fmt.Errorf("not a Huawei receipt: %w", err)
	}
	if rb.Statuses == nil {
		return nil, errors.New("not a Huawei receipt: no statuses array")
	}
	if len(rb.Statuses) > maxParsedStatuses {
		return nil, fmt.Errorf("a Huawei receipt carries at most %d statuses here, got %d", maxParsedStatuses, len(rb.Statuses))
	}
	out := make([]vendors.Receipt, 0, len(rb.Statuses))
	for _, st := range rb.Statuses {
		if st.Token == "" || strings.Contains(st.Token, ",") {
			continue // not a push token
		}
		status := strings.Trim(string(st.Status), `"`)
		out = append(out, vendors.Receipt{Ref: st.BiTag, Token: st.Token, Delivered: status == statusDelivered, Status: status})
	}
	return out, nil
}

// SignCallbackID returns the X-HUAWEI-CALLBACK-ID value Huawei sends for
// a callback user name and key: "timestamp=<ms>; nonce=<nonce>;
// value=<Base64(HMAC-SHA256(key, timestamp+nonce+user))>".
func SignCallbackID(user, key string, now time.Time, nonce string) string {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	return "timestamp=" + ts + "; nonce=" + nonce + "; value=" + callbackValue(user, key, ts, nonce)
}

func callbackValue(user, key, ts, nonce string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + nonce + user))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyCallbackID checks an X-HUAWEI-CALLBACK-ID value against the
// callback user name and key: its HMAC must match (compared in constant
// time) and its timestamp be within maxSkew of now.
func VerifyCallbackID(header, user, key string, now time.Time, maxSkew time.Duration) error {
	if header == "" {
		return errors.New(CallbackHeader + " is missing")
	}
	var ts, nonce, value string
	for part := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "timestamp":
			ts = v
		case "nonce":
			nonce = v
		case "value":
			value = v
		}
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || nonce == "" || value == "" {
		return errors.New(CallbackHeader + " wants timestamp=…; nonce=…; value=…")
	}
	if !hmac.Equal([]byte(value), []byte(callbackValue(user, key, ts, nonce))) {
		return errors.New(CallbackHeader + " does not match the callback user and key")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf(CallbackHeader+" timestamp is %s from now (at most %s)", d.Round(time.Second), maxSkew)
	}
	return nil
}
