package oppo

import (
	"testing"
	"time"

	"github.com/herald-push/herald/vendors"
)

// TestCodeVerdicts covers every code of OPPO's return-code table (which
// includes every code vendors.md lists).
func TestCodeVerdicts(t *testing.T) {
	tests := []struct {
		code    int
		verdict vendors.Verdict
	}{
		{0, vendors.Delivered},
		{-1, vendors.Retry},             // Service Currently Unavailable
		{-2, vendors.Retry},             // Service in Flow Control
		{11, vendors.CredentialsBroken}, // Invalid AuthToken (after the one refresh)
		{12, vendors.Rejected},          // Http Action Not Allowed
		{13, vendors.Retry},             // App Call Limited
		{14, vendors.CredentialsBroken}, // Invalid App Key
		{15, vendors.CredentialsBroken}, // Missing App Key
		{16, vendors.CredentialsBroken}, // Invalid Signature
		{17, vendors.CredentialsBroken}, // Missing Signature
		{18, vendors.CredentialsBroken}, // Missing Timestamp
		{19, vendors.CredentialsBroken}, // Invalid Timestamp
		{20, vendors.Rejected},          // Invalid Method
		{21, vendors.Rejected},          // Missing Method
		{22, vendors.Rejected},          // Missing Version
		{23, vendors.Rejected},          // Invalid Version
		{24, vendors.Rejected},          // Unsupported Version
		{25, vendors.Rejected},          // Invalid Encoding
		{26, vendors.CredentialsBroken}, // IP Black List
		{27, vendors.CredentialsBroken}, // Access Denied
		{28, vendors.CredentialsBroken}, // App Disabled
		{29, vendors.Rejected},          // Missing Auth Token
		{30, vendors.CredentialsBroken}, // Api Permission Denied
		{31, vendors.Rejected},          // Data Not Exist
		{32, vendors.Rejected},          // Data Duplicate
		{33, vendors.Retry},             // daily limit
		{34, vendors.Rejected},          // picture daily limit
		{40, vendors.Rejected},          // Missing Required Arguments
		{41, vendors.Rejected},          // Invalid Arguments
		{51, vendors.Rejected},          // Invalid Picture
		{55, vendors.Retry},             // App Call Frequency Limit
		{59, vendors.Rejected},          // UseSecondaryAction permission denied
		{67, vendors.Rejected},          // Category error / notify_level invalid
		{10000, vendors.TokenInvalid},   // Invalid Registration_id
		{12345, vendors.Rejected},       // unknown
	}
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		r := codeResult(tc.code, "detail", now)
		if r.Verdict != tc.verdict {
			t.Errorf("code %d: verdict %v, want %v", tc.code, r.Verdict, tc.verdict)
		}
		if r.Reason == "" || r.Code == "" {
			t.Errorf("code %d: empty code or reason: %+v", tc.code, r)
		}
		if (r.RetryAfter != 0) != (tc.code == 33) {
			t.Errorf("code %d: RetryAfter %v", tc.code, r.RetryAfter)
		}
	}
}

func TestUntilNextQuotaDay(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"2025-06-01T10:00:00Z": 6 * time.Hour,                 // 18:00 in Beijing
		"2025-06-01T15:59:59Z": time.Second,                   // 23:59:59
		"2025-06-01T16:00:00Z": 24 * time.Hour,                // midnight exactly
		"2025-12-31T20:30:00Z": 19*time.Hour + 30*time.Minute, // 04:30 on Jan 1
	} {
		now, err := time.Parse(time.RFC3339, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := untilNextQuotaDay(now); got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
	}
}

func TestBatchResults(t *testing.T) {
	now := time.Now()
	data := answerWith(t, `[
		{"messageId":"1","registrationId":"a"},
		{"messageId":"2","registrationId":"b","errorCode":10000,"errorMessage":"Invalid Registration_id"},
		{"messageId":"3","registrationId":"c","errorCode":33},
		{"messageId":"4","registrationId":"d","errorCode":"oops"}]`)
	res := batchResults(data, []string{"a", "b", "c", "x"}, now)
	wantVerdicts(t, res, vendors.Retry, vendors.Retry, vendors.Retry, vendors.Retry)
	if res[0].Code != "malformed_response" {
		t.Errorf("an unparsable errorCode must make the answer malformed: %+v", res[0])
	}
	data = answerWith(t, `[
		{"messageId":"1","registrationId":"a"},
		{"messageId":"2","registrationId":"b","errorCode":10000,"errorMessage":"Invalid Registration_id"},
		{"messageId":"3","registrationId":"c","errorCode":33}]`)
	res = batchResults(data, []string{"a", "b", "c", "x"}, now)
	wantVerdicts(t, res, vendors.Delivered, vendors.TokenInvalid, vendors.Retry, vendors.Retry)
	if res[2].RetryAfter == 0 || res[3].Code != "missing_item" {
		t.Errorf("results %+v", res)
	}
}

// answerWith is a successful envelope around data, as the client decodes it.
func answerWith(t *testing.T, data string) *answer {
	t.Helper()
	a, err := decodeAnswer(nil, []byte(`{"code":0,"message":"Success","data":`+data+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
