package oppo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// The client writes the form already escaped, and the simulator and the
// client read JSON with fastjson and the form with their own unescaping:
// these tests hold each to what net/url and encoding/json do.

func TestFormMessagesAreWhatURLValuesEncodes(t *testing.T) {
	for name, tc := range goldenCases() {
		for _, tok := range []string{"plain0123", "a b+c&d=e%f/g~h", "令牌"} {
			json, err := encodeMessages(tc.n, tc.regIDs)
			if err != nil {
				t.Fatal(err)
			}
			form, err := encodeFormMessages(tc.n, tc.regIDs, "")
			if err != nil {
				t.Fatal(err)
			}
			got := string(tokenField(tok)) + string(form)
			want := url.Values{"auth_token": {tok}, "messages": {string(json)}}.Encode()
			if got != want {
				t.Errorf("%s, token %q:\n got %s\nwant %s", name, tok, got, want)
			}
		}
	}
}

func TestSimFormReadsWhatParseQueryReads(t *testing.T) {
	for _, body := range []string{
		"auth_token=t&messages=%5B%5D", "a=1&a=2&b", "&&x=%41+%42&", "k=%zz", "k=%4", "k;x=1", "=v&k=",
		url.Values{"messages": {`[{"a":"b c+d%"}]`}, "auth_token": {"令牌"}}.Encode(),
	} {
		checkSimForm(t, body)
	}
}

func FuzzSimForm(f *testing.F) {
	for _, s := range []string{"auth_token=t&messages=%5B%5D", "a=1&a=2", "k=%zz", "k;x=1", "+%2B+"} {
		f.Add(s)
	}
	f.Fuzz(checkSimForm)
}

func checkSimForm(t *testing.T, body string) {
	var f simForm
	r := simRequest(body)
	err := f.read(r)
	want, werr := url.ParseQuery(body)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, url.ParseQuery's %v", body, err, werr)
	}
	if err != nil {
		return
	}
	for k, vs := range want {
		if got := f.get(k); got != vs[0] {
			t.Fatalf("%q: %q = %q, url.ParseQuery has %q", body, k, got, vs[0])
		}
	}
}

// refSimMessages is the simulator's decoding done by encoding/json (what
// the simMessage types' tags say).
func refSimMessages(field string, batch bool) ([]simMessage, error) {
	if !batch {
		field = "[" + field + "]"
	}
	var msgs []simMessage
	err := json.Unmarshal([]byte(field), &msgs)
	return msgs, err
}

