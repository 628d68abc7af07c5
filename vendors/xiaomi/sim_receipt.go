package xiaomi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// receiptGroup is the accepted targets of one request that share a
// receipt URL and parameter.
type receiptGroup struct {
	url, param string
	targets    []string
}

// postReceipts hands the accepted targets (regIDs[i] for i in accepted)
// whose message asked for delivery receipts (extra.callback, and a
// callback.type that includes 1 or none) to the Arrivals poster, grouped by
// URL and parameter: MiPush posts a form whose data field is
// {"<msgId>":{"param","type":1,"targets":"a,b",…}}.
func (s *Simulator) postReceipts(msgID string, regIDs []string, accepted []int, params func(i int) *simParams) {
	if s.arrivals == nil || len(accepted) == 0 {
		return
	}
	var groups []receiptGroup
	for _, i := range accepted {
		p := params(i)
		if p.callback == "" || !wantsDelivered(p.callbackType) {
			continue
		}
		k := len(groups)
		for j := range groups {
			if groups[j].url == p.callback && groups[j].param == p.callbackParam {
				k = j
				break
			}
		}
		if k == len(groups) {
			groups = append(groups, receiptGroup{url: p.callback, param: p.callbackParam})
		}
		groups[k].targets = append(groups[k].targets, regIDs[i])
	}
	for _, g := range groups {
		s.arrivals.Post(vendorName, g.targets, MaxReceiptTargets, func(batch []string) (*http.Request, error) {
			data, err := json.Marshal(map[string]receiptEntry{msgID: {
				Param: g.param, Type: json.RawMessage(callbackDelivered), Targets: strings.Join(batch, ","),
				BarStatus: "Enable", Timestamp: s.now().UnixMilli(),
			}})
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequest(http.MethodPost, g.url, strings.NewReader(url.Values{"data": {string(data)}}.Encode()))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req, nil
		})
	}
}

// wantsDelivered reports whether extra.callback.type asks for delivery
// receipts: absent, 1 or 3 (delivered and clicked), or any bit mask with 1.
func wantsDelivered(typ string) bool {
	if typ == "" {
		return true
	}
	n, err := strconv.Atoi(typ)
	return err == nil && n&1 == 1
}
