package oppo

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func BenchmarkEncode(b *testing.B) {
	n := goldenCases()["messages_im"].n
	for _, size := range []int{1, 100, 1000} {
		ids := regIDs("CN_b6bbd94b59cdb5df8391642c15", size)
		b.Run("targets="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeMessages(n, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}

// BenchmarkRequestBody is the client's whole request body for a
// 1000-target batch: the messages array and its form encoding.
func BenchmarkRequestBody(b *testing.B) {
	n := chatNotification("msg-0001")
	ids := regIDs("CN_b6bbd94b59cdb5df8391642c15", maxBatch)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeFormMessages(n, ids, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*maxBatch), "ns/notification")
}

// simBatchRequest is a unicast_batch request from the real client's
// encoding, for 1000 targets, with a token the simulator accepts.
func simBatchRequest(b *testing.B, s *Simulator) (body string) {
	tok, ok := s.issueToken(s.now())
	if !ok {
		b.Fatal("no auth token")
	}
	ids := regIDs("CN_b6bbd94b59cdb5df8391642c15", maxBatch)
	out, err := encodeFormMessages(chatNotification("msg-0001"), ids, "")
	if err != nil {
		b.Fatal(err)
	}
	return string(tokenField(tok)) + string(out)
}

// BenchmarkBatchResults is the client reading the simulator's answer to a
// 1000-target batch.
func BenchmarkBatchResults(b *testing.B) {
	s := NewSimulator(nil, SimOptions{})
	w := serveBatch(s, simBatchRequest(b, s))
	if w.Code != http.StatusOK {
		b.Fatalf("HTTP %d", w.Code)
	}
	body := w.Body.Bytes()
	ids := regIDs("CN_b6bbd94b59cdb5df8391642c15", maxBatch)
	now := time.Now()
	var p fastjson.Parser
	b.ReportAllocs()
	for b.Loop() {
		a, err := decodeAnswer(&p, body)
		if err != nil {
			b.Fatal(err)
		}
		res := batchResults(a, ids, now)
		if !res[len(res)-1].OK() {
			b.Fatal(res[len(res)-1])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*maxBatch), "ns/notification")
}

// BenchmarkSimulatorBatch is the simulator answering a 1000-target batch
// (form parse, message checks, counting, answer), without the network.
func BenchmarkSimulatorBatch(b *testing.B) {
	s := NewSimulator(nil, SimOptions{})
	body := simBatchRequest(b, s)
	b.ReportAllocs()
	for b.Loop() {
		if w := serveBatch(s, body); w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), `{"code":0,`) {
			b.Fatalf("HTTP %d %.200s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*maxBatch), "ns/notification")
}

func serveBatch(s *Simulator, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, pathBatch, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}
