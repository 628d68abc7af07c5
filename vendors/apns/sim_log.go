package apns

import "sync"

// Received is one push the simulator accepted.
type Received struct {
	Env        string // "production" or "development"
	Token      string
	PushType   string // apns-push-type ("alert" when absent)
	Topic      string
	Priority   int    // apns-priority (10 when absent, as APNs)
	Expiration int64  // apns-expiration in unix seconds; -1 when absent
	CollapseID string // apns-collapse-id
	MessageID  string // the payload's top-level "message_id"
	Payload    []byte // the JSON payload as received
}

// Received returns the last pushes the simulator accepted (at most 10 000),
// oldest first.
func (s *Simulator) Received() []Received { return s.log.snapshot() }

// receivedLog is a bounded ring of accepted pushes.
type receivedLog struct {
	mu   sync.Mutex
	ring []Received
	next int // where the next entry goes once the ring is full
	cap  int
}

func newReceivedLog(n int) *receivedLog { return &receivedLog{cap: n} }

func (l *receivedLog) add(r Received) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < l.cap {
		l.ring = append(l.ring, r)
		return
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % l.cap
}

func (l *receivedLog) snapshot() []Received {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Received, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}
