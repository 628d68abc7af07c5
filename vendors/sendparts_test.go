package vendors

import (
	"context"
	"errors"
	"testing"
)

// SendParts files each part's results at their slots; a first part that
// fails is the call's error; a later one leaves the answered results and
// makes the rest Retry "canceled".
func TestSendPartsFilesResultsAndCancelsTheRest(t *testing.T) {
	boom := errors.New("boom")
	parts := func(failAt int) func(int) (int, []Result, error) {
		return func(start int) (int, []Result, error) {
			if start == failAt {
				return 0, nil, boom
			}
			end := min(start+2, 5)
			res := make([]Result, end-start)
			for k := range res {
				res[k] = Result{Code: string(rune('a' + start + k))}
			}
			return end, res, nil
		}
	}
	at := []int{4, 3, 2, 1, 0}
	out, err := SendParts(make([]Result, 5), 5, at, "v: ", parts(-1))
	if err != nil {
		t.Fatal(err)
	}
	for j, i := range at {
		if want := string(rune('a' + j)); out[i].Code != want {
			t.Fatalf("slot %d: %+v, want code %s", i, out[i], want)
		}
	}
	if _, err := SendParts(make([]Result, 5), 5, nil, "v: ", parts(0)); !errors.Is(err, boom) {
		t.Fatalf("first part failing: %v, want boom", err)
	}
	out, err = SendParts(make([]Result, 5), 5, nil, "v: ", parts(2))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out {
		want := Result{Code: string(rune('a' + i))}
		if i >= 2 {
			want = Result{Verdict: Retry, Code: "canceled", Reason: "v: boom"}
		}
		if r != want {
			t.Fatalf("target %d: %+v, want %+v", i, r, want)
		}
	}
	if err := CheckSendEach(context.Background(), []*Notification{{}, nil}, make([]Target, 2), 0); err == nil {
		t.Fatal("CheckSendEach took a nil notification")
	}
	if err := CheckSendEach(context.Background(), []*Notification{{}}, make([]Target, 2), 0); err == nil {
		t.Fatal("CheckSendEach took 1 notification for 2 targets")
	}
	if err := CheckSendEach(context.Background(), []*Notification{{}, {}}, make([]Target, 2), 1); err == nil {
		t.Fatal("CheckSendEach took 2 targets over a max of 1")
	}
}
