package vivo

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// postReceipt hands an accepted single push that carries extra.callback
// to the Arrivals poster: vivo posts {"<taskId>":{"param","targets"}} to
// that URL.
func (s *Simulator) postReceipt(taskID, regID string, extra map[string]string) {
	url := extra[extraCallback]
	if s.arrivals == nil || url == "" {
		return
	}
	param := extra[extraCallbackParam]
	s.arrivals.Post(vendorName, []string{regID}, 1, func(batch []string) (*http.Request, error) {
		raw, err := json.Marshal(map[string]receiptEntry{taskID: {Param: param, Targets: batch[0]}})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	})
}
