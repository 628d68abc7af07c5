package bench

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-push/herald/client"
)

func TestParseRamp(t *testing.T) {
	cases := map[string][]float64{
		"1000:20000:x1.5": {1000, 1500, 2250, 3375, 5063, 7594, 11391, 17086, 20000},
		"100:400:+100":    {100, 200, 300, 400},
		"100:350:+100":    {100, 200, 300, 350},
		"500:500:x2":      {500},
		"1:3:x1.1":        {1, 2, 3}, // rounding never repeats a rate
	}
	for spec, want := range cases {
		got, err := ParseRamp(spec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseRamp(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"", "1000", "1000:2000", "2000:1000:x2", "0:10:x2", "10:20:x1", "10:20:+0", "10:20:*2", "10:20:x", "1:1000000:+1", "a:b:x2"} {
		if _, err := ParseRamp(bad); err == nil {
			t.Errorf("ParseRamp(%q): want an error", bad)
		}
	}
}

// TestKnee: the knee is the highest step within both bounds, and
// limit_reached says whether a step above it fell outside.
func TestKnee(t *testing.T) {
	step := func(offered, ratio, p99 float64) RampStep {
		s := RampStep{Offered: offered, Accepted: 1, AcceptedRatio: ratio, AcceptP99MS: p99}
		s.WithinKnee = withinKnee(s, 20)
		return s
	}
	if s := step(1000, 0.95, 20); !s.WithinKnee {
		t.Fatal("both bounds are inclusive")
	}
	if step(1000, 0.949, 1).WithinKnee || step(1000, 1, 20.001).WithinKnee {
		t.Fatal("a step below 95 % accepted or above the p99 bound is outside the knee")
	}
	if withinKnee(RampStep{Offered: 1, AcceptedRatio: 1}, 20) {
		t.Fatal("a step with nothing accepted is outside the knee")
	}
	tg := RampTarget{Steps: []RampStep{step(1000, 1, 5), step(2000, 0.99, 30), step(3000, 0.97, 15), step(4000, 0.6, 900), step(6000, 0.4, 2000)}}
	tg.fillKnee()
	if tg.KneePerSecond != 3000 || tg.KneeP99MS != 15 || !tg.LimitReached || tg.kneeStep() != 2 {
		t.Fatalf("knee %+v", tg)
	}
	all := RampTarget{Steps: []RampStep{step(1000, 1, 1), step(2000, 1, 2)}}
	all.fillKnee()
	if all.KneePerSecond != 2000 || all.LimitReached {
		t.Fatalf("every step within: knee at the top, limit not reached: %+v", all)
	}
	none := RampTarget{Steps: []RampStep{step(1000, 0.5, 100)}}
	none.fillKnee()
	if none.KneePerSecond != 0 || !none.LimitReached || none.kneeStep() != -1 {
		t.Fatalf("no step within: %+v", none)
	}
	rr := RampReport{Targets: []RampTarget{{Name: RampHerald, KneePerSecond: 3000}, {Name: RampRaw, KneePerSecond: 12000}}}
	rr.fillRatio()
	if rr.KneeRatio != 0.25 {
		t.Fatalf("ratio %v", rr.KneeRatio)
	}
	rr.Targets[1].KneePerSecond = 0
	rr.fillRatio()
	if rr.KneeRatio != 0 {
		t.Fatalf("no raw knee: ratio %v", rr.KneeRatio)
	}
}

// TestRawServer: the in-process raw server answers POST /v1/messages
// with the fixed 202 body, /readyz with 200, and nothing else.
func TestRawServer(t *testing.T) {
	s, err := startRawInProcess()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	api, err := NewAPI(s.URL, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	ans, err := postMessage(api, "p-x-1", "s", "peer", "u")
	if err != nil {
		t.Fatal(err)
	}
	var want MessageAnswer
	if err := json.Unmarshal([]byte(rawAnswer), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ans, want) || ans.Offline == nil || *ans.Offline != 1 {
		t.Fatalf("answer %+v, want the fixed %s", ans, rawAnswer)
	}
	ctx := t.Context()
	if err := api.Do(ctx, false, "POST", "/v1/messages", []byte(`{}`), nil); err != nil {
		t.Fatalf("POST: %v", err)
	}
	if err := api.Ready(ctx); err != nil {
		t.Fatalf("readyz: %v", err)
	}
	if err := api.Do(ctx, false, "GET", "/v1/messages", nil, nil); client.StatusCode(err) != http.StatusMethodNotAllowed {
		t.Fatalf("GET /v1/messages: %v", err)
	}
	if err := api.Do(ctx, false, "POST", "/v1/devices/batch", []byte(`{}`), nil); client.StatusCode(err) != http.StatusNotFound {
		t.Fatalf("other path: %v", err)
	}
}

func TestPromValues(t *testing.T) {
	text := strings.Join([]string{
		"# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.",
		"# TYPE go_memstats_heap_inuse_bytes gauge",
		"go_memstats_heap_inuse_bytes 2.4576e+07",
		"go_memstats_heap_inuse_bytes_other 7",
		`herald_user_actors_active{shard="0"} 3`,
		`herald_user_actors_active{shard="1"} 4 1700000000000`,
		"herald_user_actors_activex 99",
		"",
	}, "\n")
	got := promValues([]byte(text), "go_memstats_heap_inuse_bytes", "herald_user_actors_active", "missing")
	want := map[string]float64{"go_memstats_heap_inuse_bytes": 24576000, "herald_user_actors_active": 7}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestScenarioRampValidation: --ramp only for peer, with a valid spec.
func TestScenarioRampValidation(t *testing.T) {
	sc, _ := LoadScenario("peer", "")
	sc.Ramp = "100:200:x2"
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	sc.Ramp = "200:100:x2"
	if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), "ramp") {
		t.Fatalf("bad spec: %v", err)
	}
	fo, _ := LoadScenario("fanout", "")
	fo.Ramp = "100:200:x2"
	if err := fo.Validate(); err == nil || !strings.Contains(err.Error(), "only the peer") {
		t.Fatalf("ramp on fanout: %v", err)
	}
	m, _ := LoadScenario("memory", "")
	m.ActiveUsers = m.Users + 1
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "active_users") {
		t.Fatalf("active_users > users: %v", err)
	}
}
