package oppo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// receiptGroup is the accepted targets of one request that share a
// receipt URL and parameter, with each target's OPPO message id.
type receiptGroup struct {
	url, param string
	targets    []string
	ids        map[string]string // target → messageId
}

// postReceipts hands the accepted targets whose message carries
// call_back_url to the Arrivals poster, grouped by URL and parameter:
// OPPO posts a JSON array with one push_arrive entry per target.
func (s *Simulator) postReceipts(msgs []simMessage, items []simBatchItem) {
	if s.arrivals == nil {
		return
	}
	var groups []*receiptGroup
	for i := range msgs {
		n := msgs[i].Notification
		if items[i].ErrorCode != 0 || n.CallBackURL == "" {
			continue
		}
		var g *receiptGroup
		for _, c := range groups {
			if c.url == n.CallBackURL && c.param == n.CallBackParam {
				g = c
				break
			}
		}
		if g == nil {
			g = &receiptGroup{url: n.CallBackURL, param: n.CallBackParam, ids: map[string]string{}}
			groups = append(groups, g)
		}
		g.targets = append(g.targets, msgs[i].TargetValue)
		g.ids[msgs[i].TargetValue] = items[i].MessageID
	}
	for _, g := range groups {
		s.arrivals.Post(vendorName, g.targets, MaxReceiptEntries, func(batch []string) (*http.Request, error) {
			at := json.RawMessage(strconv.Quote(strconv.FormatInt(s.now().UnixMilli(), 10)))
			entries := make([]receiptEntry, len(batch))
			for i, t := range batch {
				entries[i] = receiptEntry{MessageID: g.ids[t], AppID: s.appKey, RegistrationIDs: t,
					EventTime: at, Param: g.param, EventType: eventArrived}
			}
			raw, err := json.Marshal(entries)
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(raw))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			return req, nil
		})
	}
}
