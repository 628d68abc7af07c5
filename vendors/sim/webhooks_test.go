package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/webhooks"
)

// The test receiver at /sim/webhooks: secrets set over its control
// endpoint, a signed delivery taken (and a repeat counted as a
// duplicate), a tampered one refused with 401, 503 while down.
func TestWebhookReceiver(t *testing.T) {
	e := start(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if code, body := e.post(t, "/sim/webhooks/control", `{"secrets":["whsec_!!"]}`); code != http.StatusBadRequest || !strings.Contains(body, `"field":"secrets"`) {
		t.Fatalf("a bad secret: %d %s", code, body)
	}
	if code, body := e.post(t, "/sim/webhooks/control", `{"secrets":["`+secret+`"]}`); code != http.StatusOK {
		t.Fatalf("control: %d %s", code, body)
	}
	key, _ := webhooks.ParseSecret(secret)
	body, id, err := webhooks.Body([]store.HookEvent{{ID: "evt_1", Type: store.EventPushFailed, At: 1, Data: []byte(`{}`)},
		{ID: "evt_2", Type: store.EventCallRinging, At: 2, Data: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(body []byte) int {
		t.Helper()
		ts := time.Now().Unix()
		req, _ := http.NewRequest("POST", e.url+"/sim/webhooks", strings.NewReader(string(body)))
		req.Header.Set(webhooks.HeaderID, id)
		req.Header.Set(webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(webhooks.HeaderSignature, webhooks.Sign([][]byte{key}, id, ts, body))
		r, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
		return r.StatusCode
	}
	if code := deliver(body); code != http.StatusNoContent {
		t.Fatalf("signed delivery: %d", code)
	}
	if code := deliver(body); code != http.StatusNoContent {
		t.Fatalf("repeated delivery: %d", code)
	}
	tampered := []byte(strings.Replace(string(body), "push.failed", "push.faile_", 1))
	ts := time.Now().Unix()
	req, _ := http.NewRequest("POST", e.url+"/sim/webhooks", strings.NewReader(string(tampered)))
	req.Header.Set(webhooks.HeaderID, id)
	req.Header.Set(webhooks.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(webhooks.HeaderSignature, webhooks.Sign([][]byte{key}, id, ts, body)) // signed over the original
	r, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tampered delivery: %d, want 401", r.StatusCode)
	}
	if code, _ := e.post(t, "/sim/webhooks/control", `{"down":true}`); code != http.StatusOK {
		t.Fatal("control down")
	}
	if code := deliver(body); code != http.StatusServiceUnavailable {
		t.Fatalf("while down: %d, want 503", code)
	}
	g, err := e.client.Get(e.url + "/sim/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Body.Close()
	var st webhooks.ReceiverStats
	if err := json.NewDecoder(g.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 2 || st.Events != 2 || st.Duplicates != 2 || st.BadSignature != 1 || st.Refused != 1 || !st.Down || !st.Verified ||
		st.ByType[store.EventPushFailed] != 1 || st.ByType[store.EventCallRinging] != 1 {
		t.Fatalf("stats %+v", st)
	}
}
