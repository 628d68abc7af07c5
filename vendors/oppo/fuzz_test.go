package oppo

import (
	"testing"
	"time"
)

// FuzzAnswer: no vendor answer may panic the client.
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{
		`{"code":0,"data":[{"messageId":"1","registrationId":"a"},{"registrationId":"b","errorCode":10000}]}`,
		`{"code":"33","message":"x"}`,
		`{"code":0,"data":null}`,
		`{"code":0,"data":{"auth_token":"t","create_time":1}}`,
		`{"code":""}`, `{"code":"`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeAnswer(nil, body)
		if err != nil {
			return
		}
		res := batchResults(a, []string{"a", "b", "a"}, time.Now())
		if len(res) != 3 {
			t.Fatalf("%d results", len(res))
		}
		_ = codeResult(int(*a.Code), a.Message, time.Now())
	})
}

// FuzzSimMessages: no request may panic the simulator's decoder or checks.
func FuzzSimMessages(f *testing.F) {
	for _, s := range []string{
		`[` + simMessageJSON("CN_a", okNotification) + `]`,
		`[{"target_type":2,"target_value":"a","notification":{"notify_level":16,"category":"IM","title":"t","content":"c","channel_id":"x","style":2}}]`,
		`[{"notification":null}]`, `[null]`, `{}`, `[1]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, field string) {
		for _, batch := range []bool{true, false} {
			msgs, err := new(simDecoder).decode([]byte(field), batch)
			if err != nil {
				continue
			}
			for i := range msgs {
				_, _ = validateMessage(&msgs[i])
			}
		}
	})
}
