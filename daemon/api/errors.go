package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/herald-push/herald/store"
	"github.com/valyala/fasthttp"
)

// Error codes of the API (api.md "Conventions").
const (
	codeInvalidArgument    = "invalid_argument"
	codeUnauthenticated    = "unauthenticated"
	codePermissionDenied   = "permission_denied"
	codeNotFound           = "not_found"
	codeMethodNotAllowed   = "method_not_allowed"
	codeConflict           = "conflict"
	codePayloadTooLarge    = "payload_too_large"
	codeUnsupportedMedia   = "unsupported_media_type"
	codeOverloaded         = "overloaded"
	codeHeadersTooLarge    = "headers_too_large"
	codeStorageFull        = "storage_full"
	codeInternal           = "internal"
	defaultRetryAfterSecs  = 1
	storageRetryAfterSecs  = 30 // space comes back when an operator frees it, not within a second
	contentTypeJSON        = "application/json"
	contentTypeJSONCharset = "application/json; charset=utf-8"
)

// apiError is an error answer: HTTP status plus the JSON error body.
type apiError struct {
	Status     int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Field      string `json:"field,omitempty"`
	Vendor     string `json:"vendor,omitempty"` // the vendor whose limit a push breaks
	RetryAfter int    `json:"-"`                // seconds; sent as Retry-After when > 0
	Allow      string `json:"-"`                // 405: the methods the path takes, sent as Allow
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func invalid(field, msg string) *apiError {
	return &apiError{Status: fasthttp.StatusBadRequest, Code: codeInvalidArgument, Field: field, Message: msg}
}

func overloaded(msg string) *apiError {
	return &apiError{Status: fasthttp.StatusServiceUnavailable, Code: codeOverloaded, Message: msg, RetryAfter: defaultRetryAfterSecs}
}

// storageFull refuses a write that would add data while the disk is
// nearly full (store.ErrStorageLow): nothing was written.
func storageFull(e *store.StorageLowError) *apiError {
	return &apiError{Status: fasthttp.StatusInsufficientStorage, Code: codeStorageFull, RetryAfter: storageRetryAfterSecs,
		Message: fmt.Sprintf("the data directory has %s free, below min_free_space (%s): writes that add data are refused until space is freed; reads, deletes and deliveries go on; nothing was accepted, retry after Retry-After",
			store.BytesText(e.Free), store.BytesText(e.MinFree))}
}

func internalError() *apiError {
	return &apiError{Status: fasthttp.StatusInternalServerError, Code: codeInternal, Message: "internal error; see the server log"}
}

// writeError writes e as the response.
func writeError(rc *fasthttp.RequestCtx, e *apiError) {
	body, _ := marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	rc.Response.Reset()
	rc.SetStatusCode(e.Status)
	rc.SetContentType(contentTypeJSONCharset)
	if e.RetryAfter > 0 {
		rc.Response.Header.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if e.Allow != "" {
		rc.Response.Header.Set("Allow", e.Allow)
	}
	if e.Status == fasthttp.StatusUnauthorized {
		rc.Response.Header.Set("WWW-Authenticate", `Bearer realm="herald"`) // RFC 9110, 15.5.2: a 401 names its scheme
	}
	rc.SetBody(body)
}

// marshal is json.Marshal without HTML escaping: the API answers JSON, not
// HTML, and a message naming "<key>" should read so, not "\u003ckey\u003e".
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writeJSON writes v as a JSON response with status.
func writeJSON(rc *fasthttp.RequestCtx, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		writeError(rc, internalError())
		return
	}
	rc.SetStatusCode(status)
	rc.SetContentType(contentTypeJSONCharset)
	rc.SetBody(body)
}
