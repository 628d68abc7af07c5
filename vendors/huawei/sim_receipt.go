package huawei

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// simStatus is one entry of the receipt the simulator posts (receipt API
// V1; status 0 = delivered to the device).
type simStatus struct {
	BiTag     string `json:"biTag"`
	AppID     string `json:"appid"`
	Token     string `json:"token"`
	Status    int    `json:"status"`
	Timestamp int64  `json:"timestamp"`
	RequestID string `json:"requestId"`
}

// postReceipts hands the accepted tokens of a push that asked for a
// receipt (android.bi_tag) to the Arrivals poster, which posts them to the
// app's receipt URL at most MaxReceiptStatuses a request, as Huawei does.
func (s *Simulator) postReceipts(m *simMessage, tokens []string) {
	if s.arrivals == nil || m.Android == nil || m.Android.BiTag == "" {
		return
	}
	s.mu.Lock()
	rc := s.receipt
	s.mu.Unlock()
	if rc.URL == "" {
		return
	}
	tag, reqID := m.Android.BiTag, s.requestID()
	s.arrivals.Post(vendorName, tokens, MaxReceiptStatuses, func(batch []string) (*http.Request, error) {
		now := s.now()
		body := struct {
			Statuses []simStatus `json:"statuses"`
		}{Statuses: make([]simStatus, 0, len(batch))}
		for _, t := range batch {
			body.Statuses = append(body.Statuses, simStatus{BiTag: tag, AppID: s.appID, Token: t, Timestamp: now.UnixMilli(), RequestID: reqID})
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, rc.URL, bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if rc.User != "" && rc.Key != "" {
			var n [8]byte
			_, _ = rand.Read(n[:])
			req.Header.Set(CallbackHeader, SignCallbackID(rc.User, rc.Key, now, hex.EncodeToString(n[:])))
		}
		return req, nil
	})
}
