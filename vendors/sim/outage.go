package sim

import (
	"encoding/json"
	"net/http"

	"github.com/herald-push/herald/vendors"
)

// transientAnswers are what each vendor answers while it is down (POST
// /sim/outage): the same transient failure its simulator gives a token
// scripted "unavailable-" (simkit.Unavailable), for the whole request.
// None of them is a throttling answer, so herald's circuit breaker counts
// them.
var transientAnswers = map[vendors.Kind]http.HandlerFunc{
	// APNs: 503 ServiceUnavailable.
	vendors.APNs: func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("apns-id"); id != "" {
			w.Header().Set("apns-id", id)
		}
		writeJSON(w, http.StatusServiceUnavailable, "application/json; charset=utf-8", map[string]string{"reason": "ServiceUnavailable"})
	},
	vendors.FCM: googleUnavailable,
	vendors.Web: googleUnavailable,
	// Huawei: HTTP 503, its flow control.
	vendors.Huawei: func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain;charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service Unavailable: flow control\n"))
	},
	// Xiaomi: HTTP 200, code 10002 "system busy" (retryable) for the whole request.
	vendors.Xiaomi: func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{"result": "error", "code": 10002,
			"reason": "System busy, please retry later", "description": "系统繁忙", "trace_id": "Xsm000000000000000000"})
	},
	// OPPO: HTTP 200, code -1 "Service Currently Unavailable".
	vendors.OPPO: func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", map[string]any{"code": -1, "message": "Service Currently Unavailable"})
	},
	// vivo: HTTP 500.
	vendors.Vivo: func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Internet server error!", http.StatusInternalServerError)
	},
}

// googleUnavailable is FCM's (and Web's) 503 UNAVAILABLE.
func googleUnavailable(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusServiceUnavailable, "application/json; charset=UTF-8", map[string]any{"error": map[string]any{
		"code": http.StatusServiceUnavailable, "message": "The service is currently unavailable.", "status": "UNAVAILABLE",
		"details": []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNAVAILABLE"}},
	}})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SetOutage takes vendor k's simulator down (every request answered with
// its transient failure before the simulator does any work) or up again.
func (s *Sims) SetOutage(k vendors.Kind, down bool) error { return s.Outage.Set(string(k), down) }
