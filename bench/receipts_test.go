package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/herald-push/herald/bench"
	"github.com/herald-push/herald/vendors/simkit"
)

// TestRecorderReceiptLog: the log keeps receipts from the moment it is
// armed, pages by seq, and counts what fell off the ring as dropped.
func TestRecorderReceiptLog(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	rec.Accepted("apns", "m0", "t0") // before arming: not kept
	if rs, next, dropped := rec.Receipts(0, 10); len(rs) != 0 || next != 0 || dropped != 0 {
		t.Fatalf("armed log starts empty: %v %d %d", rs, next, dropped)
	}
	for i := 1; i <= 5; i++ {
		rec.Accepted("fcm", fmt.Sprint("m", i), fmt.Sprint("t", i))
	}
	rs, next, _ := rec.Receipts(0, 2)
	if len(rs) != 2 || next != 2 || rs[0].Seq != 1 || rs[0].MessageID != "m1" || rs[1].Token != "t2" || rs[0].Vendor != "fcm" || rs[0].AtUnixNano == 0 {
		t.Fatalf("first page: %+v next %d", rs, next)
	}
	rs, next, _ = rec.Receipts(next, 100)
	if len(rs) != 3 || next != 5 || rs[2].MessageID != "m5" {
		t.Fatalf("second page: %+v next %d", rs, next)
	}
	if rs, next, _ = rec.Receipts(next, 100); len(rs) != 0 || next != 5 {
		t.Fatalf("nothing new: %+v next %d", rs, next)
	}
	// Overflow the ring: the oldest fall off and are reported as dropped.
	for i := 0; i < simkit.ReceiptLogSize+10; i++ {
		rec.Accepted("vivo", "x", fmt.Sprint(i))
	}
	rs, next, dropped := rec.Receipts(5, 3)
	if dropped != 10 || len(rs) != 3 || rs[0].Seq != 16 || next != 18 {
		t.Fatalf("after overflow: %d receipts from seq %d, next %d, dropped %d", len(rs), rs[0].Seq, next, dropped)
	}
	// Counting is unchanged by the log.
	if st := rec.Snapshot()["fcm"]; st.Unique != 5 || st.Notifications != 5 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestReceiptsEndpoint(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	srv := httptest.NewServer(rec.Handler())
	defer srv.Close()
	get := func(q string) (int, simkit.ReceiptsResponse) {
		resp, err := http.Get(srv.URL + "/sim/receipts" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out simkit.ReceiptsResponse
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, out
	}
	if code, out := get("?after=0&limit=1"); code != 200 || len(out.Receipts) != 0 || out.Last != 0 {
		t.Fatalf("arming: %d %+v", code, out)
	}
	rec.Accepted("huawei", "m1", "a")
	rec.Accepted("huawei", "m1", "b")
	if code, out := get("?after=0"); code != 200 || len(out.Receipts) != 2 || out.Next != 2 || out.Last != 2 || out.Receipts[1].Token != "b" {
		t.Fatalf("page: %d %+v", code, out)
	}
	for _, bad := range []string{"?after=x", "?limit=0", fmt.Sprintf("?limit=%d", simkit.MaxReceiptsPerRequest+1)} {
		if code, _ := get(bad); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

// TestRemoteSimsWatch: the harness polls GET /sim/receipts and sees every
// receipt that arrives after Watch, with its arrival time.
func TestRemoteSimsWatch(t *testing.T) {
	rec := simkit.NewRecorder(nil)
	rec.EnableReceiptLog()
	rec.Accepted("apns", "old", "t") // before Watch: not delivered
	srv := httptest.NewServer(rec.Handler())
	defer srv.Close()
	rs, err := bench.NewRemoteSims(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []simkit.Receipt
	stop, err := rs.Watch(func(_ string, r simkit.Receipt) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	for i := 0; i < 50; i++ {
		rec.Accepted("apns", fmt.Sprint("m", i), "t")
	}
	stop() // delivers what is pending
	if len(got) != 50 || got[0].MessageID != "m0" || got[49].MessageID != "m49" || got[0].At.Before(before.Add(-time.Second)) {
		t.Fatalf("got %d receipts: first %+v", len(got), got[0])
	}
	st, err := rs.Stats(context.Background())
	if err != nil || st["apns"].Notifications != 51 {
		t.Fatalf("stats %+v %v", st, err)
	}
}
