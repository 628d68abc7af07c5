package fcm

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// fault is one Google API error answer.
type fault struct {
	httpStatus int
	status     string // canonical code
	fcmCode    string // FcmError detail, "" = none
	reason     string // ErrorInfo detail, "" = none
	field      string // BadRequest field violation, "" = none
	message    string
	retryAfter time.Duration
	wwwAuth    bool // add WWW-Authenticate (a refused bearer token)
}

// badRequest is a 400 INVALID_ARGUMENT; fcmCode "" leaves the FcmError
// detail out, as Google does for JSON and schema errors.
func badRequest(fcmCode, field, message string) *fault {
	return &fault{httpStatus: http.StatusBadRequest, status: "INVALID_ARGUMENT", fcmCode: fcmCode, field: field, message: message}
}

// writeFault writes f in the shape the Admin SDKs parse:
// {"error":{"code","message","status","details":[…]}}.
func writeFault(w http.ResponseWriter, f fault) {
	details := []map[string]any{}
	if f.fcmCode != "" {
		details = append(details, map[string]any{"@type": typeFcmError, "errorCode": f.fcmCode})
	}
	if f.reason != "" {
		details = append(details, map[string]any{"@type": typeErrorInfo, "reason": f.reason, "domain": "googleapis.com",
			"metadata": map[string]string{"service": "fcm.googleapis.com", "method": "google.firebase.fcm.v1.FcmService.SendMessage"}})
	}
	if f.field != "" {
		details = append(details, map[string]any{"@type": typeBadRequest,
			"fieldViolations": []map[string]string{{"field": f.field, "description": f.message}}})
	}
	body := map[string]any{"code": f.httpStatus, "message": f.message, "status": f.status}
	if len(details) > 0 {
		body["details"] = details
	}
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(f.retryAfter.Seconds())), 10))
	}
	if f.wwwAuth {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	}
	writeJSON(w, f.httpStatus, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// strictDecode decodes exactly one JSON value with no unknown fields.
func strictDecode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}
