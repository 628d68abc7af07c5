package store

import (
	"encoding/json"
	"slices"
	"testing"
)

func testCall() Call {
	return Call{CallID: "c1", Inviter: "ann", State: CallRinging,
		Invitees:  []Invitee{{UserID: "bob", State: CallRinging}, {UserID: "cy", State: CallAccepted}, {UserID: "di", State: CallTimedOut}},
		CreatedAt: 1767225600000, DeadlineAt: 1767225630000, Data: []byte(`{"room":7}`), Title: "Ann is calling", Content: "Incoming call",
		Resources: "r1", Pushed: []OutboxKeyToken{{Key: OutboxKey{Vendor: "apns", RowID: RowID{Kind: RowCallInvite, ID: "c1"}, UserID: "bob", DeviceID: "d1"}, Token: "v0ip", VoIP: true}}}
}

// The stored form of a call, its states included, never changes by accident.
func TestCallGolden(t *testing.T) {
	golden(t, "call", EncodeCall(testCall()))
	got, err := DecodeCall(EncodeCall(testCall()))
	if err != nil {
		t.Fatal(err)
	}
	want := testCall()
	if got.State != want.State || !slices.Equal(got.Invitees, want.Invitees) || got.DeadlineAt != want.DeadlineAt || !slices.Equal(got.Pushed, want.Pushed) {
		t.Fatalf("round trip: %+v", got)
	}
}

// A state marshals as its plain string.
func TestCallStateJSON(t *testing.T) {
	b, err := json.Marshal(Invitee{UserID: "bob", State: CallTimedOut})
	if err != nil || string(b) != `{"UserID":"bob","State":"timed_out"}` {
		t.Fatalf("%s %v", b, err)
	}
}

// The ringing index holds an invitee while it rings, and not once it
// answered or the call was cancelled or ended.
func TestPutCallRingingIndex(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	c := testCall()
	steps := []struct {
		name  string
		apply func(*Call)
		want  map[string][]string // user → ringing calls
	}{
		{"created", func(*Call) {}, map[string][]string{"bob": {"c1"}, "cy": nil, "di": nil}},
		{"accepted", func(c *Call) { c.Invitees[0].State = CallAccepted; c.State = CallAccepted }, map[string][]string{"bob": nil}},
		{"ringing again", func(c *Call) { c.Invitees[0].State = CallRinging; c.State = CallRinging }, map[string][]string{"bob": {"c1"}}},
		{"cancelled call", func(c *Call) { c.State = CallCancelled }, map[string][]string{"bob": nil}},
	}
	for _, st := range steps {
		st.apply(&c)
		if err := s.PutCall(c); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for user, want := range st.want {
			got, err := s.RingingCalls(user, c.CreatedAt)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("%s: ringing for %s = %v, %v; want %v", st.name, user, got, err, want)
			}
		}
	}
	if got, ok, err := s.GetCall("c1"); err != nil || !ok || got.State != CallCancelled {
		t.Fatalf("GetCall: %+v %v %v", got, ok, err)
	}
}