func TestSimDecoderReadsWhatEncodingJSONReads(t *testing.T) {
	for _, field := range []string{
		`[` + simMessageJSON("CN_a", okNotification) + `]`,
		`[` + simMessageJSON("CN_a", okNotification) + `,` + simMessageJSON("CN_b", okNotification) + `]`,
		`[{"target_type":2,"target_value":"a","notification":{"notify_level":16,"category":"IM","title":"t","content":"c","channel_id":"x","style":2,"off_line_ttl":3600,"notify_id":7,"click_action_type":0,"app_message_id":"x"}}]`,
		`[{"target_type":null,"target_value":null,"notification":{"title":null,"style":null}}]`,
		`[{"notification":null}]`, `[null]`, `[]`, `[{}]`, `[{"unknown":[1,{"x":2}],"target_value":"\u00e9\n"}]`,
		`[{"target_type":"2"}]`, `[{"target_type":2.5}]`, `[{"target_value":3}]`, `[{"notification":[]}]`,
		`[{"notification":{"title":1}}]`, `[{"notification":{"style":"1"}}]`, `[1]`, `{}`, `[{"a":}]`, `[`, `null`,
	} {
		got, err := new(simDecoder).decode([]byte(field), true)
		want, werr := refSimMessages(field, true)
		if (err == nil) != (werr == nil) {
			t.Errorf("%s: error %v, encoding/json's %v", field, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		for i := range got {
			if got[i].Notification != nil {
				got[i].Notification.params = paramsInfo{}
			}
		}
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", field, dump(got), dump(want))
		}
	}
}

func dump(msgs []simMessage) string {
	b, _ := json.Marshal(msgs)
	return string(b)
}

func TestSimDecoderReadsActionParameters(t *testing.T) {
	d := new(simDecoder)
	for params, want := range map[string]paramsInfo{
		`{"message_id":"m-1","a":"b"}`: {object: true, messageID: "m-1"},
		`{"message_id":7}`:             {object: true},
		`{}`:                           {object: true},
		`[]`:                           {},
		`{"message_id":"m`:             {},
		`null`:                         {},
	} {
		field, _ := json.Marshal([]map[string]any{{"notification": map[string]string{"action_parameters": params}}})
		for range 2 { // the second time from the memo
			msgs, err := d.decode(field, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := msgs[0].Notification.params; got != want {
				t.Errorf("%s: %+v, want %+v", params, got, want)
			}
		}
	}
}

func TestAnswerDecoding(t *testing.T) {
	for _, tc := range []struct {
		body  string
		code  int
		msg   string
		items int
		err   bool
	}{
		{body: `{"code":0,"message":"Success","data":[{"messageId":"1","registrationId":"a"}]}`, items: 1, msg: "Success"},
		{body: `{"code":"33","message":"quota"}`, code: 33, msg: "quota", items: -1},
		{body: ` {"code":-2} `, code: -2, items: -1},
		{body: `{"code":0,"data":{"auth_token":"t","create_time":1}}`, items: -1},
		{body: `{"code":null}`, err: true},
		{body: `{"code":1.5}`, err: true},
		{body: `{"code":"x"}`, err: true},
		{body: `{"code":0,"message":3}`, err: true},
		{body: `null`, err: true},
		{body: `[]`, err: true},
		{body: `{"code":0`, err: true},
	} {
		a, err := decodeAnswer(nil, []byte(tc.body))
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v", tc.body, err)
			continue
		}
		if err != nil {
			continue
		}
		items := len(a.items)
		if a.itemsErr != nil {
			items = -1
		}
		if int(*a.Code) != tc.code || a.Message != tc.msg || items != tc.items {
			t.Errorf("%s: code %d message %q items %d (%v)", tc.body, *a.Code, a.Message, items, a.itemsErr)
		}
	}
	a, _ := decodeAnswer(nil, []byte(`{"code":0,"data":{"auth_token":"t","create_time":1}}`))
	var d authData
	if err := json.Unmarshal(a.Data, &d); err != nil || d.AuthToken != "t" || d.CreateTime != 1 {
		t.Errorf("auth data %s: %+v %v", a.Data, d, err)
	}
}

func TestBatchResultsOutOfOrder(t *testing.T) {
	a := answerWith(t, `[{"messageId":"2","registrationId":"b","errorCode":10000},{"messageId":"1","registrationId":"a"},{"messageId":"3","registrationId":"a"}]`)
	res := batchResults(a, []string{"a", "b", "a"}, testStart)
	if !res[0].OK() || res[0].Reason != "1" || res[1].OK() || !res[2].OK() || res[2].Reason != "3" {
		t.Errorf("results %+v", res)
	}
	if !bytes.Contains([]byte(res[1].Code), []byte("10000")) || strings.Contains(res[1].Reason, "messageId") {
		t.Errorf("result %+v", res[1])
	}
}

func simRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, pathBatch, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	return r
}

func TestReplyBatchIsWhatReplyWrites(t *testing.T) {
	items := []simBatchItem{{MessageID: "k-1-1-01", RegistrationID: "CN_a"},
		{RegistrationID: `CN_"<&>"`, ErrorCode: codeInvalidRegID, ErrorMessage: "Invalid Registration_id"}}
	for _, items := range [][]simBatchItem{items, items[:1], {}} {
		fast, slow := httptest.NewRecorder(), httptest.NewRecorder()
		replyBatch(fast, items)
		reply(slow, codeSuccess, "Success", items)
		if fast.Body.String() != slow.Body.String() || fast.Header().Get("Content-Type") != slow.Header().Get("Content-Type") {
			t.Errorf("replyBatch wrote %q, reply %q", fast.Body.String(), slow.Body.String())
		}
	}
}
