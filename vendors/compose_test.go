package vendors

import (
	"testing"
	"time"
)

func TestCompose(t *testing.T) {
	badge := 3
	n := Compose(Content{
		MessageID: "m1", Title: "t", Body: "b", Payload: "p", Data: map[string]string{"call_id": "c1"},
		TTL: time.Hour, CollapseID: "conv", Badge: &badge,
	}, Resource{Sound: "ding", ChannelID: "im", Category: "IM", NotifyLevel: 2, HighPrio: true})
	if n.Data["message_id"] != "m1" || n.Data["payload"] != "p" || n.Data["call_id"] != "c1" {
		t.Fatalf("data: %v", n.Data)
	}
	if n.Priority != PriorityHigh || n.Sound != "ding" || n.Channel != "im" || n.Category != "IM" || n.NotifyLevel != 2 || *n.Badge != 3 {
		t.Fatalf("notification: %+v", n)
	}
	if v := Compose(Content{Priority: PriorityNormal}, Resource{VoIP: true}); !v.VoIP || v.Priority != PriorityHigh {
		t.Fatalf("voip resource: %+v", v)
	}
	if v := Compose(Content{Priority: PriorityHigh}, Resource{NormalPrio: true}); v.Priority != PriorityNormal {
		t.Fatalf("normal resource: %+v", v)
	}
}
